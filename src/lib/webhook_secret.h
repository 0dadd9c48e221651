/* whsec_ signing secrets: generation and encryption at rest. Issue 3, destinations helper. (placeholder: to be written) */
#ifndef CIVIC_WEBHOOK_SECRET_H
#define CIVIC_WEBHOOK_SECRET_H

#endif
