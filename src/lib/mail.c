#include "mail.h"

#include <sodium.h>
#include <string.h>

#include "input.h"

bool civic_mail_header_ok(const char *v)
{
	const unsigned char *s = (const unsigned char *)v;
	size_t i = 0, n, len;
	unsigned cp;

	if (v == NULL || (len = strlen(v)) > CIVIC_MAIL_HEADER_MAX)
		return false;
	while (i < len) {
		if ((s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f)
			return false;
		if ((n = civic_utf8_next(s + i, len - i, &cp)) == 0)
			return false;
		i += n;
	}
	return true;
}

bool civic_mail_address_ok(const char *a)
{
	const char *at;
	size_t len;

	if (a == NULL || (len = strlen(a)) == 0 || len > CIVIC_MAIL_ADDRESS_MAX)
		return false;
	for (const char *p = a; *p; p++)
		if (*p <= 0x20 || *p >= 0x7f || strchr("\"<>(),;:\\[]", *p))
			return false;
	at = strchr(a, '@');
	return at && at != a && at[1] && strchr(at + 1, '@') == NULL;
}

static bool printable_ascii(const char *v)
{
	for (; *v; v++)
		if (*v < 0x20 || *v >= 0x7f)
			return false;
	return true;
}

/* 45 bytes of UTF-8 give 60 base64 characters: with "=?UTF-8?B?" and
 * "?=" an encoded word stays within RFC 2047's 75. */
#define WORD_BYTES 45

bool civic_mail_encode_header(const char *v, struct civic_buf *out)
{
	const unsigned char *s = (const unsigned char *)v;
	char b64[sodium_base64_ENCODED_LEN(WORD_BYTES, sodium_base64_VARIANT_ORIGINAL)];
	size_t i = 0, start, n, len;
	unsigned cp;

	if (!civic_mail_header_ok(v))
		return false;
	if (printable_ascii(v))
		return civic_buf_adds(out, v);
	len = strlen(v);
	while (i < len) {
		start = i;
		/* Valid UTF-8 (checked above): n > 0 while i < len. */
		while (i < len && (n = civic_utf8_next(s + i, len - i, &cp)) != 0 &&
		       i - start + n <= WORD_BYTES)
			i += n;
		sodium_bin2base64(b64, sizeof(b64), s + start, i - start,
		                  sodium_base64_VARIANT_ORIGINAL);
		if (!civic_buf_printf(out, "%s=?UTF-8?B?%s?=", start ? "\r\n " : "", b64))
			return false;
	}
	return true;
}

bool civic_mail_mailbox(const char *name, const char *addr, struct civic_buf *out)
{
	if (!civic_mail_address_ok(addr))
		return false;
	if (name && *name) {
		if (!civic_mail_header_ok(name))
			return false;
		if (printable_ascii(name)) {
			if (!civic_buf_adds(out, "\""))
				return false;
			for (const char *p = name; *p; p++)
				if ((*p == '"' || *p == '\\') ? !civic_buf_printf(out, "\\%c", *p)
				                              : !civic_buf_add(out, p, 1))
					return false;
			if (!civic_buf_adds(out, "\" "))
				return false;
		} else if (!civic_mail_encode_header(name, out) || !civic_buf_adds(out, " ")) {
			return false;
		}
	}
	return civic_buf_printf(out, "<%s>", addr);
}
