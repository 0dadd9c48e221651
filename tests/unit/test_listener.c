/* The FastCGI listening-socket policy: which addresses a responder may
 * serve on (civic_listener_allowed, over hand-built socket addresses),
 * and civic_listener_check over real descriptors: CGI's pipes, files
 * and closed fds pass, listening sockets pass only on a unix path or a
 * loopback address, and a refusal names the address. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "server.h"
#include "tap.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---------------------------------------------------------- addresses */

static const struct {
	const char *addr;
	bool allowed;
} inet_addrs[] = {
	{"127.0.0.1", true},       {"127.0.0.2", true},       {"127.255.255.254", true},
	{"127.1.2.3", true},       {"0.0.0.0", false},        {"10.0.0.1", false},
	{"192.0.2.2", false},      {"126.255.255.255", false}, {"128.0.0.1", false},
	{"255.255.255.255", false}, {"172.16.0.1", false},
};

static const struct {
	const char *addr;
	bool allowed;
} inet6_addrs[] = {
	{"::1", true},
	{"::ffff:127.0.0.1", true},
	{"::ffff:127.9.8.7", true},
	{"::", false},
	{"::ffff:0.0.0.0", false},
	{"::ffff:10.0.0.1", false},
	{"::ffff:128.0.0.1", false},
	{"::127.0.0.1", false}, /* IPv4-compatible, not mapped: no loopback */
	{"::2", false},
	{"fe80::1", false},
	{"fd00::2", false},
	{"2001:db8::1", false},
	{"0:0:0:0:0:1:0:1", false},
};

static void test_inet(void)
{
	for (size_t i = 0; i < NELEM(inet_addrs); i++) {
		struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(9000)};

		if (inet_pton(AF_INET, inet_addrs[i].addr, &in.sin_addr) != 1)
			diag("bad test address %s", inet_addrs[i].addr);
		ok(civic_listener_allowed((struct sockaddr *)&in, sizeof(in)) ==
		           inet_addrs[i].allowed,
		   "%s is %s", inet_addrs[i].addr, inet_addrs[i].allowed ? "allowed" : "refused");
	}
}

static void test_inet6(void)
{
	for (size_t i = 0; i < NELEM(inet6_addrs); i++) {
		struct sockaddr_in6 in6 = {.sin6_family = AF_INET6, .sin6_port = htons(9000)};

		if (inet_pton(AF_INET6, inet6_addrs[i].addr, &in6.sin6_addr) != 1)
			diag("bad test address %s", inet6_addrs[i].addr);
		ok(civic_listener_allowed((struct sockaddr *)&in6, sizeof(in6)) ==
		           inet6_addrs[i].allowed,
		   "%s is %s", inet6_addrs[i].addr, inet6_addrs[i].allowed ? "allowed" : "refused");
	}
}

static void test_other_families(void)
{
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	struct sockaddr_in in = {.sin_family = AF_INET};
	struct sockaddr_storage other = {.ss_family = AF_PACKET};

	snprintf(un.sun_path, sizeof(un.sun_path), "/run/civic/civic-token.sock");
	ok(civic_listener_allowed((struct sockaddr *)&un, sizeof(un)), "a unix path is allowed");
	ok(civic_listener_allowed((struct sockaddr *)&un, sizeof(sa_family_t)),
	   "an unnamed unix socket is allowed");
	ok(!civic_listener_allowed((struct sockaddr *)&other, sizeof(other)),
	   "an unknown family is refused");
	in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok(!civic_listener_allowed((struct sockaddr *)&in, sizeof(in) - 1),
	   "a truncated IPv4 address is refused");
	ok(!civic_listener_allowed((struct sockaddr *)&in, 1), "a truncated family is refused");
}

/* ------------------------------------------------------- descriptors */

/* A listening socket of family on text (port 0); -1 when the host
 * cannot have one (no IPv6). freebind allows an address the host does
 * not hold (what a typo in a deployment would bind). */
