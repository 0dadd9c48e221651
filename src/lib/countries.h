/* Supported countries: ISO 3166-1 alpha-2 codes and names from Debian's
 * iso-codes JSON, limited to the deployment's list (config
 * supported_countries, "*" for all). Loaded once per process and kept
 * in memory: it is reference data, read on every country check. */
#ifndef CIVIC_COUNTRIES_H
#define CIVIC_COUNTRIES_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

struct civic_country {
	char code[3];
	char *name;
};

/* Loads the table; false with a message in err on a missing or broken
 * file or an unknown code in the configured list. */
bool civic_countries_load(const struct civic_config *cfg, char *err, size_t errlen);
void civic_countries_free(void);
/* The table, sorted by code; *n receives its length. */
const struct civic_country *civic_countries_all(size_t *n);
/* The entry for an upper-case alpha-2 code, or NULL if not supported. */
const struct civic_country *civic_countries_find(const char *code);

#endif
