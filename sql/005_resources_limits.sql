-- Issue 3: what the resource endpoints, the per-minute and anonymous
-- limits and billing need beyond 004. Every statement is safe to rerun
-- (IF NOT EXISTS / OR REPLACE), like the earlier migrations.

-- ---------------------------------------------------------------- limits

-- Per-key requests in the current UTC minute: one row per key, its
-- window moved forward in place (fixed windows), so the table never
-- grows beyond the number of keys.
CREATE TABLE IF NOT EXISTS key_rate_minute (
  key_id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  window_start DATETIME NOT NULL,
  requests INT UNSIGNED NOT NULL,
  CONSTRAINT key_rate_key FOREIGN KEY (key_id) REFERENCES api_keys (id) ON DELETE CASCADE
) ENGINE=InnoDB;

-- Anonymous requests per client address (IPv4 address or IPv6 /64) in
-- the current UTC hour. Stale rows are pruned as windows roll over.
CREATE TABLE IF NOT EXISTS anon_rate_hourly (
  client VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
  window_start DATETIME NOT NULL,
  requests INT UNSIGNED NOT NULL,
  KEY anon_rate_window (window_start)
) ENGINE=InnoDB;

-- ---------------------------------------------------------- risk import

-- One assessment per country and time: a file imported twice adds
-- nothing the second time.
ALTER TABLE risk_assessments ADD UNIQUE KEY IF NOT EXISTS risk_once (country, assessed_at);
ALTER TABLE risk_assessments DROP KEY IF EXISTS risk_country_time;
ALTER TABLE risk_assessments ADD KEY IF NOT EXISTS risk_assessed (assessed_at);

-- The latest assessment per country, kept by the import in the same
-- transaction as the history row and the alert: the API reads this.
CREATE TABLE IF NOT EXISTS risk_latest (
  country CHAR(2) CHARACTER SET ascii NOT NULL PRIMARY KEY,
  assessment_id BIGINT UNSIGNED NOT NULL,
  level TINYINT UNSIGNED NOT NULL,
  assessed_at DATETIME NOT NULL,
  KEY risk_latest_level (level),
  CONSTRAINT risk_latest_assessment FOREIGN KEY (assessment_id)
    REFERENCES risk_assessments (id)
) ENGINE=InnoDB;

-- ------------------------------------------------------ alert destinations

-- A live destination is unique per account, channel and identifier
-- (live_key is NULL once deleted, and NULLs never collide).
ALTER TABLE alert_destinations
  ADD COLUMN IF NOT EXISTS identifier_hash BINARY(32)
    AS (UNHEX(SHA2(identifier, 256))) STORED,
  ADD COLUMN IF NOT EXISTS live_key TINYINT AS (IF(deleted_at IS NULL, 1, NULL)) STORED,
  ADD COLUMN IF NOT EXISTS verified_at DATETIME NULL,
  ADD UNIQUE KEY IF NOT EXISTS destinations_once (account_id, channel, identifier_hash, live_key);

-- ----------------------------------------------------- alert subscriptions

-- A live subscription is unique per destination and stream (live_key
-- is NULL once cancelled, and NULLs never collide): the database itself
-- refuses a duplicate, also between concurrent requests.
-- subscriptions_live serves the list (an account's live rows, newest
-- first) and the per-account cap. (The foreign key already owns the
-- name subscriptions_account, on account_id alone.)
ALTER TABLE alert_subscriptions
  ADD COLUMN IF NOT EXISTS live_key TINYINT AS (IF(cancelled_at IS NULL, 1, NULL)) STORED,
  ADD UNIQUE KEY IF NOT EXISTS subscriptions_once (destination_id, stream, live_key),
  ADD KEY IF NOT EXISTS subscriptions_live (account_id, cancelled_at, created_at);

-- ------------------------------------------------------------- mail queue

-- Mails the dispatcher sends (issue 4): destination confirmations,
-- console verification and password-reset mails, notices. A row names
-- what to send, never a secret: the sender mints the link token and
-- stores only its hash in email_tokens.
CREATE TABLE IF NOT EXISTS mail_queue (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  purpose ENUM('confirm_destination','verify_email','reset_password',
               'destination_disabled') NOT NULL,
  account_id BIGINT UNSIGNED NOT NULL,
  destination_id BIGINT UNSIGNED NULL,
  to_address VARCHAR(254) NOT NULL,
  status ENUM('pending','sent','failed') NOT NULL DEFAULT 'pending',
  attempts INT UNSIGNED NOT NULL DEFAULT 0,
  next_attempt_at DATETIME NOT NULL,
  lease_until DATETIME NULL,
  last_error VARCHAR(500) NULL,
  created_at DATETIME NOT NULL,
  sent_at DATETIME NULL,
  KEY mail_due (status, next_attempt_at),
  CONSTRAINT mail_account FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE,
  CONSTRAINT mail_destination FOREIGN KEY (destination_id) REFERENCES alert_destinations (id)
    ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- --------------------------------------------------------------- dispatches

ALTER TABLE alert_dispatches
  ADD KEY IF NOT EXISTS dispatch_destination_time (destination_id, created_at);

-- ------------------------------------------------------------------ billing

ALTER TABLE billing_subscriptions
  ADD KEY IF NOT EXISTS billing_due (status, current_period_end);
ALTER TABLE payment_events
  ADD KEY IF NOT EXISTS payments_subscription (subscription_id, created_at);
