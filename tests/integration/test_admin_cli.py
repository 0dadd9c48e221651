"""civic-admin: JSON output and the failure paths a shell user meets."""

import json
import os
import shutil
import subprocess

import pytest

import dbutil
from conftest import (SECRET_FILES, config_copy, config_with_secret_copy, make_key,
                      unique)


def test_json_output_is_one_object(admin_raw):
    proc = admin_raw("plan", "list")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)          # the whole stdout, nothing else
    assert isinstance(doc, dict) and isinstance(doc["plans"], list)


def test_migrate_is_idempotent(admin):
    first = admin("migrate")
    second = admin("migrate")
    assert second["applied"] == []
    assert first["current"] == second["current"]
    assert isinstance(second["current"], int) and second["current"] >= 1


def schema_state():
    """What migrate may change: the migrations applied and every table's
    columns, index and routine of the database."""
    return (
        dbutil.query("SELECT version, name, applied_at FROM schema_migrations"
                     " ORDER BY version"),
        dbutil.query("SELECT table_name, ordinal_position, column_name, column_type,"
                     " is_nullable, column_default FROM information_schema.columns"
                     " WHERE table_schema = DATABASE() ORDER BY 1, 2"),
        dbutil.query("SELECT table_name, index_name, seq_in_index, column_name"
                     " FROM information_schema.statistics"
                     " WHERE table_schema = DATABASE() ORDER BY 1, 2, 3"),
        dbutil.query("SELECT routine_name, created, last_altered, MD5(routine_definition)"
                     " FROM information_schema.routines"
                     " WHERE routine_schema = DATABASE() ORDER BY 1"),
    )


def test_migrate_refuses_a_downgrade(admin, admin_raw, config, tmp_path):
    """An older civic-admin (its sql_dir lacks the newest migration)
    against a newer schema: exit 1, a message saying so, nothing changed."""
    sql_dir = config.get("paths", "sql_dir")
    files = sorted((int(n.split("_", 1)[0]), n) for n in os.listdir(sql_dir)
                   if n.endswith(".sql"))
    assert len(files) >= 2, files
    newest = files[-1][0]
    assert admin("migrate")["current"] == newest
    whole, older = tmp_path / "all", tmp_path / "older"
    for folder, names in ((whole, files), (older, files[:-1])):
        folder.mkdir()
        for _, name in names:
            shutil.copy(os.path.join(sql_dir, name), folder)

    # A copy of every file works: the refusal below is the missing file's.
    same = admin_raw("--config", config_copy(tmp_path, paths={"sql_dir": whole}), "migrate")
    assert same.returncode == 0, same
    assert json.loads(same.stdout) == {"applied": [], "current": newest}

    before = schema_state()
    proc = admin_raw("--config", config_copy(tmp_path, paths={"sql_dir": older}), "migrate")
    assert proc.returncode == 1, proc
    assert proc.stdout == "", proc
    assert "refusing to downgrade" in proc.stderr, proc.stderr
    assert "at migration %d" % newest in proc.stderr, proc.stderr
    assert "%s goes only up to %d" % (older, files[-2][0]) in proc.stderr, proc.stderr
    assert schema_state() == before
    # The migration lock was given back: the real sql_dir migrates at once.
    assert admin("migrate") == {"applied": [], "current": newest}


@pytest.mark.parametrize("section,key", SECRET_FILES, ids=[k for _, k in SECRET_FILES])
def test_refuses_a_secret_file_the_group_can_read(new_client, admin_raw, tmp_path,
                                                  section, key):
    c = new_client()
    config, path, secret = config_with_secret_copy(tmp_path, section, key, 0o640)
    issue = ("--config", config, "key", "issue", "--app", c.app_id, "--scopes", "profile:read")
    proc = admin_raw(*issue)
    assert proc.returncode == 3, proc   # 3: configuration unavailable
    assert proc.stdout == "", proc
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr  # the reason, and nothing else
    assert "secret file %s is accessible by group or others" % path in lines[0], lines
    assert "chmod 600" in lines[0], lines
    assert secret.decode("latin-1").strip() not in proc.stderr

    os.chmod(path, 0o600)
    proc = admin_raw(*issue)
    assert proc.returncode == 0, proc
    assert json.loads(proc.stdout)["api_secret"].startswith("css_"), proc.stdout


