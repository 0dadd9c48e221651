/* The outbound address policy (ranges, IPv6 forms of IPv4, allow-list,
 * the curl opensocket hook), the webhook URL check, webhook secrets
 * (format, seal/open, tampering, wrong account or pepper) and the shapes
 * of link tokens and WhatsApp invite links. */
#define _GNU_SOURCE /* memmem */
#include <arpa/inet.h>
#include <sodium.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "email_tokens.h"
#include "outbound.h"
#include "tap.h"
#include "webhook_secret.h"
#include "whatsapp.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char DEV_ALLOW[] = "127.0.0.0/8, ::1/128";

static void ip16(const char *text, unsigned char out[16])
{
	struct civic_cidr c;

	memset(out, 0, 16);
	if (civic_cidr_parse(text, &c))
		memcpy(out, c.addr, 16);
	else
		diag("bad test address %s", text);
}

/* ---------------------------------------------------------- ranges */

static const struct {
	const char *text;
	bool ok;
	unsigned prefix;
} cidrs[] = {
	{"10.0.0.0/8", true, 104},    {"192.0.2.1", true, 128},     {"0.0.0.0/0", true, 96},
	{"::1/128", true, 128},       {"fe80::/10", true, 10},      {"::/0", true, 0},
	{"2001:db8::1", true, 128},   {"10.0.0.0/33", false, 0},    {"::/129", false, 0},
	{"10.0.0.0/", false, 0},      {"/8", false, 0},             {"10.0.0.0/08", false, 0},
	{"10.0.0.0/-1", false, 0},    {"example.com", false, 0},    {"[::1]/128", false, 0},
	{"10.0.0.0/8x", false, 0},    {"1.2.3", false, 0},          {"", false, 0},
};

static void test_cidr_parse(void)
{
	struct civic_cidr c;
	unsigned char ip[16];

	for (size_t i = 0; i < NELEM(cidrs); i++) {
		bool got = civic_cidr_parse(cidrs[i].text, &c);
		ok(got == cidrs[i].ok && (!got || c.prefix == cidrs[i].prefix), "cidr '%s' %s",
		   cidrs[i].text, cidrs[i].ok ? "parses" : "is refused");
	}
	ok(civic_cidr_parse("10.1.2.3/8", &c), "host bits past the prefix are accepted");
	ip16("10.0.0.0", ip);
	ok(memcmp(c.addr, ip, 16) == 0, "... and cleared");
	ip16("11.0.0.0", ip);
	ok(!civic_cidr_contains(&c, ip), "10/8 does not contain 11.0.0.0");
	ip16("10.255.255.255", ip);
	ok(civic_cidr_contains(&c, ip), "10/8 contains 10.255.255.255");
}

static void test_policy_parse(void)
{
	struct civic_outbound p;
	char err[256], list[32 * 16 + 1] = "";

	ok(civic_outbound_parse(DEV_ALLOW, &p, err, sizeof(err)) && p.nallow == 2,
	   "the development allow-list parses to 2 ranges");
	ok(civic_outbound_parse(" 10.0.0.0/8 ,,\t192.168.0.0/16 fd00::/8 ", &p, err, sizeof(err)) &&
	       p.nallow == 3,
	   "commas and blanks separate ranges");
	ok(civic_outbound_parse("", &p, err, sizeof(err)) && p.nallow == 0, "empty list");
	ok(civic_outbound_parse(NULL, &p, err, sizeof(err)) && p.nallow == 0, "NULL list");
	ok(!civic_outbound_parse("10.0.0.0/8, nonsense", &p, err, sizeof(err)) &&
	       strstr(err, "nonsense") != NULL,
	   "a bad range is refused and named: %s", err);
	for (int i = 0; i < CIVIC_OUTBOUND_ALLOW_MAX; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "10.%d.0.0/16,", i);
	ok(civic_outbound_parse(list, &p, err, sizeof(err)) && p.nallow == CIVIC_OUTBOUND_ALLOW_MAX,
	   "%d ranges fit", CIVIC_OUTBOUND_ALLOW_MAX);
	strcat(list, "11.0.0.0/8");
	ok(!civic_outbound_parse(list, &p, err, sizeof(err)), "one more is refused: %s", err);
}

