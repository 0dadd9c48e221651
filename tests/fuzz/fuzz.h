/* Shared by the libFuzzer harnesses (docs/fuzzing.md):
 * a property the code under test promises, checked on every input. A
 * broken one aborts, and libFuzzer saves the input as a reproducer. */
#ifndef CIVIC_FUZZ_H
#define CIVIC_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FUZZ_ASSERT(cond)                                                                        \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: property broken: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                 \
		}                                                                                \
	} while (0)

/* Loads every ISO 3166-1 country as the deployment's list, for the
 * harnesses whose input names countries; aborts (naming who) if it
 * cannot. */
#define FUZZ_LOAD_COUNTRIES(who)                                                                 \
	do {                                                                                     \
		static struct civic_config cfg_;                                                 \
		char err_[256];                                                                  \
		cfg_.iso_3166_file = (char *)"/usr/share/iso-codes/json/iso_3166-1.json";        \
		cfg_.supported_countries = (char *)"*";                                          \
		if (!civic_countries_load(&cfg_, err_, sizeof(err_))) {                          \
			fprintf(stderr, "%s: %s\n", (who), err_);                                \
			abort();                                                                 \
		}                                                                                \
	} while (0)

#endif
