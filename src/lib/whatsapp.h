/* The WhatsApp gateway client (docs/whatsapp-gateway.md). Issue 3, destinations helper. (placeholder: to be written) */
#ifndef CIVIC_WHATSAPP_H
#define CIVIC_WHATSAPP_H

#endif
