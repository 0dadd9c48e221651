/* Outbound URL and address policy (webhooks, SSRF guard). Issue 3, destinations helper. (placeholder: to be written) */
#ifndef CIVIC_OUTBOUND_H
#define CIVIC_OUTBOUND_H

#endif
