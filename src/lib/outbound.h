/* The outbound address policy of the whole project (SPEC §6): which
 * addresses a request on behalf of a user (a webhook) may connect to.
 * Refused unless an allow-list range of the config covers them:
 * loopback, private, link-local (cloud metadata 169.254.169.254 too),
 * CGNAT, unspecified, multicast, broadcast, documentation and other
 * special-purpose ranges, IPv6 ULA and site-local, and the IPv6 forms
 * that carry one of the refused IPv4 addresses (IPv4-mapped and
 * -translated, NAT64, 6to4, Teredo; IPv4-compatible ::/96 entirely).
 *
 * Two places use it: the URL check when a webhook is created (a
 * literal IP host is judged at once; names are judged after DNS, when
 * connecting) and, in the dispatcher, libcurl's
 * CURLOPT_OPENSOCKETFUNCTION, which sees every address curl is about
 * to connect to, after resolution and for every redirect or retry:
 *
 *   struct civic_outbound_guard g = {.policy = &policy};
 *   curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, civic_outbound_opensocket);
 *   curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, &g);
 *   ... CURLE_COULDNT_CONNECT with g.refused set: the policy refused g.refused_addr.
 *
 * Pure computation apart from the socket that civic_outbound_opensocket
 * opens. No allocation: a policy is a plain value. */
#ifndef CIVIC_OUTBOUND_H
#define CIVIC_OUTBOUND_H

#include <curl/curl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define CIVIC_OUTBOUND_ALLOW_MAX 32 /* ranges in outbound_allow */
#define CIVIC_URL_MAX 2048          /* bytes of a webhook URL */

/* An address range; IPv4 is kept in its IPv4-mapped IPv6 form
 * (::ffff:a.b.c.d, prefix + 96), so one comparison serves both. */
struct civic_cidr {
	unsigned char addr[16];
	unsigned prefix; /* 0..128 */
};

struct civic_outbound {
	struct civic_cidr allow[CIVIC_OUTBOUND_ALLOW_MAX];
	size_t nallow;
};

/* Parses list ("127.0.0.0/8, ::1/128"; commas and/or blanks between
 * ranges; a bare address is a single host; host bits past the prefix
 * are ignored) into *out. list may be NULL or empty: nothing allowed
 * beyond the default policy. False with a message in err on a bad
 * range or more than CIVIC_OUTBOUND_ALLOW_MAX of them. */
bool civic_outbound_parse(const char *list, struct civic_outbound *out, char *err,
                          size_t errlen);

/* Parses one range ("10.0.0.0/8", "fe80::/10", "192.0.2.1"). */
bool civic_cidr_parse(const char *s, struct civic_cidr *out);

/* True when ip (16 bytes, IPv4 as ::ffff:a.b.c.d) lies in c. */
bool civic_cidr_contains(const struct civic_cidr *c, const unsigned char ip[16]);

/* May we connect to ip (16 bytes, IPv4 as ::ffff:a.b.c.d)? */
bool civic_outbound_allowed_ip(const struct civic_outbound *p, const unsigned char ip[16]);

/* The same for a socket address: AF_INET or AF_INET6 (any other family
 * is refused). sa may be NULL (refused). */
bool civic_outbound_allowed(const struct civic_outbound *p, const struct sockaddr *sa);

/* A literal address as text ("10.0.0.1", "::1", "[::1]"): allowed?
 * *is_ip tells whether host was a literal address at all (a name is
 * neither allowed nor refused here: the caller judges it after DNS). */
bool civic_outbound_allowed_host(const struct civic_outbound *p, const char *host, bool *is_ip);

/* Checks url as a webhook target and writes its normalised form (what
 * is stored and later fetched: lower-case scheme and host, dot segments
 * resolved) into out (outlen bytes, CIVIC_URL_MAX + 1 is enough).
 * Rules: printable ASCII, at most CIVIC_URL_MAX bytes; https, or http
 * when allow_http; a host; no user name or password; no fragment; a
 * literal IP host (and "localhost") must pass the policy. Returns NULL
 * when the URL is acceptable, else the reason (a static string for a
 * VALIDATION_ERROR map). */
const char *civic_outbound_check_url(const struct civic_outbound *p, bool allow_http,
                                     const char *url, char *out, size_t outlen);

/* Per-transfer state of civic_outbound_opensocket (its clientp). */
struct civic_outbound_guard {
	const struct civic_outbound *policy; /* borrowed */
	bool refused;                        /* set when an address was refused */
	char refused_addr[INET6_ADDRSTRLEN]; /* the last one refused, as text */
};

/* A curl_opensocket_callback: opens the socket (close-on-exec) when the
 * policy allows the address, else records it in the guard and returns
 * CURL_SOCKET_BAD, which fails the transfer with CURLE_COULDNT_CONNECT.
 * clientp is a struct civic_outbound_guard *. */
curl_socket_t civic_outbound_opensocket(void *clientp, curlsocktype purpose,
                                        struct curl_sockaddr *address);

#endif
