#include "webhook_secret.h"

/* ISO C wants at least one declaration in a translation unit. */
typedef int civic_webhook_secret_placeholder;
