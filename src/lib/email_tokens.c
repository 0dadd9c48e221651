#include "email_tokens.h"

/* ISO C wants at least one declaration in a translation unit. */
typedef int civic_email_tokens_placeholder;
