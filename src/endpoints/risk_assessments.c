/* GET /v1/risk-assessments/ (placeholder: answers 404 until written). */
#include "server.h"

int main(void)
{
	return civic_serve("civic-risk-assessments", NULL, 0);
}
