-- civic_authorize, second version: the per-request check of 003 plus
-- the per-key per-minute limit (SPEC §4), still in one round trip.
-- Returns one row:
--   status ('ok','revoked','expired','plan','rate','quota'), plan slug,
--   plan name, plan scopes bitmask, application name, daily limit, used
--   today, minute limit, used this minute.
-- Both counters are conditional increments under their row locks, taken
-- in one order (minute, then day) by every request, inside one
-- transaction: the counts are exact under concurrency, and a request
-- refused by either limit is counted by neither.
CREATE OR REPLACE PROCEDURE civic_authorize(
  IN p_key BIGINT UNSIGNED, IN p_app BIGINT UNSIGNED, IN p_account BIGINT UNSIGNED,
  IN p_scope BIGINT UNSIGNED, IN p_charge TINYINT)
  MODIFIES SQL DATA
BEGIN
  DECLARE v_found TINYINT DEFAULT 0;
  DECLARE v_status VARCHAR(8) CHARACTER SET ascii DEFAULT 'ok';
  DECLARE v_revoked DATETIME DEFAULT NULL;
  DECLARE v_expires DATETIME DEFAULT NULL;
  DECLARE v_plan VARCHAR(32) CHARACTER SET utf8mb4 DEFAULT NULL;
  DECLARE v_plan_name VARCHAR(64) CHARACTER SET utf8mb4 DEFAULT NULL;
  DECLARE v_plan_scopes BIGINT UNSIGNED DEFAULT 0;
  DECLARE v_app_name VARCHAR(100) CHARACTER SET utf8mb4 DEFAULT NULL;
  DECLARE v_limit BIGINT DEFAULT 0;
  DECLARE v_used BIGINT DEFAULT 0;
  DECLARE v_mlimit BIGINT DEFAULT 0;
  DECLARE v_mused BIGINT DEFAULT 0;
  DECLARE v_changed BIGINT DEFAULT 0;
  DECLARE v_key BIGINT UNSIGNED DEFAULT 0;
  DECLARE v_now DATETIME DEFAULT UTC_TIMESTAMP();
  DECLARE v_day DATE DEFAULT DATE(v_now);
  DECLARE v_minute DATETIME DEFAULT v_now - INTERVAL SECOND(v_now) SECOND;
  DECLARE CONTINUE HANDLER FOR NOT FOUND SET v_found = 0;
  DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; RESIGNAL; END;

  SELECT 1, k.revoked_at, k.expires_at, p.slug, p.name, p.scopes + 0, a.name,
         COALESCE(ac.requests_per_day_override, p.max_api_requests_per_app_per_day),
         COALESCE(ac.requests_per_minute_override, p.max_requests_per_key_per_minute)
    INTO v_found, v_revoked, v_expires, v_plan, v_plan_name, v_plan_scopes, v_app_name,
         v_limit, v_mlimit
    FROM api_keys k
    JOIN applications a ON a.id = k.application_id
    JOIN accounts ac ON ac.id = a.account_id
    JOIN plans p ON p.id = ac.plan_id
   WHERE k.id = p_key AND a.id = p_app AND ac.id = p_account;

  IF v_found = 0 OR v_revoked IS NOT NULL THEN
    SET v_status = 'revoked';
  ELSEIF v_expires IS NOT NULL AND v_expires <= v_now THEN
    SET v_status = 'expired';
  ELSEIF (v_plan_scopes & p_scope) <> p_scope THEN
    SET v_status = 'plan';
  END IF;

  IF v_status = 'ok' AND p_charge = 1 THEN
    START TRANSACTION;
    -- The key row first, exclusively: the inserts below take share locks
    -- on it (their foreign keys) and the last_used_at update an exclusive
    -- one, so two requests of one key would otherwise deadlock (S -> X).
    SELECT id INTO v_key FROM api_keys WHERE id = p_key FOR UPDATE;
    -- This minute: a row per key, its window moved forward in place.
    -- MariaDB assigns left to right, so requests sees the old window.
    INSERT INTO key_rate_minute (key_id, window_start, requests) VALUES (p_key, v_minute, 1)
      ON DUPLICATE KEY UPDATE
        requests = IF(window_start = v_minute, IF(requests < v_mlimit, requests + 1, requests), 1),
        window_start = v_minute;
    SET v_changed = ROW_COUNT();
    SELECT requests INTO v_mused FROM key_rate_minute WHERE key_id = p_key;
    IF v_mlimit <= 0 OR v_changed = 0 THEN
      SET v_status = 'rate';
      ROLLBACK;
      SELECT COALESCE(MAX(requests), 0) INTO v_mused FROM key_rate_minute
       WHERE key_id = p_key AND window_start = v_minute;
      SELECT COALESCE(MAX(requests), 0) INTO v_used FROM app_usage_daily
       WHERE application_id = p_app AND day = v_day;
    ELSE
      -- Today, per application.
      SET v_changed = 0;
      IF v_limit > 0 THEN
        INSERT INTO app_usage_daily (application_id, day, requests) VALUES (p_app, v_day, 1)
          ON DUPLICATE KEY UPDATE requests = IF(requests < v_limit, requests + 1, requests);
        SET v_changed = ROW_COUNT();
      END IF;
      IF v_changed = 0 THEN
        SET v_status = 'quota';
        ROLLBACK;
        SET v_mused = v_mused - 1;
        SELECT COALESCE(MAX(requests), 0) INTO v_used FROM app_usage_daily
         WHERE application_id = p_app AND day = v_day;
      ELSE
        SELECT requests INTO v_used FROM app_usage_daily
         WHERE application_id = p_app AND day = v_day;
        INSERT INTO key_usage_daily (key_id, day, requests) VALUES (p_key, v_day, 1)
          ON DUPLICATE KEY UPDATE requests = requests + 1;
        UPDATE api_keys SET last_used_at = v_now
         WHERE id = p_key AND (last_used_at IS NULL OR last_used_at < v_now - INTERVAL 60 SECOND);
        COMMIT;
      END IF;
    END IF;
  ELSE
    SELECT COALESCE(MAX(requests), 0) INTO v_used FROM app_usage_daily
     WHERE application_id = p_app AND day = v_day;
    SELECT COALESCE(MAX(requests), 0) INTO v_mused FROM key_rate_minute
     WHERE key_id = p_key AND window_start = v_minute;
  END IF;

  SELECT v_status, v_plan, v_plan_name, v_plan_scopes, v_app_name, v_limit, v_used,
         v_mlimit, v_mused;
