/* placeholder */
#include "console.h"

enum civic_err console_profile_form(struct console *c)
{
	(void)c;
	return CIVIC_E_NOT_FOUND;
}

enum civic_err console_profile(struct console *c)
{
	(void)c;
	return CIVIC_E_NOT_FOUND;
}

enum civic_err console_usage(struct console *c)
{
	(void)c;
	return CIVIC_E_NOT_FOUND;
}

enum civic_err console_billing(struct console *c)
{
	(void)c;
	return CIVIC_E_NOT_FOUND;
}
