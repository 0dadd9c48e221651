/* The no-op FastCGI responder: the baseline every benchmark figure is a
 * ratio of. It accepts, writes a fixed small JSON envelope and nothing
 * else, through the same libfcgi FCGX loop as the real responders. */
#include <fcgiapp.h>

int main(void)
{
	static const char reply[] = "Status: 200 OK\r\n"
	                            "Content-Type: application/json; charset=utf-8\r\n"
	                            "Content-Length: 36\r\n\r\n"
	                            "{\"erc\":1,\"msg\":\"success\",\"data\":{}}\n";
	FCGX_Request rq;

	FCGX_Init();
	FCGX_InitRequest(&rq, 0, 0);
	while (FCGX_Accept_r(&rq) >= 0) {
		FCGX_PutStr(reply, sizeof(reply) - 1, rq.out);
		FCGX_Finish_r(&rq);
	}
	return 0;
}
