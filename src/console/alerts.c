/* placeholder */
#include "console.h"

enum civic_err console_destinations(struct console *c)
{
	(void)c;
	return CIVIC_E_NOT_FOUND;
}

enum civic_err console_destination_create(struct console *c)
{
	(void)c;
	return CIVIC_E_NOT_FOUND;
}

enum civic_err console_destination_join(struct console *c)
{
	(void)c;
	return CIVIC_E_NOT_FOUND;
}

enum civic_err console_destination_delete_form(struct console *c)
{
	(void)c;
	return CIVIC_E_NOT_FOUND;
}

enum civic_err console_destination_delete(struct console *c)
{
	(void)c;
	return CIVIC_E_NOT_FOUND;
}

enum civic_err console_subscriptions(struct console *c)
{
	(void)c;
	return CIVIC_E_NOT_FOUND;
}

enum civic_err console_subscription_create(struct console *c)
{
	(void)c;
	return CIVIC_E_NOT_FOUND;
}

enum civic_err console_subscription_cancel(struct console *c)
{
	(void)c;
	return CIVIC_E_NOT_FOUND;
}

enum civic_err console_dispatches(struct console *c)
{
	(void)c;
	return CIVIC_E_NOT_FOUND;
}
