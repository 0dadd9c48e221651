/* Emailed link tokens (email_tokens table): mint, hash, redeem. Issue 3, destinations helper. (placeholder: to be written) */
#ifndef CIVIC_EMAIL_TOKENS_H
#define CIVIC_EMAIL_TOKENS_H

#endif
