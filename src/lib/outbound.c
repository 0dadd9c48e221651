#include "outbound.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "num.h"

/* IPv4 ranges are kept as IPv4-mapped IPv6 (::ffff:0:0/96). */
#define V4(a, b, c, d, p) {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d}, 96 + (p)}

/* Never a webhook target unless the allow-list says so (IANA special-
 * purpose registries, the ranges that are not globally reachable). */
static const struct civic_cidr refused[] = {
	V4(0, 0, 0, 0, 8),        /* "this network", 0.0.0.0 */
	V4(10, 0, 0, 0, 8),       /* private */
	V4(100, 64, 0, 0, 10),    /* CGNAT shared address space */
	V4(127, 0, 0, 0, 8),      /* loopback */
	V4(169, 254, 0, 0, 16),   /* link-local, cloud metadata 169.254.169.254 */
	V4(172, 16, 0, 0, 12),    /* private */
	V4(192, 0, 0, 0, 24),     /* IETF protocol assignments */
	V4(192, 0, 2, 0, 24),     /* documentation */
	V4(192, 88, 99, 0, 24),   /* 6to4 relay anycast */
	V4(192, 168, 0, 0, 16),   /* private */
	V4(198, 18, 0, 0, 15),    /* benchmarking */
	V4(198, 51, 100, 0, 24),  /* documentation */
	V4(203, 0, 113, 0, 24),   /* documentation */
	V4(224, 0, 0, 0, 4),      /* multicast */
	V4(240, 0, 0, 0, 4),      /* reserved, broadcast 255.255.255.255 */
	{{0}, 96},                /* ::/96: unspecified, loopback, IPv4-compatible */
	{{0, 0x64, 0xff, 0x9b, 0, 1}, 48}, /* 64:ff9b:1::/48 local-use NAT64 */
	{{0x01, 0x00}, 64},       /* 100::/64 discard-only */
	{{0x20, 0x01, 0x00, 0x02}, 48},    /* 2001:2::/48 benchmarking */
	{{0x20, 0x01, 0x00, 0x10}, 28},    /* 2001:10::/28 ORCHID */
	{{0x20, 0x01, 0x0d, 0xb8}, 32},    /* 2001:db8::/32 documentation */
	{{0x3f, 0xff}, 20},       /* 3fff::/20 documentation */
	{{0xfc}, 7},              /* fc00::/7 unique local */
	{{0xfe, 0x80}, 10},       /* fe80::/10 link-local */
	{{0xfe, 0xc0}, 10},       /* fec0::/10 site-local (deprecated) */
	{{0xff}, 8},              /* ff00::/8 multicast */
};

/* IPv6 forms that carry an IPv4 address: where it sits, and whether
 * its bits are inverted (Teredo obfuscates the client address). The
 * carried address is judged as IPv4. IPv4-mapped needs no entry: it is
 * the form everything is compared in. */
struct carrier {
	struct civic_cidr range;
	unsigned offset;
	unsigned char xor;
};

static const struct carrier carriers[] = {
	{{{0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, 96}, 12, 0},    /* ::ffff:0:0:0/96 SIIT */
	{{{0, 0x64, 0xff, 0x9b}, 96}, 12, 0},                   /* 64:ff9b::/96 NAT64 */
	{{{0x20, 0x02}, 16}, 2, 0},                             /* 2002::/16 6to4 */
	{{{0x20, 0x01, 0x00, 0x00}, 32}, 12, 0xff},             /* 2001::/32 Teredo client */
};

bool civic_cidr_contains(const struct civic_cidr *c, const unsigned char ip[16])
{
	unsigned full = c->prefix / 8, rest = c->prefix % 8;

	if (memcmp(c->addr, ip, full) != 0)
		return false;
	if (rest == 0)
		return true;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (c->addr[full] & mask) == (ip[full] & mask);
}

static bool in_any(const struct civic_cidr *list, size_t n, const unsigned char ip[16])
{
	for (size_t i = 0; i < n; i++)
		if (civic_cidr_contains(&list[i], ip))
			return true;
	return false;
}

static void mapped(const unsigned char v4[4], unsigned char out[16])
{
	static const unsigned char prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	memcpy(out, prefix, 12);
	memcpy(out + 12, v4, 4);
}

/* The IPv4 address ip carries, as ::ffff:a.b.c.d; false if none. */
static bool carried(const unsigned char ip[16], unsigned char out[16])
{
	for (size_t i = 0; i < sizeof(carriers) / sizeof(carriers[0]); i++) {
		const struct carrier *c = &carriers[i];
		unsigned char v4[4];
		if (!civic_cidr_contains(&c->range, ip))
			continue;
		for (unsigned k = 0; k < 4; k++)
			v4[k] = ip[c->offset + k] ^ c->xor;
		mapped(v4, out);
		return true;
	}
	return false;
}

bool civic_outbound_allowed_ip(const struct civic_outbound *p, const unsigned char ip[16])
{
	unsigned char inner[16];
	bool has_inner = carried(ip, inner);

	/* The allow-list wins: the development stack allows 127.0.0.0/8. */
	if (in_any(p->allow, p->nallow, ip) || (has_inner && in_any(p->allow, p->nallow, inner)))
		return true;
	if (in_any(refused, sizeof(refused) / sizeof(refused[0]), ip))
		return false;
	return !(has_inner && in_any(refused, sizeof(refused) / sizeof(refused[0]), inner));
}

bool civic_outbound_allowed(const struct civic_outbound *p, const struct sockaddr *sa)
{
	unsigned char ip[16];

	if (sa == NULL)
		return false;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
		mapped((const unsigned char *)&in->sin_addr, ip);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
		memcpy(ip, &in6->sin6_addr, 16);
	} else
		return false;
	return civic_outbound_allowed_ip(p, ip);
}

