#include "whatsapp.h"

/* ISO C wants at least one declaration in a translation unit. */
typedef int civic_whatsapp_placeholder;
