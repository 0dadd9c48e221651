/* The route tables of the API responders the console runs in-process
 * (civic_invoke), so a form and an API call obey one set of rules. Each
 * endpoint file defines its table here and, unless built with
 * CIVIC_ROUTES_ONLY (the console's build), its own main(). */
#ifndef CIVIC_ENDPOINTS_H
#define CIVIC_ENDPOINTS_H

#include "server.h"

extern const struct civic_api civic_profile_api;
extern const struct civic_api civic_alert_destinations_api;
extern const struct civic_api civic_alert_subscriptions_api;
extern const struct civic_api civic_alert_dispatches_api;
extern const struct civic_api civic_usage_api;
extern const struct civic_api civic_subscriptions_api;
extern const struct civic_api civic_pricing_plans_api;

#endif