/* ------------------------------------------------------- addresses */

/* Judged under the default policy (nothing allowed beyond it). */
static const struct {
	const char *ip;
	bool allowed;
} addrs[] = {
	{"8.8.8.8", true},
	{"1.1.1.1", true},
	{"11.0.0.1", true},
	{"172.15.255.255", true},
	{"172.32.0.1", true},
	{"100.63.255.255", true},
	{"100.128.0.1", true},
	{"169.253.255.255", true},
	{"192.169.0.1", true},
	{"223.255.255.255", true},
	{"2606:4700:4700::1111", true},
	{"2001:4860:4860::8888", true},
	{"::ffff:8.8.8.8", true},
	{"64:ff9b::808:808", true},
	{"2002:808:808::1", true},
	{"2001:0:4136:e378:8000:63bf:f7f7:f7f7", true}, /* Teredo, client 8.8.8.8 */
	{"0.0.0.0", false},
	{"0.1.2.3", false},
	{"10.0.0.1", false},
	{"10.255.255.255", false},
	{"100.64.0.1", false},
	{"100.127.255.255", false},
	{"127.0.0.1", false},
	{"127.255.255.254", false},
	{"169.254.0.1", false},
	{"169.254.169.254", false},
	{"172.16.0.1", false},
	{"172.31.255.255", false},
	{"192.0.0.8", false},
	{"192.0.2.1", false},
	{"192.168.0.1", false},
	{"192.168.255.255", false},
	{"198.18.0.1", false},
	{"198.51.100.1", false},
	{"203.0.113.1", false},
	{"224.0.0.1", false},
	{"239.255.255.255", false},
	{"240.0.0.1", false},
	{"255.255.255.255", false},
	{"::", false},
	{"::1", false},
	{"::2", false},
	{"::127.0.0.1", false},            /* IPv4-compatible */
	{"::8.8.8.8", false},              /* IPv4-compatible: all of ::/96 */
	{"::ffff:127.0.0.1", false},       /* IPv4-mapped */
	{"::ffff:10.0.0.1", false},
	{"::ffff:169.254.169.254", false},
	{"::ffff:0:7f00:1", false},        /* IPv4-translated (SIIT) */
	{"64:ff9b::7f00:1", false},        /* NAT64 of 127.0.0.1 */
	{"64:ff9b::a9fe:a9fe", false},     /* NAT64 of 169.254.169.254 */
	{"64:ff9b:1::808:808", false},     /* local-use NAT64 */
	{"2002:7f00:1::1", false},         /* 6to4 of 127.0.0.1 */
	{"2002:a00:1::", false},           /* 6to4 of 10.0.0.1 */
	{"2001:0:4136:e378:8000:63bf:80ff:fffe", false}, /* Teredo, client 127.0.0.1 */
	{"100::1", false},
	{"2001:db8::1", false},
	{"3fff::1", false},
	{"fc00::1", false},
	{"fd12:3456::1", false},
	{"fe80::1", false},
	{"febf:ffff::1", false},
	{"fec0::1", false},
	{"ff02::1", false},
};

static void test_default_policy(void)
{
	struct civic_outbound p;
	unsigned char ip[16];
	char err[64];

	civic_outbound_parse("", &p, err, sizeof(err));
	for (size_t i = 0; i < NELEM(addrs); i++) {
		ip16(addrs[i].ip, ip);
		ok(civic_outbound_allowed_ip(&p, ip) == addrs[i].allowed, "%s is %s", addrs[i].ip,
		   addrs[i].allowed ? "allowed" : "refused");
	}
}

/* The development allow-list lets loopback through, in every form that
 * carries it, and nothing else. */
