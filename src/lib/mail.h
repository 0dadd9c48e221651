/* Mail headers (RFC 5322, RFC 2047) for the dispatcher's messages. A
 * header value comes partly from users (a destination's label, a first
 * name), so every value is checked before it goes on the wire: CR, LF
 * or another control character in it could start a header of the
 * attacker's choosing. Pure functions. */
#ifndef CIVIC_MAIL_H
#define CIVIC_MAIL_H

#include <stdbool.h>

#include "buf.h"

#define CIVIC_MAIL_ADDRESS_MAX 254
#define CIVIC_MAIL_HEADER_MAX 900 /* bytes of one header value before encoding */

/* True when v has no CR, LF or other control character (tab allowed)
 * and is at most CIVIC_MAIL_HEADER_MAX bytes of valid UTF-8. */
bool civic_mail_header_ok(const char *v);

/* True when a is a plain addr-spec: local@domain, printable ASCII
 * without blanks, quotes, angle brackets, commas or semicolons, one
 * '@', at most CIVIC_MAIL_ADDRESS_MAX bytes. */
bool civic_mail_address_ok(const char *a);

/* Appends v as a header value: as it is when it is printable ASCII,
 * else as RFC 2047 encoded words (=?UTF-8?B?…?=, each at most 75
 * characters, split between characters, folded with CRLF SP). False
 * when v fails civic_mail_header_ok or out is full. */
bool civic_mail_encode_header(const char *v, struct civic_buf *out);

/* Appends a mailbox: "Display Name" <addr> (the name quoted, or
 * encoded when not ASCII; just <addr> when name is NULL or empty).
 * False when the name or address is not acceptable. */
bool civic_mail_mailbox(const char *name, const char *addr, struct civic_buf *out);

#endif
