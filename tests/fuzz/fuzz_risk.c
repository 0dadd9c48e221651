/* The risk-import parser (civic-admin risk import): the first byte
 * picks the format (auto, JSON, CSV), the rest is the file. Properties:
 * every row it returns is valid on its own (a supported upper-case
 * country, level and score in range, assessed_at not in the future,
 * NUL-ended strings within their caps), rows are sorted by (country,
 * assessed_at), at most CIVIC_RISK_ERRORS_MAX errors are listed, and a
 * refused file says why. */
#include <string.h>

#include "countries.h"
#include "fuzz.h"
#include "risk.h"

#define NOW ((time_t)1750000000)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	FUZZ_LOAD_COUNTRIES("fuzz_risk");
	return 0;
}

static void check_row(const struct civic_risk_row *r)
{
	FUZZ_ASSERT(r->where >= 1);
	FUZZ_ASSERT(strlen(r->country) == 2 && civic_countries_find(r->country) != NULL);
	FUZZ_ASSERT(r->level >= CIVIC_RISK_LEVEL_MIN && r->level <= CIVIC_RISK_LEVEL_MAX);
	FUZZ_ASSERT(civic_risk_level_label(r->level) != NULL);
	FUZZ_ASSERT(r->score >= 0 && r->score <= 100);
	FUZZ_ASSERT(r->assessed_at <= NOW + CIVIC_RISK_FUTURE_MAX);
	FUZZ_ASSERT(r->nfactors <= CIVIC_RISK_FACTORS_MAX);
	FUZZ_ASSERT(r->nfactors == 0 || r->factors != NULL);
	for (size_t i = 0; i < r->nfactors; i++)
		FUZZ_ASSERT(r->factors[i] != NULL && strlen(r->factors[i]) <= 4 * CIVIC_RISK_FACTOR_MAX);
	if (r->summary)
		FUZZ_ASSERT(strlen(r->summary) <= 4 * CIVIC_RISK_SUMMARY_MAX);
	if (r->source)
		FUZZ_ASSERT(strlen(r->source) <= 4 * CIVIC_RISK_SOURCE_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum civic_risk_format FORMATS[] = {CIVIC_RISK_AUTO, CIVIC_RISK_JSON,
	                                                 CIVIC_RISK_CSV};
	struct civic_risk_batch b;
	enum civic_err err;

	if (size < 1)
		return 0;
	memset(&b, 0xA5, sizeof(b));
	err = civic_risk_parse((const char *)data + 1, size - 1, FORMATS[data[0] % 3], NOW, &b);
	FUZZ_ASSERT(err == CIVIC_OK || err == CIVIC_E_VALIDATION || err == CIVIC_E_INTERNAL);
	FUZZ_ASSERT(b.nerrors <= CIVIC_RISK_ERRORS_MAX);
	if (err == CIVIC_OK)
		FUZZ_ASSERT(b.nerrors == 0 && b.more_errors == 0);
	if (err == CIVIC_E_VALIDATION)
		FUZZ_ASSERT(b.nerrors > 0);
	for (size_t i = 0; i < b.nerrors; i++)
		FUZZ_ASSERT(b.errors[i] != NULL && strlen(b.errors[i]) > 0);
	for (size_t i = 0; i < b.nrows; i++) {
		check_row(&b.rows[i]);
		if (i > 0) {
			int c = strcmp(b.rows[i - 1].country, b.rows[i].country);
			FUZZ_ASSERT(c < 0 || (c == 0 && b.rows[i - 1].assessed_at <= b.rows[i].assessed_at));
		}
	}
	civic_risk_batch_free(&b);
	return 0;
}
