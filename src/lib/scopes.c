#include "scopes.h"

#include <string.h>

static const char *const names[] = {
	"profile:read",       "profile:write",       "destinations:read",
	"destinations:write", "destinations:whatsapp:join", "subscriptions:read",
	"subscriptions:write", "dispatches:read",    "risk_assessments:read",
	"billing:read",       "countries:read",
};
#define NSCOPES (sizeof(names) / sizeof(names[0]))

const char *civic_scope_name(civic_scopes bit)
{
	for (size_t i = 0; i < NSCOPES; i++)
		if (bit == (1u << i))
			return names[i];
	return NULL;
}

bool civic_scopes_parse(const char *s, civic_scopes *out, const char **bad)
{
	civic_scopes acc = 0;

	while (s && *s) {
		size_t n = strcspn(s, " ,");
		size_t i;

		if (n == 3 && memcmp(s, "all", 3) == 0)
			acc |= CIVIC_SCOPE_ALL;
		else if (n > 0) {
			for (i = 0; i < NSCOPES; i++)
				if (strlen(names[i]) == n && memcmp(names[i], s, n) == 0)
					break;
			if (i == NSCOPES) {
				if (bad)
					*bad = s;
				return false;
			}
			acc |= 1u << i;
		}
		s += n;
		s += strspn(s, " ,");
	}
	*out = acc;
	return true;
}

json_object *civic_scopes_json(civic_scopes scopes)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; i < NSCOPES; i++)
		if (scopes & (1u << i))
			json_object_array_add(arr, json_object_new_string(names[i]));
	return arr;
}

bool civic_scopes_format(civic_scopes scopes, const char *sep, struct civic_buf *b)
{
	bool first = true;

	for (size_t i = 0; i < NSCOPES; i++) {
		if (!(scopes & (1u << i)))
			continue;
		if ((!first && !civic_buf_adds(b, sep)) || !civic_buf_adds(b, names[i]))
			return false;
		first = false;
	}
	return true;
}
