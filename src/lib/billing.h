/* Billing (SPEC §3, seed 003): coins, subscriptions, renewals. Issue 3, billing helper. (placeholder: to be written) */
#ifndef CIVIC_BILLING_H
#define CIVIC_BILLING_H

#endif
