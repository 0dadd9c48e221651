-- civic-dispatch (issue 4): claims, webhook verification.
--
-- A run claims due rows in a short transaction: SELECT … FOR UPDATE SKIP
-- LOCKED picks rows no other run is claiming, and the same transaction
-- stamps them with a lease (lease_until) and the run's batch token
-- (claim), by which the run then reads them. Another run skips a row
-- until its lease expires, so a run killed mid-send leaves rows that a
-- later run takes over (at-least-once).

ALTER TABLE alert_dispatches
  ADD COLUMN IF NOT EXISTS claim BIGINT UNSIGNED NULL,
  ADD KEY IF NOT EXISTS dispatch_claim (claim);

ALTER TABLE mail_queue
  ADD COLUMN IF NOT EXISTS claim BIGINT UNSIGNED NULL,
  ADD KEY IF NOT EXISTS mail_claim (claim);

-- A webhook destination is pending until one signed verification event
-- reaches it (2xx): written with the destination, sent by the
-- dispatcher on the same retry schedule as alerts.
CREATE TABLE IF NOT EXISTS webhook_checks (
  destination_id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
  account_id BIGINT UNSIGNED NOT NULL,
  status ENUM('pending','verified','failed') NOT NULL DEFAULT 'pending',
  attempts INT UNSIGNED NOT NULL DEFAULT 0,
  next_attempt_at DATETIME NOT NULL,
  lease_until DATETIME NULL,
  claim BIGINT UNSIGNED NULL,
  last_error VARCHAR(500) NULL,
  created_at DATETIME NOT NULL,
  verified_at DATETIME NULL,
  KEY checks_due (status, next_attempt_at),
  KEY checks_claim (claim),
  CONSTRAINT checks_destination FOREIGN KEY (destination_id)
    REFERENCES alert_destinations (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Webhooks created before this migration get their check now.
INSERT IGNORE INTO webhook_checks (destination_id, account_id, next_attempt_at, created_at)
  SELECT id, account_id, UTC_TIMESTAMP(), UTC_TIMESTAMP() FROM alert_destinations
  WHERE channel = 'webhook' AND status = 'pending' AND deleted_at IS NULL;

-- Fan-out reads the live subscriptions of a stream.
ALTER TABLE alert_subscriptions
  ADD KEY IF NOT EXISTS subscriptions_fanout (stream, cancelled_at, min_level);
