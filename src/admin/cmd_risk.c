/* civic-admin risk commands (placeholder). */
#include "admin.h"

int admin_risk_import(struct admin *a, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	admin_error(a, "not implemented yet");
	return ADMIN_EXIT_FAIL;
}
