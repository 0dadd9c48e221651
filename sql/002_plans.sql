-- The shipped plans (SPEC §3). Editable afterwards with civic-admin;
-- INSERT IGNORE keeps an admin's edits when migrations are re-run.
INSERT IGNORE INTO plans (slug, name, price_coins, max_apps, max_api_requests_per_app_per_day,
  max_requests_per_key_per_minute, max_alerts_per_day, max_whatsapp_destinations, scopes,
  sort_order)
VALUES
  ('free', 'Free', 0, 1, 20, 10, 5, 0,
   'profile:read,profile:write,destinations:read,destinations:write,subscriptions:read,subscriptions:write,dispatches:read,risk_assessments:read,billing:read,countries:read',
   10),
  ('signal', 'Signal', 10, 5, 30, 30, 50, 1,
   'profile:read,profile:write,destinations:read,destinations:write,destinations:whatsapp:join,subscriptions:read,subscriptions:write,dispatches:read,risk_assessments:read,billing:read,countries:read',
   20),
  ('sentinel', 'Sentinel', 50, 20, 10000, 120, 1000, 5,
   'profile:read,profile:write,destinations:read,destinations:write,destinations:whatsapp:join,subscriptions:read,subscriptions:write,dispatches:read,risk_assessments:read,billing:read,countries:read',
   30),
  ('command', 'Command', 250, 100, 200000, 600, 20000, 50,
   'profile:read,profile:write,destinations:read,destinations:write,destinations:whatsapp:join,subscriptions:read,subscriptions:write,dispatches:read,risk_assessments:read,billing:read,countries:read',
   40);
