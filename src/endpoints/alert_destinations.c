/* /v1/alert-destinations/ (placeholder: answers 404 until written). */
#include "server.h"

int main(void)
{
	return civic_serve("civic-alert-destinations", NULL, 0);
}
