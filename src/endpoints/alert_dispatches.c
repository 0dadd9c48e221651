/* GET /v1/alert-dispatches/ (placeholder: answers 404 until written). */
#include "server.h"

int main(void)
{
	return civic_serve("civic-alert-dispatches", NULL, 0);
}