static const struct {
	const char *ip;
	bool allowed;
} dev_addrs[] = {
	{"127.0.0.1", true},        {"127.1.2.3", true},       {"::1", true},
	{"::ffff:127.0.0.1", true}, {"64:ff9b::7f00:1", true}, {"8.8.8.8", true},
	{"10.0.0.1", false},        {"::2", false},            {"169.254.169.254", false},
	{"fe80::1", false},
};

static void test_allow_list(void)
{
	struct civic_outbound p;
	unsigned char ip[16];
	char err[64];

	civic_outbound_parse(DEV_ALLOW, &p, err, sizeof(err));
	for (size_t i = 0; i < NELEM(dev_addrs); i++) {
		ip16(dev_addrs[i].ip, ip);
		ok(civic_outbound_allowed_ip(&p, ip) == dev_addrs[i].allowed,
		   "with %s: %s is %s", DEV_ALLOW, dev_addrs[i].ip,
		   dev_addrs[i].allowed ? "allowed" : "refused");
	}
	civic_outbound_parse("10.1.0.0/16", &p, err, sizeof(err));
	ip16("10.1.2.3", ip);
	ok(civic_outbound_allowed_ip(&p, ip), "an allowed private range passes");
	ip16("10.2.0.1", ip);
	ok(!civic_outbound_allowed_ip(&p, ip), "its neighbour does not");
}

static void test_sockaddr(void)
{
	struct civic_outbound strict, dev;
	struct sockaddr_in in = {.sin_family = AF_INET};
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	char err[64];

	civic_outbound_parse("", &strict, err, sizeof(err));
	civic_outbound_parse(DEV_ALLOW, &dev, err, sizeof(err));
	inet_pton(AF_INET, "127.0.0.1", &in.sin_addr);
	ok(!civic_outbound_allowed(&strict, (struct sockaddr *)&in), "AF_INET loopback refused");
	ok(civic_outbound_allowed(&dev, (struct sockaddr *)&in), "... allowed in development");
	inet_pton(AF_INET, "93.184.216.34", &in.sin_addr);
	ok(civic_outbound_allowed(&strict, (struct sockaddr *)&in), "AF_INET public allowed");
	inet_pton(AF_INET6, "::ffff:192.168.1.1", &in6.sin6_addr);
	ok(!civic_outbound_allowed(&dev, (struct sockaddr *)&in6), "AF_INET6 mapped private refused");
	inet_pton(AF_INET6, "2606:4700::1", &in6.sin6_addr);
	ok(civic_outbound_allowed(&strict, (struct sockaddr *)&in6), "AF_INET6 public allowed");
	ok(!civic_outbound_allowed(&dev, (struct sockaddr *)&un), "AF_UNIX refused");
	ok(!civic_outbound_allowed(&dev, NULL), "NULL refused");
}

static void test_hosts(void)
{
	struct civic_outbound strict, dev;
	char err[64];
	bool is_ip;

	civic_outbound_parse("", &strict, err, sizeof(err));
	civic_outbound_parse(DEV_ALLOW, &dev, err, sizeof(err));
	ok(!civic_outbound_allowed_host(&strict, "localhost", &is_ip) && is_ip,
	   "localhost is loopback: refused");
	ok(!civic_outbound_allowed_host(&strict, "API.LOCALHOST.", &is_ip) && is_ip,
	   "so is any name under .localhost");
	ok(civic_outbound_allowed_host(&dev, "localhost", &is_ip), "allowed in development");
	ok(!civic_outbound_allowed_host(&strict, "example.com", &is_ip) && !is_ip,
	   "a name is left to the connect-time check");
	ok(!civic_outbound_allowed_host(&strict, "notlocalhost", &is_ip) && !is_ip,
	   "notlocalhost is just a name");
	ok(!civic_outbound_allowed_host(&strict, "[::1]", &is_ip) && is_ip, "[::1] refused");
	ok(civic_outbound_allowed_host(&strict, "[2606:4700::1]", &is_ip) && is_ip,
	   "[2606:4700::1] allowed");
}