@pytest.mark.parametrize("mode,refused", [
    (0o600, False), (0o400, False), (0o700, False),
    (0o640, True), (0o604, True), (0o620, True), (0o602, True),
    (0o610, True), (0o601, True), (0o644, True), (0o666, True),
], ids=lambda v: "%04o" % v if isinstance(v, int) and not isinstance(v, bool) else None)
def test_secret_file_modes(admin_raw, tmp_path, mode, refused):
    """Any permission of the group or others refuses. An allowed file
    gets the command as far as the database, where the app is unknown
    (exit 1)."""
    config, path, _ = config_with_secret_copy(tmp_path, "api", "pepper_file", mode)
    proc = admin_raw("--config", config, "key", "issue", "--app", "999999999",
                     "--scopes", "profile:read")
    assert proc.returncode == (3 if refused else 1), proc
    assert (path in proc.stderr) == refused, proc.stderr


def test_plan_list(admin):
    plans = {p["slug"]: p for p in admin("plan", "list")["plans"]}
    assert {"free", "signal"} <= set(plans)
    assert plans["signal"]["price_coins"] == 10
    assert plans["signal"]["max_apps"] == 5
    assert plans["signal"]["max_api_requests_per_app_per_day"] == 30
    assert plans["free"]["price_coins"] == 0
    assert plans["free"]["max_apps"] == 1


def test_account_app_and_key_creation(admin):
    email = unique("cli") + "@example.org"
    account = admin("account", "create", "--email", email,
                    "--password", "Pw-" + unique("secret"))
    assert account["email"] == email and isinstance(account["id"], int)
    app = admin("app", "create", "--account", account["id"], "--name", "Cli App")
    assert app["account_id"] == account["id"] and app["name"] == "Cli App"
    key = admin("key", "issue", "--app", app["id"], "--scopes",
                "profile:read,countries:read", "--name", "ci")
    assert sorted(key["scopes"]) == ["countries:read", "profile:read"]
    assert key["api_key"].startswith("csk_")
    assert key["api_secret"].startswith("css_")


def test_unknown_command(admin_fail):
    rc, err = admin_fail("frobnicate")
    assert err.strip()
    rc, err = admin_fail("key", "frobnicate")
    assert err.strip()


def test_no_command(admin_fail):
    rc, err = admin_fail()
    assert err.strip()


def test_app_create_beyond_plan_limit(new_client, admin_fail, admin, plans):
    c = new_client(plan="free")
    assert plans["free"]["max_apps"] == 1
    rc, err = admin_fail("app", "create", "--account", c.account_id,
                         "--name", "one-too-many")
    assert err.strip()
    # Upgrading lifts the cap.
    admin("plan", "set", "--account", c.account_id, "--plan", "signal")
    admin("app", "create", "--account", c.account_id, "--name", "now-allowed")


def test_key_issue_unknown_scope(new_client, admin_fail):
    c = new_client()
    rc, err = admin_fail("key", "issue", "--app", c.app_id,
                         "--scopes", "profile:read,profile:delete")
    assert err.strip()


def test_key_issue_unknown_app(admin_fail):
    admin_fail("key", "issue", "--app", "999999999", "--scopes", "profile:read")


@pytest.mark.parametrize("days", ["0", "3651", "-1", "abc"])
def test_key_issue_bad_expiry(new_client, admin_fail, days):
    c = new_client()
    admin_fail("key", "issue", "--app", c.app_id, "--scopes", "profile:read",
               "--expires-days", days)


def test_duplicate_account_email(new_client, admin_fail):
    c = new_client()
    admin_fail("account", "create", "--email", c.email, "--password",
               "Pw-" + unique("other"))


def test_unknown_plan(new_client, admin_fail):
    c = new_client()
    admin_fail("plan", "set", "--account", c.account_id, "--plan", "no-such-plan")


def test_revoke_and_rotate_unknown_key(admin_fail, environment):
    key = make_key("csk", environment)
    admin_fail("key", "revoke", "--key", key)
    admin_fail("key", "rotate", "--key", key)


def test_account_limits_unknown_account(admin_fail):
    admin_fail("account", "limits", "--account", "999999999",
               "--requests-per-day", "10")


def test_app_create_for_unknown_account(admin_fail):
    admin_fail("app", "create", "--account", "999999999", "--name", "orphan")


def test_bad_config_path():
    proc = subprocess.run(
        [os.environ["CIVIC_ADMIN"], "--config", "/nonexistent/civic.conf",
         "--json", "plan", "list"],
        capture_output=True, text=True, timeout=30)
    assert proc.returncode != 0
    # Says why, so "missing" and "not readable by this user" (a CGI not
    # running as the account that owns the file) tell apart in a log.
    assert "/nonexistent/civic.conf: No such file or directory" in proc.stderr
