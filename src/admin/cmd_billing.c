/* civic-admin billing commands (placeholder). */
#include "admin.h"

int admin_coins_credit(struct admin *a, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	admin_error(a, "not implemented yet");
	return ADMIN_EXIT_FAIL;
}

int admin_billing_renew(struct admin *a, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	admin_error(a, "not implemented yet");
	return ADMIN_EXIT_FAIL;
}

int admin_billing_cancel(struct admin *a, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	admin_error(a, "not implemented yet");
	return ADMIN_EXIT_FAIL;
}