/* A literal address into 16 bytes; "[v6]" brackets allowed. */
static bool parse_ip(const char *s, unsigned char ip[16])
{
	char tmp[INET6_ADDRSTRLEN + 2];
	size_t n = strlen(s);
	unsigned char v4[4];

	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		if (n - 2 >= sizeof(tmp))
			return false;
		memcpy(tmp, s + 1, n - 2);
		tmp[n - 2] = '\0';
		return inet_pton(AF_INET6, tmp, ip) == 1;
	}
	if (inet_pton(AF_INET, s, v4) == 1) {
		mapped(v4, ip);
		return true;
	}
	return inet_pton(AF_INET6, s, ip) == 1;
}

bool civic_cidr_parse(const char *s, struct civic_cidr *out)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	int64_t bits;
	bool v4;

	if (n == 0 || n >= sizeof(addr))
		return false;
	memcpy(addr, s, n);
	addr[n] = '\0';
	v4 = strchr(addr, ':') == NULL;
	if (addr[0] == '[' || !parse_ip(addr, out->addr))
		return false;
	if (slash == NULL)
		bits = v4 ? 32 : 128;
	else if (!civic_num_parse_str(slash + 1, 0, v4 ? 32 : 128, &bits))
		return false;
	out->prefix = (unsigned)bits + (v4 ? 96 : 0);
	/* Host bits past the prefix are cleared, so "10.1.2.3/8" is 10/8. */
	for (unsigned i = out->prefix; i < 128; i++)
		out->addr[i / 8] &= (unsigned char)~(0x80 >> (i % 8));
	return true;
}

bool civic_outbound_parse(const char *list, struct civic_outbound *out, char *err,
                          size_t errlen)
{
	static const char sep[] = ", \t";
	char item[64];

	memset(out, 0, sizeof(*out));
	for (const char *p = list ? list + strspn(list, sep) : ""; *p; p += strspn(p, sep)) {
		size_t n = strcspn(p, sep);
		if (out->nallow == CIVIC_OUTBOUND_ALLOW_MAX) {
			snprintf(err, errlen, "outbound_allow: more than %d ranges",
			         CIVIC_OUTBOUND_ALLOW_MAX);
			return false;
		}
		if (n < sizeof(item)) {
			memcpy(item, p, n);
			item[n] = '\0';
		}
		if (n >= sizeof(item) || !civic_cidr_parse(item, &out->allow[out->nallow])) {
			snprintf(err, errlen, "outbound_allow: '%.*s' is not an address range",
			         (int)(n > 64 ? 64 : n), p);
			return false;
		}
		out->nallow++;
		p += n;
	}
	return true;
}

/* RFC 6761: these names always mean the loopback interface. */
static bool is_localhost(const char *host)
{
	size_t n = strlen(host);

	if (n > 0 && host[n - 1] == '.')
		n--;
	return (n == 9 && strncasecmp(host, "localhost", 9) == 0) ||
	       (n > 10 && strncasecmp(host + n - 10, ".localhost", 10) == 0);
}

