/* placeholder */
#include "console.h"

enum civic_err console_apps(struct console *c)
{
	(void)c;
	return CIVIC_E_NOT_FOUND;
}

enum civic_err console_app_create(struct console *c)
{
	(void)c;
	return CIVIC_E_NOT_FOUND;
}

enum civic_err console_app(struct console *c)
{
	(void)c;
	return CIVIC_E_NOT_FOUND;
}

enum civic_err console_key_issue(struct console *c)
{
	(void)c;
	return CIVIC_E_NOT_FOUND;
}

enum civic_err console_key_rotate(struct console *c)
{
	(void)c;
	return CIVIC_E_NOT_FOUND;
}

enum civic_err console_key_revoke_form(struct console *c)
{
	(void)c;
	return CIVIC_E_NOT_FOUND;
}

enum civic_err console_key_revoke(struct console *c)
{
	(void)c;
	return CIVIC_E_NOT_FOUND;
}
