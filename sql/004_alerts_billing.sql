-- Tables the later issues fill (resources, dispatcher, console, billing),
-- laid out now so the foundation's migrations do not need rewriting.

CREATE TABLE IF NOT EXISTS risk_assessments (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  country CHAR(2) CHARACTER SET ascii NOT NULL,
  level TINYINT UNSIGNED NOT NULL,
  score TINYINT UNSIGNED NOT NULL,
  summary TEXT NOT NULL,
  factors JSON NOT NULL,
  source VARCHAR(200) NOT NULL,
  assessed_at DATETIME NOT NULL,
  imported_at DATETIME NOT NULL,
  KEY risk_country_time (country, assessed_at),
  CONSTRAINT risk_level CHECK (level BETWEEN 1 AND 5),
  CONSTRAINT risk_score CHECK (score BETWEEN 0 AND 100)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The outbox: written in the same transaction as the assessment.
CREATE TABLE IF NOT EXISTS alerts (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  stream VARCHAR(16) CHARACTER SET ascii NOT NULL,
  assessment_id BIGINT UNSIGNED NOT NULL,
  level TINYINT UNSIGNED NOT NULL,
  previous_level TINYINT UNSIGNED NULL,
  created_at DATETIME NOT NULL,
  fanned_out_at DATETIME NULL,
  KEY alerts_pending (fanned_out_at),
  CONSTRAINT alerts_assessment FOREIGN KEY (assessment_id) REFERENCES risk_assessments (id)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS alert_destinations (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  account_id BIGINT UNSIGNED NOT NULL,
  label VARCHAR(100) NOT NULL,
  channel ENUM('email','webhook','whatsapp') NOT NULL,
  identifier VARCHAR(2048) NOT NULL,
  status ENUM('pending','active','disabled') NOT NULL DEFAULT 'pending',
  signing_secret_enc VARBINARY(128) NULL,
  failing_since DATETIME NULL,
  created_at DATETIME NOT NULL,
  deleted_at DATETIME NULL,
  KEY destinations_account (account_id),
  CONSTRAINT destinations_account FOREIGN KEY (account_id) REFERENCES accounts (id)
    ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS alert_subscriptions (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  account_id BIGINT UNSIGNED NOT NULL,
  destination_id BIGINT UNSIGNED NOT NULL,
  stream VARCHAR(16) CHARACTER SET ascii NOT NULL,
  min_level TINYINT UNSIGNED NOT NULL DEFAULT 1,
  created_at DATETIME NOT NULL,
  cancelled_at DATETIME NULL,
  KEY subscriptions_stream (stream),
  CONSTRAINT subscriptions_destination FOREIGN KEY (destination_id)
    REFERENCES alert_destinations (id) ON DELETE CASCADE,
  CONSTRAINT subscriptions_account FOREIGN KEY (account_id) REFERENCES accounts (id)
    ON DELETE CASCADE
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS alert_dispatches (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  alert_id BIGINT UNSIGNED NOT NULL,
  destination_id BIGINT UNSIGNED NOT NULL,
  account_id BIGINT UNSIGNED NOT NULL,
  status ENUM('pending','retrying','delivered','failed','skipped_quota') NOT NULL,
  attempts INT UNSIGNED NOT NULL DEFAULT 0,
  next_attempt_at DATETIME NULL,
  lease_until DATETIME NULL,
  created_at DATETIME NOT NULL,
  delivered_at DATETIME NULL,
  UNIQUE KEY dispatch_once (alert_id, destination_id),
  KEY dispatch_due (status, next_attempt_at),
  KEY dispatch_account (account_id, created_at),
  CONSTRAINT dispatch_alert FOREIGN KEY (alert_id) REFERENCES alerts (id),
  CONSTRAINT dispatch_destination FOREIGN KEY (destination_id)
    REFERENCES alert_destinations (id) ON DELETE CASCADE
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS dispatch_attempts (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  dispatch_id BIGINT UNSIGNED NOT NULL,
  attempted_at DATETIME NOT NULL,
  outcome ENUM('success','failure') NOT NULL,
  response_code INT NULL,
  duration_ms INT UNSIGNED NOT NULL,
  error VARCHAR(500) NULL,
  KEY attempts_dispatch (dispatch_id),
  CONSTRAINT attempts_dispatch FOREIGN KEY (dispatch_id) REFERENCES alert_dispatches (id)
    ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Links sent by email: verification, password reset, destination confirmation.
CREATE TABLE IF NOT EXISTS email_tokens (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  purpose ENUM('verify_email','reset_password','confirm_destination') NOT NULL,
  account_id BIGINT UNSIGNED NOT NULL,
  destination_id BIGINT UNSIGNED NULL,
  token_hash BINARY(32) NOT NULL,
  created_at DATETIME NOT NULL,
  expires_at DATETIME NOT NULL,
  used_at DATETIME NULL,
  UNIQUE KEY email_tokens_hash (token_hash),
  CONSTRAINT email_tokens_account FOREIGN KEY (account_id) REFERENCES accounts (id)
    ON DELETE CASCADE
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS billing_subscriptions (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  account_id BIGINT UNSIGNED NOT NULL,
  plan_id INT UNSIGNED NOT NULL,
  status ENUM('active','cancelled','past_due','ended') NOT NULL,
  current_period_start DATETIME NOT NULL,
  current_period_end DATETIME NOT NULL,
  cancel_at_period_end TINYINT(1) NOT NULL DEFAULT 0,
  created_at DATETIME NOT NULL,
  KEY billing_account (account_id),
  CONSTRAINT billing_account FOREIGN KEY (account_id) REFERENCES accounts (id)
    ON DELETE CASCADE,
  CONSTRAINT billing_plan FOREIGN KEY (plan_id) REFERENCES plans (id)
) ENGINE=InnoDB;

CREATE TABLE IF NOT EXISTS payment_events (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  subscription_id BIGINT UNSIGNED NULL,
  account_id BIGINT UNSIGNED NOT NULL,
  kind ENUM('credit','charge','failed_charge','refund') NOT NULL,
  coins BIGINT NOT NULL,
  balance_after BIGINT NOT NULL,
  note VARCHAR(200) NULL,
  created_at DATETIME NOT NULL,
  KEY payments_account (account_id, created_at),
  CONSTRAINT payments_account FOREIGN KEY (account_id) REFERENCES accounts (id)
    ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Daily alerts per account, for max_alerts_per_day.
CREATE TABLE IF NOT EXISTS account_alerts_daily (
  account_id BIGINT UNSIGNED NOT NULL,
  day DATE NOT NULL,
  alerts INT UNSIGNED NOT NULL DEFAULT 0,
  PRIMARY KEY (account_id, day)
) ENGINE=InnoDB;