bool civic_outbound_allowed_host(const struct civic_outbound *p, const char *host, bool *is_ip)
{
	static const unsigned char loop4[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1};
	static const unsigned char loop6[16] = {[15] = 1};
	unsigned char ip[16];

	*is_ip = false;
	if (host == NULL)
		return false;
	if (is_localhost(host)) {
		*is_ip = true;
		return civic_outbound_allowed_ip(p, loop4) && civic_outbound_allowed_ip(p, loop6);
	}
	if (!parse_ip(host, ip))
		return false;
	*is_ip = true;
	return civic_outbound_allowed_ip(p, ip);
}

/* Printable ASCII, no spaces: what the URL check accepts before curl. */
static bool printable_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/* Is part present (even empty) in u? */
static bool has_part(CURLU *u, CURLUPart part)
{
	char *v = NULL;
	CURLUcode rc = curl_url_get(u, part, &v, 0);

	curl_free(v);
	return rc == CURLUE_OK;
}

/* Lower-cases the host in u (curl keeps its case) so that one URL is
 * stored one way. */
static bool lower_host(CURLU *u, char **host)
{
	if (curl_url_get(u, CURLUPART_HOST, host, 0) != CURLUE_OK)
		return false;
	for (char *c = *host; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return curl_url_set(u, CURLUPART_HOST, *host, 0) == CURLUE_OK;
}

/* The rules that need curl's parse; u holds the URL. */
static const char *check_parts(const struct civic_outbound *p, bool allow_http, CURLU *u,
                               char **host)
{
	char *scheme = NULL;
	bool https, http, is_ip;

	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK)
		return "must be an absolute URL";
	https = strcmp(scheme, "https") == 0;
	http = strcmp(scheme, "http") == 0;
	curl_free(scheme);
	if (!https && !(http && allow_http))
		return allow_http ? "must be an https:// or http:// URL" : "must be an https:// URL";
	if (has_part(u, CURLUPART_USER) || has_part(u, CURLUPART_PASSWORD))
		return "must not contain a user name or password";
	if (has_part(u, CURLUPART_ZONEID))
		return "must not name an IPv6 zone";
	if (!lower_host(u, host) || **host == '\0')
		return "must name a host";
	if (!civic_outbound_allowed_host(p, *host, &is_ip) && is_ip)
		return "must not point at a private, loopback, link-local or reserved address";
	return NULL;
}

const char *civic_outbound_check_url(const struct civic_outbound *p, bool allow_http,
                                     const char *url, char *out, size_t outlen)
{
	const char *why = NULL, *sep;
	char *host = NULL, *norm = NULL;
	CURLU *u;

	if (strlen(url) > CIVIC_URL_MAX)
		return "must be at most 2048 bytes";
	if (!printable_ascii(url))
		return "must be printable ASCII without spaces (percent-encode the rest)";
	if (strchr(url, '#'))
		return "must not contain a fragment (#...)";
	/* curl would read "https:///x" as host x: an authority is required. */
	if ((sep = strstr(url, "://")) == NULL || sep[3] == '/' || sep[3] == '\0')
		return "must be an absolute URL with a host";
	if ((u = curl_url()) == NULL)
		return "could not be checked";
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
		why = "is not a valid URL";
	else if ((why = check_parts(p, allow_http, u, &host)) == NULL) {
		if (curl_url_get(u, CURLUPART_URL, &norm, 0) != CURLUE_OK)
			why = "is not a valid URL";
		else if (strlen(norm) > CIVIC_URL_MAX || strlen(norm) >= outlen)
			why = "must be at most 2048 bytes";
		else
			memcpy(out, norm, strlen(norm) + 1);
	}
	curl_free(norm);
	curl_free(host);
	curl_url_cleanup(u);
	return why;
}

curl_socket_t civic_outbound_opensocket(void *clientp, curlsocktype purpose,
                                        struct curl_sockaddr *address)
{
	struct civic_outbound_guard *g = clientp;
	const struct sockaddr *sa = &address->addr;

	/* Only outgoing connections; an FTP-style accept socket is refused. */
	if (purpose == CURLSOCKTYPE_IPCXN && civic_outbound_allowed(g->policy, sa))
		return socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
	g->refused = true;
	g->refused_addr[0] = '\0';
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
		          g->refused_addr, sizeof(g->refused_addr));
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
		          g->refused_addr, sizeof(g->refused_addr));
	return CURL_SOCKET_BAD;
}
