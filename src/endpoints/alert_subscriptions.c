/* /v1/alert-subscriptions/ (placeholder: answers 404 until written). */
#include "server.h"

int main(void)
{
	return civic_serve("civic-alert-subscriptions", NULL, 0);
}
