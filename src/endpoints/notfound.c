/* Every path no other responder serves: the 404 envelope, so that a
 * client never sees the web server's HTML error page under /v1/. */
#include "server.h"

int main(void)
{
	return civic_serve("civic-notfound", NULL, 0);
}
