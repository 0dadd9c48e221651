-- civic_authorize: the per-request check in one round trip (see
-- src/lib/quota.h). Returns one row:
--   status ('ok','revoked','expired','plan','quota'), plan slug, plan
--   name, plan scopes bitmask, application name, daily limit, used today.
-- The conditional increment runs under the counter row's lock, so the
-- count is exact under concurrency; a refused request is not counted.
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
  DECLARE v_changed BIGINT DEFAULT 0;
  DECLARE v_day DATE DEFAULT UTC_DATE();
  DECLARE CONTINUE HANDLER FOR NOT FOUND SET v_found = 0;
  DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN ROLLBACK; RESIGNAL; END;

  SELECT 1, k.revoked_at, k.expires_at, p.slug, p.name, p.scopes + 0, a.name,
         COALESCE(ac.requests_per_day_override, p.max_api_requests_per_app_per_day)
    INTO v_found, v_revoked, v_expires, v_plan, v_plan_name, v_plan_scopes, v_app_name, v_limit
    FROM api_keys k
    JOIN applications a ON a.id = k.application_id
    JOIN accounts ac ON ac.id = a.account_id
    JOIN plans p ON p.id = ac.plan_id
   WHERE k.id = p_key AND a.id = p_app AND ac.id = p_account;

  IF v_found = 0 OR v_revoked IS NOT NULL THEN
    SET v_status = 'revoked';
  ELSEIF v_expires IS NOT NULL AND v_expires <= UTC_TIMESTAMP() THEN
    SET v_status = 'expired';
  ELSEIF (v_plan_scopes & p_scope) <> p_scope THEN
    SET v_status = 'plan';
  END IF;

  IF v_status = 'ok' AND p_charge = 1 AND v_limit > 0 THEN
    START TRANSACTION;
    INSERT INTO app_usage_daily (application_id, day, requests) VALUES (p_app, v_day, 1)
      ON DUPLICATE KEY UPDATE requests = IF(requests < v_limit, requests + 1, requests);
    SET v_changed = ROW_COUNT();
    SELECT requests INTO v_used FROM app_usage_daily
     WHERE application_id = p_app AND day = v_day;
    IF v_changed = 0 THEN
      SET v_status = 'quota';
    ELSE
      INSERT INTO key_usage_daily (key_id, day, requests) VALUES (p_key, v_day, 1)
        ON DUPLICATE KEY UPDATE requests = requests + 1;
      UPDATE api_keys SET last_used_at = UTC_TIMESTAMP()
       WHERE id = p_key
         AND (last_used_at IS NULL OR last_used_at < UTC_TIMESTAMP() - INTERVAL 60 SECOND);
    END IF;
    COMMIT;
  ELSE
    IF v_status = 'ok' AND p_charge = 1 THEN
      SET v_status = 'quota';
    END IF;
    SELECT COALESCE(MAX(requests), 0) INTO v_used FROM app_usage_daily
     WHERE application_id = p_app AND day = v_day;
  END IF;

  SELECT v_status, v_plan, v_plan_name, v_plan_scopes, v_app_name, v_limit, v_used;
END;