static int listening(int family, const char *text, bool freebind)
{
	struct sockaddr_storage ss = {.ss_family = (sa_family_t)family};
	socklen_t len;
	int fd, on = 1;

	if (family == AF_INET) {
		inet_pton(AF_INET, text, &((struct sockaddr_in *)&ss)->sin_addr);
		len = sizeof(struct sockaddr_in);
	} else {
		inet_pton(AF_INET6, text, &((struct sockaddr_in6 *)&ss)->sin6_addr);
		len = sizeof(struct sockaddr_in6);
	}
	if ((fd = socket(family, SOCK_STREAM, 0)) < 0)
		return -1;
	if (freebind)
		setsockopt(fd, family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6,
		           family == AF_INET ? IP_FREEBIND : IPV6_FREEBIND, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 1) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void check_socket(int family, const char *text, bool freebind, bool allowed,
                         const char *shown)
{
	char why[512] = "unset";
	int fd = listening(family, text, freebind);
	bool got;

	if (fd < 0) {
		ok(1, "listening on %s: skipped, the host cannot bind it (%s)", text,
		   strerror(errno));
		ok(1, "... skipped");
		return;
	}
	got = civic_listener_check(fd, why, sizeof(why));
	ok(got == allowed, "listening on %s is %s", text, allowed ? "allowed" : "refused");
	if (allowed)
		is_str(why, "", "... with no reason");
	else
		ok(strstr(why, shown) != NULL && strstr(why, "loopback") != NULL,
		   "... and the reason names %s: %s", shown, why);
	close(fd);
}

static void test_descriptors(void)
{
	char why[512], path[] = "/tmp/civic-test-listener-XXXXXX";
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	int p[2], sp[2], fd, file;

	ok(pipe(p) == 0, "a pipe");
	ok(civic_listener_check(p[0], why, sizeof(why)) && why[0] == '\0',
	   "CGI: a pipe on stdin is allowed");
	close(p[0]);
	close(p[1]);
	file = mkstemp(path);
	ok(file >= 0 && civic_listener_check(file, why, sizeof(why)), "CGI: a file is allowed");
	if (file >= 0) {
		close(file);
		unlink(path);
	}
	ok(civic_listener_check(1000, why, sizeof(why)), "a closed fd is allowed (CGI's behaviour)");
	ok(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0 &&
	           civic_listener_check(sp[0], why, sizeof(why)),
	   "a connected socket is allowed (CGI)");
	close(sp[0]);
	close(sp[1]);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	ok(fd >= 0 && civic_listener_check(fd, why, sizeof(why)),
	   "a TCP socket that does not listen is allowed (CGI)");
	close(fd);

	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(un.sun_path, sizeof(un.sun_path), "/tmp/civic-test-listener-%ld.sock",
	         (long)getpid());
	unlink(un.sun_path);
	ok(fd >= 0 && bind(fd, (struct sockaddr *)&un, sizeof(un)) == 0 && listen(fd, 1) == 0 &&
	           civic_listener_check(fd, why, sizeof(why)),
	   "a listening unix socket is allowed");
	close(fd);
	unlink(un.sun_path);

	check_socket(AF_INET, "127.0.0.1", false, true, "");
	check_socket(AF_INET, "127.3.2.1", false, true, "");
	check_socket(AF_INET, "0.0.0.0", false, false, "0.0.0.0:");
	check_socket(AF_INET, "192.0.2.77", true, false, "192.0.2.77:");
	check_socket(AF_INET6, "::1", false, true, "");
	check_socket(AF_INET6, "::ffff:127.0.0.1", false, true, "");
	check_socket(AF_INET6, "::", false, false, "[::]:");
	check_socket(AF_INET6, "2001:db8::77", true, false, "[2001:db8::77]:");

	fd = listening(AF_INET, "0.0.0.0", false);
	ok(fd >= 0 && !civic_listener_check(fd, NULL, 0), "a refusal with no room for the reason");
	if (fd >= 0)
		close(fd);
}

int main(void)
{
	plan((int)(NELEM(inet_addrs) + NELEM(inet6_addrs) + 5 + 7 + 8 * 2 + 1));
	test_inet();
	test_inet6();
	test_other_families();
	test_descriptors();
	return done_testing();
}
