-- The web console (issue 5): sessions and throttles.
--
-- A console session is a JWT (audience civicsentinel-console) in a
-- cookie; its jti names a row here, so logging out or resetting the
-- password ends it at once, although the token itself would still
-- verify until it expires.
CREATE TABLE IF NOT EXISTS console_sessions (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  jti CHAR(32) CHARACTER SET ascii NOT NULL,
  account_id BIGINT UNSIGNED NOT NULL,
  created_at DATETIME NOT NULL,
  expires_at DATETIME NOT NULL,
  revoked_at DATETIME NULL,
  UNIQUE KEY console_sessions_jti (jti),
  KEY console_sessions_account (account_id),
  CONSTRAINT console_sessions_account FOREIGN KEY (account_id) REFERENCES accounts (id)
    ON DELETE CASCADE
) ENGINE=InnoDB;

-- Fixed-window counters for login failures, sign-ups and mails, per
-- bucket: the kind of event and a keyed hash of its subject (client
-- address or email address), so no address is stored here in clear.
CREATE TABLE IF NOT EXISTS console_throttle (
  bucket CHAR(48) CHARACTER SET ascii NOT NULL,
  window_start DATETIME NOT NULL,
  hits INT UNSIGNED NOT NULL DEFAULT 0,
  PRIMARY KEY (bucket, window_start),
  KEY console_throttle_window (window_start)
) ENGINE=InnoDB;