END;

-- civic_anon_authorize: one anonymous request of a client (IPv4 address
-- or IPv6 /64) against p_limit per UTC hour. Returns one row: status
-- ('ok','rate') and the requests counted in this hour. The first request
-- of a client's window also prunes up to 100 stale rows.
CREATE OR REPLACE PROCEDURE civic_anon_authorize(
  IN p_client VARCHAR(64) CHARACTER SET ascii, IN p_limit BIGINT)
  MODIFIES SQL DATA
BEGIN
  DECLARE v_now DATETIME DEFAULT UTC_TIMESTAMP();
  DECLARE v_hour DATETIME DEFAULT v_now - INTERVAL MINUTE(v_now) * 60 + SECOND(v_now) SECOND;
  DECLARE v_changed BIGINT DEFAULT 0;
  DECLARE v_used BIGINT DEFAULT 0;
  DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; RESIGNAL; END;

  START TRANSACTION;
  INSERT INTO anon_rate_hourly (client, window_start, requests) VALUES (p_client, v_hour, 1)
    ON DUPLICATE KEY UPDATE
      requests = IF(window_start = v_hour, IF(requests < p_limit, requests + 1, requests), 1),
      window_start = v_hour;
  SET v_changed = ROW_COUNT();
  SELECT requests INTO v_used FROM anon_rate_hourly WHERE client = p_client;
  COMMIT;
  IF v_changed > 0 AND v_used = 1 THEN
    DELETE FROM anon_rate_hourly WHERE window_start < v_hour LIMIT 100;
  END IF;
  SELECT IF(v_changed = 0, 'rate', 'ok'), v_used;
END;
