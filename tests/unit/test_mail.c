/* Mail header checks and encodings (mail.h) and the Standard Webhooks
 * signature (webhook_secret.h), against the specification's published
 * test vector. */
#include <sodium.h>
#include <string.h>

#include "mail.h"
#include "tap.h"
#include "webhook_secret.h"

static void header_values(void)
{
	static const char *const bad[] = {
		"a\r\nBcc: victim@example.org", "line\nbreak", "carriage\rreturn", "nul\x01", "del\x7f",
		"bad utf-8 \xc3\x28", "overlong \xc0\xaf", "surrogate \xed\xa0\x80",
	};
	char big[CIVIC_MAIL_HEADER_MAX + 2];

	ok(civic_mail_header_ok("France (FR): risk level 4 → 2"), "UTF-8 subject accepted");
	ok(civic_mail_header_ok("tab\tallowed"), "a tab is allowed");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(!civic_mail_header_ok(bad[i]), "refused: %zu", i);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ok(!civic_mail_header_ok(big), "longer than CIVIC_MAIL_HEADER_MAX refused");
	big[CIVIC_MAIL_HEADER_MAX] = '\0';
	ok(civic_mail_header_ok(big), "exactly CIVIC_MAIL_HEADER_MAX accepted");
	ok(!civic_mail_header_ok(NULL), "NULL refused");
}

static void addresses(void)
{
	static const char *const good[] = {"ops@example.org", "a.b+c@sub.example.org", "x@y"};
	static const char *const bad[] = {
		"", "no-at", "@example.org", "ops@", "two@@example.org", "a@b@c",
		"ops@example.org\r\nRCPT TO:<x@y>", "sp ace@example.org", "<ops@example.org>",
		"ops@example.org,other@example.org", "quo\"te@example.org", "ü@example.org",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ok(civic_mail_address_ok(good[i]), "address accepted: %s", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(!civic_mail_address_ok(bad[i]), "address refused: %zu", i);
}

static void encodings(void)
{
	struct civic_buf b;
	const char *s;

	civic_buf_init(&b, 4096);
	ok(civic_mail_encode_header("Plain ASCII", &b), "ASCII encodes");
	is_str(civic_buf_str(&b), "Plain ASCII", "ASCII stays as it is");
	civic_buf_reset(&b);
	ok(civic_mail_encode_header("Ünïcödé", &b), "UTF-8 encodes");
	is_str(civic_buf_str(&b), "=?UTF-8?B?w5xuw69jw7Zkw6k=?=", "RFC 2047 B encoding");
	civic_buf_reset(&b);
	ok(civic_mail_encode_header("é€ 123456789012345678901234567890123456789012345678901234567890",
	                            &b),
	   "a long value encodes");
	s = civic_buf_str(&b);
	ok(strstr(s, "?=\r\n =?UTF-8?B?") != NULL, "folded into several encoded words");
	for (const char *w = s; (w = strstr(w, "=?UTF-8?B?")) != NULL; w += 2) {
		const char *end = strstr(w, "?=");
		if (end == NULL || end + 2 - w > 75) {
			ok(0, "an encoded word is longer than 75 characters");
			break;
		}
	}
	civic_buf_reset(&b);
	ok(!civic_mail_encode_header("x\r\nBcc: y@z", &b), "CR/LF refused by the encoder");
	civic_buf_reset(&b);
	ok(civic_mail_mailbox("Civic \"Sentinel\"", "civic@example.org", &b), "mailbox");
	is_str(civic_buf_str(&b), "\"Civic \\\"Sentinel\\\"\" <civic@example.org>",
	       "display name quoted and escaped");
	civic_buf_reset(&b);
	ok(civic_mail_mailbox(NULL, "civic@example.org", &b), "mailbox without a name");
	is_str(civic_buf_str(&b), "<civic@example.org>", "just the address");
	civic_buf_reset(&b);
	ok(!civic_mail_mailbox("x", "civic@example.org>\r\nBcc: y@z", &b), "bad address refused");
	ok(!civic_mail_mailbox("x\ny", "civic@example.org", &b), "bad name refused");
	civic_buf_free(&b);
}

static void signatures(void)
{
	/* https://github.com/standard-webhooks/standard-webhooks test vector */
	unsigned char key[64];
	size_t len = 0;
	char sig[CIVIC_WEBHOOK_SIGNATURE_LEN + 1];
	const char *body = "{\"test\": 2432232314}";

	sodium_base642bin(key, sizeof(key), "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 32, NULL, &len, NULL,
	                  sodium_base64_VARIANT_ORIGINAL);
	civic_webhook_sign(key, len, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, strlen(body),
	                   sig);
	is_str(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", "the published vector");
	civic_webhook_sign(key, len, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331, body, strlen(body),
	                   sig);
	ok(strcmp(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=") != 0,
	   "another timestamp, another signature");
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	plan(43);
	header_values();
	addresses();
	encodings();
	signatures();
	return done_testing();
}