/* ----------------------------------------------------- URL checks */

static const struct {
	const char *url;
	bool allow_http, dev;
	const char *stored; /* NULL: refused */
} urls[] = {
	{"https://example.com/hook", false, false, "https://example.com/hook"},
	{"HTTPS://Example.COM/Path?q=1", false, false, "https://example.com/Path?q=1"},
	{"https://example.com", false, false, "https://example.com/"},
	{"https://hooks.example.com:8443/a/../b", false, false, "https://hooks.example.com:8443/b"},
	{"https://8.8.8.8/x", false, false, "https://8.8.8.8/x"},
	{"https://[2606:4700::1]/x", false, false, "https://[2606:4700::1]/x"},
	{"http://example.com/", true, false, "http://example.com/"},
	{"http://example.com/", false, false, NULL},
	{"http://127.0.0.1:9/x", true, true, "http://127.0.0.1:9/x"},
	{"http://localhost:9/x", true, true, "http://localhost:9/x"},
	{"http://[::1]:9/x", true, true, "http://[::1]:9/x"},
	{"http://10.0.0.1/x", true, true, NULL},
	{"ftp://example.com/", true, false, NULL},
	{"file:///etc/passwd", true, false, NULL},
	{"gopher://example.com/", true, false, NULL},
	{"javascript:alert(1)", true, false, NULL},
	{"example.com/hook", false, false, NULL},
	{"//example.com/hook", false, false, NULL},
	{"https:///example.com", false, false, NULL},
	{"https://", false, false, NULL},
	{"https://user:pw@example.com/", false, false, NULL},
	{"https://user@example.com/", false, false, NULL},
	{"https://@example.com/", false, false, NULL},
	{"https://example.com/#frag", false, false, NULL},
	{"https://example.com/a b", false, false, NULL},
	{"https://ex\xc3\xa4mple.com/", false, false, NULL},
	{"https://example.com/\t", false, false, NULL},
	{"https://10.0.0.1/", false, false, NULL},
	{"https://127.0.0.1/", false, false, NULL},
	{"https://2130706433/", false, false, NULL},   /* 127.0.0.1 as one number */
	{"https://0x7f.1/", false, false, NULL},       /* and in hex */
	{"https://0/", false, false, NULL},            /* 0.0.0.0 */
	{"https://[::1]/", false, false, NULL},
	{"https://[::ffff:10.0.0.1]/", false, false, NULL},
	{"https://169.254.169.254/latest/meta-data/", false, false, NULL},
	{"https://[fe80::1%25eth0]/", false, false, NULL},
	{"https://localhost/", false, false, NULL},
	{"https://a.localhost/", false, false, NULL},
	{"https://example.com:99999/", false, false, NULL},
};

static void test_urls(void)
{
	struct civic_outbound strict, dev;
	char out[CIVIC_URL_MAX + 1], err[64], long_url[CIVIC_URL_MAX + 2];
	const char *why;

	civic_outbound_parse("", &strict, err, sizeof(err));
	civic_outbound_parse(DEV_ALLOW, &dev, err, sizeof(err));
	for (size_t i = 0; i < NELEM(urls); i++) {
		out[0] = '\0';
		why = civic_outbound_check_url(urls[i].dev ? &dev : &strict, urls[i].allow_http,
		                               urls[i].url, out, sizeof(out));
		if (urls[i].stored)
			ok(why == NULL && strcmp(out, urls[i].stored) == 0, "%s accepted as %s (%s)",
			   urls[i].url, out, why ? why : "ok");
		else
			ok(why != NULL, "%s refused: %s", urls[i].url, why ? why : "ACCEPTED");
	}
	/* 2048 bytes exactly, then one more. */
	strcpy(long_url, "https://example.com/");
	memset(long_url + strlen(long_url), 'a', CIVIC_URL_MAX - strlen(long_url));
	long_url[CIVIC_URL_MAX] = '\0';
	ok(civic_outbound_check_url(&strict, false, long_url, out, sizeof(out)) == NULL,
	   "a URL of 2048 bytes is accepted");
	strcat(long_url, "a");
	ok(civic_outbound_check_url(&strict, false, long_url, out, sizeof(out)) != NULL,
	   "2049 bytes are refused");
	ok(strcmp(civic_outbound_check_url(&strict, false, "http://example.com/", out, sizeof(out)),
	          "must be an https:// URL") == 0,
	   "the reason names https when http is not allowed");
}

