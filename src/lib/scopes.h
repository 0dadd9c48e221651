/* Scopes (SPEC §3) as bits, so checks are one AND. The names are the
 * wire form: space-separated in tokens, plans and the database. */
#ifndef CIVIC_SCOPES_H
#define CIVIC_SCOPES_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "buf.h"

typedef uint32_t civic_scopes;

enum {
	CIVIC_SCOPE_NONE = 0,
	CIVIC_SCOPE_PROFILE_READ = 1u << 0,
	CIVIC_SCOPE_PROFILE_WRITE = 1u << 1,
	CIVIC_SCOPE_DESTINATIONS_READ = 1u << 2,
	CIVIC_SCOPE_DESTINATIONS_WRITE = 1u << 3,
	CIVIC_SCOPE_DESTINATIONS_WHATSAPP_JOIN = 1u << 4,
	CIVIC_SCOPE_SUBSCRIPTIONS_READ = 1u << 5,
	CIVIC_SCOPE_SUBSCRIPTIONS_WRITE = 1u << 6,
	CIVIC_SCOPE_DISPATCHES_READ = 1u << 7,
	CIVIC_SCOPE_RISK_ASSESSMENTS_READ = 1u << 8,
	CIVIC_SCOPE_BILLING_READ = 1u << 9,
	CIVIC_SCOPE_COUNTRIES_READ = 1u << 10,
	CIVIC_SCOPE_ALL = (1u << 11) - 1,
};

/* Name of a single scope bit; NULL if bit is not exactly one known scope. */
const char *civic_scope_name(civic_scopes bit);

/* Parses a list of scope names separated by spaces or commas into *out.
 * Empty items are ignored; the word "all" means every scope. False on
 * an unknown name, with *bad (may be NULL) pointing at it (inside s). */
bool civic_scopes_parse(const char *s, civic_scopes *out, const char **bad);

/* Appends the names of scopes to b separated by sep, in canonical order. */
bool civic_scopes_format(civic_scopes scopes, const char *sep, struct civic_buf *b);

/* The names of scopes as a JSON array, in canonical order; the caller
 * owns it (json_object_put). Bits that name no scope are ignored. */
json_object *civic_scopes_json(civic_scopes scopes);

#endif
