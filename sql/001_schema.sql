-- Civic Sentinel core schema: accounts, plans, applications, keys and
-- usage counters. Times are UTC (every connection sets time_zone +00:00).
-- Scopes are SET columns whose member order matches the bits of
-- src/lib/scopes.h, so "scopes + 0" is the bitmask the C code uses.

CREATE TABLE IF NOT EXISTS plans (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  slug VARCHAR(32) CHARACTER SET ascii NOT NULL,
  name VARCHAR(64) NOT NULL,
  price_coins INT UNSIGNED NOT NULL DEFAULT 0,
  max_apps INT UNSIGNED NOT NULL,
  max_api_requests_per_app_per_day INT UNSIGNED NOT NULL,
  max_requests_per_key_per_minute INT UNSIGNED NOT NULL,
  max_alerts_per_day INT UNSIGNED NOT NULL,
  max_whatsapp_destinations INT UNSIGNED NOT NULL,
  scopes SET('profile:read','profile:write','destinations:read','destinations:write',
             'destinations:whatsapp:join','subscriptions:read','subscriptions:write',
             'dispatches:read','risk_assessments:read','billing:read','countries:read')
         NOT NULL DEFAULT '',
  is_public TINYINT(1) NOT NULL DEFAULT 1,
  sort_order INT NOT NULL DEFAULT 0,
  UNIQUE KEY plans_slug (slug)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS accounts (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  email VARCHAR(254) NOT NULL,
  password_hash VARCHAR(255) CHARACTER SET ascii NULL,
  email_verified_at DATETIME NULL,
  first_name VARCHAR(100) NULL,
  phone_number VARCHAR(16) CHARACTER SET ascii NULL,
  country CHAR(2) CHARACTER SET ascii NULL,
  plan_id INT UNSIGNED NOT NULL,
  -- per-account overrides of the plan's request limits (contracts, load tests)
  requests_per_day_override INT UNSIGNED NULL,
  requests_per_minute_override INT UNSIGNED NULL,
  coins BIGINT NOT NULL DEFAULT 0,
  created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL,
  UNIQUE KEY accounts_email (email),
  CONSTRAINT accounts_plan FOREIGN KEY (plan_id) REFERENCES plans (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS applications (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  account_id BIGINT UNSIGNED NOT NULL,
  name VARCHAR(100) NOT NULL,
  created_at DATETIME NOT NULL,
  UNIQUE KEY applications_account_name (account_id, name),
  CONSTRAINT applications_account FOREIGN KEY (account_id) REFERENCES accounts (id)
    ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS api_keys (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  application_id BIGINT UNSIGNED NOT NULL,
  name VARCHAR(100) NOT NULL,
  -- the public key is an identifier; the secret is only an HMAC under the pepper
  public_key CHAR(38) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  secret_hash BINARY(32) NOT NULL,
  environment ENUM('live','test') NOT NULL,
  scopes SET('profile:read','profile:write','destinations:read','destinations:write',
             'destinations:whatsapp:join','subscriptions:read','subscriptions:write',
             'dispatches:read','risk_assessments:read','billing:read','countries:read')
         NOT NULL,
  created_at DATETIME NOT NULL,
  expires_at DATETIME NULL,
  last_used_at DATETIME NULL,
  revoked_at DATETIME NULL,
  rotated_at DATETIME NULL,
  rotated_from_id BIGINT UNSIGNED NULL,
  UNIQUE KEY api_keys_public (public_key),
  KEY api_keys_app (application_id),
  CONSTRAINT api_keys_app FOREIGN KEY (application_id) REFERENCES applications (id)
    ON DELETE CASCADE,
  CONSTRAINT api_keys_rotated_from FOREIGN KEY (rotated_from_id) REFERENCES api_keys (id)
    ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Requests per application per UTC day: the quota counter.
CREATE TABLE IF NOT EXISTS app_usage_daily (
  application_id BIGINT UNSIGNED NOT NULL,
  day DATE NOT NULL,
  requests INT UNSIGNED NOT NULL DEFAULT 0,
  PRIMARY KEY (application_id, day),
  CONSTRAINT app_usage_app FOREIGN KEY (application_id) REFERENCES applications (id)
    ON DELETE CASCADE
) ENGINE=InnoDB;

-- Requests per key per UTC day: the per-key audit (seed 001).
CREATE TABLE IF NOT EXISTS key_usage_daily (
  key_id BIGINT UNSIGNED NOT NULL,
  day DATE NOT NULL,
  requests INT UNSIGNED NOT NULL DEFAULT 0,
  PRIMARY KEY (key_id, day),
  CONSTRAINT key_usage_key FOREIGN KEY (key_id) REFERENCES api_keys (id) ON DELETE CASCADE
) ENGINE=InnoDB;