/* ------------------------------------------------- opensocket hook */

static void test_opensocket(void)
{
	struct civic_outbound strict;
	struct civic_outbound_guard g = {.policy = &strict};
	struct curl_sockaddr a = {.family = AF_INET, .socktype = SOCK_STREAM, .protocol = 0,
	                          .addrlen = sizeof(struct sockaddr_in)};
	struct sockaddr_in *in = (struct sockaddr_in *)(void *)&a.addr;
	char err[64];
	curl_socket_t s;

	civic_outbound_parse("", &strict, err, sizeof(err));
	in->sin_family = AF_INET;
	inet_pton(AF_INET, "169.254.169.254", &in->sin_addr);
	s = civic_outbound_opensocket(&g, CURLSOCKTYPE_IPCXN, &a);
	ok(s == CURL_SOCKET_BAD && g.refused, "metadata address: no socket, guard set");
	is_str(g.refused_addr, "169.254.169.254", "the refused address is recorded");
	g.refused = false;
	inet_pton(AF_INET, "93.184.216.34", &in->sin_addr);
	s = civic_outbound_opensocket(&g, CURLSOCKTYPE_IPCXN, &a);
	ok(s != CURL_SOCKET_BAD && !g.refused, "public address: a socket, nothing refused");
	if (s != CURL_SOCKET_BAD)
		close(s);
	s = civic_outbound_opensocket(&g, CURLSOCKTYPE_ACCEPT, &a);
	ok(s == CURL_SOCKET_BAD && g.refused, "an accept socket is never opened");
}

/* ------------------------------------------------- webhook secrets */

static void test_webhook_secret(void)
{
	struct civic_secret pepper = {.len = 48}, other_pepper = {.len = 48};
	unsigned char key[CIVIC_WHSEC_KEY_LEN], key2[CIVIC_WHSEC_KEY_LEN], got[CIVIC_WHSEC_KEY_LEN];
	unsigned char sealed[CIVIC_WHSEC_SEALED_LEN], sealed2[CIVIC_WHSEC_SEALED_LEN];
	unsigned char decoded[64];
	char text[CIVIC_WHSEC_TEXT_LEN + 1];
	size_t dlen = 0;
	bool all_fail = true;

	randombytes_buf(pepper.bytes, pepper.len);
	randombytes_buf(other_pepper.bytes, other_pepper.len);
	civic_webhook_secret_generate(key);
	civic_webhook_secret_generate(key2);
	ok(memcmp(key, key2, sizeof(key)) != 0, "two secrets differ");
	civic_webhook_secret_format(key, text);
	ok(strncmp(text, "whsec_", 6) == 0 && strlen(text) == CIVIC_WHSEC_TEXT_LEN,
	   "format: whsec_ and 44 base64 characters (%s...)", "whsec_");
	ok(sodium_base642bin(decoded, sizeof(decoded), text + 6, strlen(text + 6), NULL, &dlen, NULL,
	                     sodium_base64_VARIANT_ORIGINAL) == 0 &&
	       dlen == sizeof(key) && memcmp(decoded, key, sizeof(key)) == 0,
	   "the base64 part decodes to the key (Standard Webhooks)");

	civic_webhook_secret_seal(&pepper, 42, key, sealed);
	civic_webhook_secret_seal(&pepper, 42, key, sealed2);
	ok(memcmp(sealed, sealed2, sizeof(sealed)) != 0, "sealing twice gives different bytes");
	ok(memmem(sealed, sizeof(sealed), key, sizeof(key)) == NULL, "the key is not in the clear");
	ok(civic_webhook_secret_open(&pepper, 42, sealed, sizeof(sealed), got) &&
	       memcmp(got, key, sizeof(key)) == 0,
	   "seal/open round trip");
	ok(civic_webhook_secret_open(&pepper, 42, sealed2, sizeof(sealed2), got) &&
	       memcmp(got, key, sizeof(key)) == 0,
	   "the second sealing opens too");
	ok(!civic_webhook_secret_open(&pepper, 43, sealed, sizeof(sealed), got),
	   "another account's id does not open it");
	ok(sodium_is_zero(got, sizeof(got)), "... and the output is zeroed");
	ok(!civic_webhook_secret_open(&other_pepper, 42, sealed, sizeof(sealed), got),
	   "another pepper does not open it");
	ok(!civic_webhook_secret_open(&pepper, 42, sealed, sizeof(sealed) - 1, got),
	   "a short blob is refused");
	ok(!civic_webhook_secret_open(&pepper, 42, NULL, 0, got), "NULL is refused");
	/* Every single-byte change (version, nonce, ciphertext, tag) fails. */
	for (size_t i = 0; i < sizeof(sealed); i++) {
		memcpy(sealed2, sealed, sizeof(sealed));
		sealed2[i] ^= 0x01;
		if (civic_webhook_secret_open(&pepper, 42, sealed2, sizeof(sealed2), got))
			all_fail = false;
	}
	ok(all_fail, "flipping any one of the %d bytes makes it fail", CIVIC_WHSEC_SEALED_LEN);
}

