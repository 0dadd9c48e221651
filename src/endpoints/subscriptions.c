/* GET /v1/subscriptions/ (placeholder: answers 404 until written). */
#include "server.h"

int main(void)
{
	return civic_serve("civic-subscriptions", NULL, 0);
}
