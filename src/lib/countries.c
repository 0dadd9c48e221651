#include "countries.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct civic_country *table;
static size_t count;

static int by_code(const void *a, const void *b)
{
	return strcmp(((const struct civic_country *)a)->code,
	              ((const struct civic_country *)b)->code);
}

/* True when code is in the comma-separated list (or the list is "*"). */
static bool listed(const char *list, const char *code)
{
	if (strcmp(list, "*") == 0)
		return true;
	for (const char *p = list; *p;) {
		size_t n;
		p += strspn(p, " ,");
		n = strcspn(p, " ,");
		if (n == 2 && memcmp(p, code, 2) == 0)
			return true;
		p += n;
	}
	return false;
}

static bool fill(json_object *arr, const char *list)
{
	size_t n = json_object_array_length(arr);

	if ((table = calloc(n ? n : 1, sizeof(*table))) == NULL)
		return false;
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(arr, i), *code, *name;
		const char *c;
		if (!json_object_object_get_ex(e, "alpha_2", &code) ||
		    !json_object_object_get_ex(e, "name", &name))
			continue;
		c = json_object_get_string(code);
		if (strlen(c) != 2 || !listed(list, c))
			continue;
		memcpy(table[count].code, c, 3);
		if ((table[count].name = strdup(json_object_get_string(name))) == NULL)
			return false;
		count++;
	}
	qsort(table, count, sizeof(*table), by_code);
	return true;
}

/* Every code of the configured list must exist: a typo is a startup error. */
static const char *first_unknown(const char *list, char out[3])
{
	if (strcmp(list, "*") == 0)
		return NULL;
	for (const char *p = list; *p;) {
		size_t n;
		p += strspn(p, " ,");
		n = strcspn(p, " ,");
		if (n > 0) {
			snprintf(out, 3, "%.*s", (int)(n > 2 ? 2 : n), p);
			if (n != 2 || civic_countries_find(out) == NULL)
				return p;
		}
		p += n;
	}
	return NULL;
}

bool civic_countries_load(const struct civic_config *cfg, char *err, size_t errlen)
{
	json_object *root = json_object_from_file(cfg->iso_3166_file), *arr;
	const char *bad;
	char code[3];
	bool ok = false;

	civic_countries_free();
	if (root == NULL || !json_object_object_get_ex(root, "3166-1", &arr) ||
	    !json_object_is_type(arr, json_type_array)) {
		snprintf(err, errlen, "cannot read ISO 3166-1 data from %s (install iso-codes)",
		         cfg->iso_3166_file);
		goto out;
	}
	if (!fill(arr, cfg->supported_countries)) {
		snprintf(err, errlen, "out of memory loading countries");
		goto out;
	}
	if ((bad = first_unknown(cfg->supported_countries, code)) != NULL) {
		snprintf(err, errlen, "supported_countries: unknown ISO 3166-1 alpha-2 code near \"%.8s\"",
		         bad);
		goto out;
	}
	ok = true;
out:
	json_object_put(root);
	if (!ok)
		civic_countries_free();
	return ok;
}

void civic_countries_free(void)
{
	for (size_t i = 0; i < count; i++)
		free(table[i].name);
	free(table);
	table = NULL;
	count = 0;
}

const struct civic_country *civic_countries_all(size_t *n)
{
	*n = count;
	return table;
}

const struct civic_country *civic_countries_find(const char *code)
{
	struct civic_country key;

	if (code == NULL || strlen(code) != 2 || table == NULL)
		return NULL;
	memcpy(key.code, code, 3);
	return bsearch(&key, table, count, sizeof(*table), by_code);
}