/* ------------------------------------------------- shapes of input */

static void test_shapes(void)
{
	static const struct {
		const char *s;
		bool valid;
	} links[] = {
		{"https://chat.whatsapp.com/AbCdEfGhIjKlMnOp", true},
		{"https://chat.whatsapp.com/AbCdEfGhIjKlMnOpQrStUvWxYz012345", true},
		{"https://chat.whatsapp.com/AbCdEfGhIjKlMnO", false},           /* 15 */
		{"https://chat.whatsapp.com/AbCdEfGhIjKlMnOpQrStUvWxYz0123456", false}, /* 33 */
		{"http://chat.whatsapp.com/AbCdEfGhIjKlMnOp", false},
		{"https://chat.whatsapp.com/AbCdEfGhIjKlMnOp/", false},
		{"https://chat.whatsapp.com/AbCdEfGh-jKlMnOp", false},
		{"https://chat.whatsapp.com.evil.com/AbCdEfGhIjKlMnOp", false},
		{"https://evil.com/https://chat.whatsapp.com/AbCdEfGhIjKlMnOp", false},
		{NULL, false},
	};
	static const struct {
		const char *s;
		bool valid;
	} tokens[] = {
		{"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO-_", true},
		{"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO-", false},
		{"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO-_0", false},
		{"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNO+/", false},
		{"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN'-_", false},
		{NULL, false},
	};

	for (size_t i = 0; i < NELEM(links); i++)
		ok(civic_whatsapp_invite_valid(links[i].s) == links[i].valid, "invite %s %s",
		   links[i].s ? links[i].s : "(null)", links[i].valid ? "valid" : "refused");
	for (size_t i = 0; i < NELEM(tokens); i++)
		ok(civic_email_token_valid(tokens[i].s) == tokens[i].valid, "link token %s %s",
		   tokens[i].s ? tokens[i].s : "(null)", tokens[i].valid ? "valid" : "refused");
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	plan((int)(NELEM(cidrs) + 4 + 7 + NELEM(addrs) + NELEM(dev_addrs) + 2 + 7 + 7 +
	           NELEM(urls) + 3 + 4 + 13 + 10 + 6));
	test_cidr_parse();
	test_policy_parse();
	test_default_policy();
	test_allow_list();
	test_sockaddr();
	test_hosts();
	test_urls();
	test_opensocket();
	test_webhook_secret();
	test_shapes();
	return done_testing();
}
