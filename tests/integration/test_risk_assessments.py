"""Risk assessments: `civic-admin risk import FILE` and
GET /v1/risk-assessments/.

Imported assessments are global (not per account) and every test of the
run shares the database, so each test takes countries that hold no
assessment yet (fresh_countries) and asserts through the `country`
filter, or through a `since` window only its own rows fall in."""

import datetime
import json
import os
import subprocess
import threading
import time

import pytest

from conftest import env, parse_rfc3339, request

RISK = "/v1/risk-assessments/"
LABELS = {1: "low", 2: "guarded", 3: "elevated", 4: "high", 5: "severe"}
FIELDS = {"country", "country_name", "level", "level_label", "score",
          "summary", "factors", "source", "assessed_at"}
CSV_HEADER = "country,level,score,summary,factors,source,assessed_at"

_taken = set()


@pytest.fixture(scope="session")
def iso_names(config):
    path = config.get("api", "iso_3166_file",
                      fallback="/usr/share/iso-codes/json/iso_3166-1.json").strip()
    with open(path, encoding="utf-8") as f:
        return {e["alpha_2"]: e["name"] for e in json.load(f)["3166-1"]}


@pytest.fixture
def reader(new_client):
    return new_client(scopes=("risk_assessments:read",))


@pytest.fixture
def fresh_countries(reader, envelope, iso_names):
    """fresh_countries(n) -> n codes no test has used and the database
    holds no assessment for (from the end of the alphabet, away from the
    FR/DE/GB other suites like)."""
    def take(n):
        out = []
        for code in sorted(iso_names, reverse=True):
            if len(out) == n:
                break
            if code in _taken:
                continue
            _taken.add(code)
            resp = reader.get(RISK + "?country=" + code)
            envelope.ok(resp, is_list=True)
            if resp.json["total"] == 0:
                out.append(code)
        assert len(out) == n, "ran out of fresh countries"
        return out
    return take


def when(days_ago, seconds=0):
    """An RFC 3339 UTC time days_ago days before now (whole seconds)."""
    t = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    t -= datetime.timedelta(days=days_ago, seconds=-seconds)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def row(country, level, at, score=50, summary="Summary", factors=(),
        source="analyst desk"):
    return {"country": country, "level": level, "score": score,
            "summary": summary, "factors": list(factors), "source": source,
            "assessed_at": at}


def write_json(tmp_path, rows, name="risk.json"):
    path = tmp_path / name
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    return path


def csv_cell(value):
    if any(c in value for c in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def write_csv(tmp_path, rows, name="risk.csv", newline="\r\n"):
    lines = [CSV_HEADER]
    for r in rows:
        lines.append(",".join(csv_cell(str(r[k])) if k != "factors"
                              else csv_cell(";".join(r[k]))
                              for k in CSV_HEADER.split(",")))
    path = tmp_path / name
    path.write_bytes((newline.join(lines) + newline).encode("utf-8"))
    return path


def latest(reader, envelope, country):
    """The one latest assessment of country, or None."""
    resp = reader.get(RISK + "?country=" + country)
    data = envelope.ok(resp, is_list=True)
    assert resp.json["total"] == len(data) <= 1, resp
    return data[0] if data else None


def refused(admin_raw, *args):
    """Runs an import that must be refused; returns stderr."""
    proc = admin_raw("risk", "import", *args)
    assert proc.returncode == 1, proc
    assert proc.stdout == "", proc
    return proc.stderr


def admin_text(*args):
    """civic-admin without --json: (exit status, stdout, stderr)."""
    proc = subprocess.run([env("CIVIC_ADMIN")] + [str(a) for a in args],
                          capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, CIVIC_CONFIG=env("CIVIC_CONFIG")))
    return proc.returncode, proc.stdout, proc.stderr


# ------------------------------------------------------------------ reading

def test_latest_per_country_with_labels_names_and_utc_times(
        reader, envelope, admin, tmp_path, fresh_countries, iso_names):
    a, b = fresh_countries(2)
    rows = [row(a, 2, "2025-03-01T12:00:00+02:00", score=31,
                summary="Older", factors=["old"]),
            row(a, 5, "2025-03-02T08:30:00-05:00", score=97,
                summary="Newest", factors=["curfew", "strikes"],
                source="field office"),
            row(b, 3, "2025-03-01T00:00:00Z", score=0)]
    out = admin("risk", "import", write_json(tmp_path, rows))
    assert out["imported"] == 3 and out["unchanged"] == 0, out
    assert out["dry_run"] is False, out

    resp = reader.get(RISK + "?country=" + a)
    data = envelope.ok(resp, is_list=True)
    reader.metered(resp, used=resp.json["meta"]["usage"]["used_today"])
    assert resp.json["total"] == 1 and resp.json["next"] is None, resp
    got = data[0]
    assert set(got) == FIELDS, got
    assert got == {"country": a, "country_name": iso_names[a], "level": 5,
                   "level_label": "severe", "score": 97,
                   "summary": "Newest", "factors": ["curfew", "strikes"],
                   "source": "field office",
                   "assessed_at": "2025-03-02T13:30:00+00:00"}, got
    parse_rfc3339(got["assessed_at"])
    other = latest(reader, envelope, b)
    assert (other["level"], other["level_label"], other["score"]) == \
        (3, "elevated", 0), other


def test_every_level_has_its_label(reader, envelope, admin, tmp_path,
                                   fresh_countries):
    codes = fresh_countries(5)
    rows = [row(c, lvl, when(40)) for lvl, c in enumerate(codes, start=1)]
    admin("risk", "import", write_json(tmp_path, rows))
    for lvl, c in enumerate(codes, start=1):
        got = latest(reader, envelope, c)
        assert (got["level"], got["level_label"]) == (lvl, LABELS[lvl]), got


def test_filters_order_and_paging(reader, envelope, admin, tmp_path,
                                  fresh_countries):
    # A window of time only this test's rows fall in: a few seconds ahead
    # (within the 5 minutes the import allows).
    start = int(time.time()) + 2
    since = datetime.datetime.fromtimestamp(start, datetime.timezone.utc)
    codes = sorted(fresh_countries(5))
    levels = dict(zip(codes, (3, 5, 3, 1, 4)))
    rows = [row(c, levels[c], (since + datetime.timedelta(seconds=i))
                .strftime("%Y-%m-%dT%H:%M:%SZ"))
            for i, c in enumerate(codes)]
    admin("risk", "import", write_json(tmp_path, rows))
    expected = sorted(codes, key=lambda c: (-levels[c], c))
    window = "since=" + since.strftime("%Y-%m-%dT%H:%M:%SZ")

    url, seen, pages = RISK + "?page_size=2&" + window, [], 0
    while url:
        resp = reader.get(url)
        data = envelope.ok(resp, is_list=True)
        assert resp.json["total"] == 5, resp
        assert len(data) == (2 if pages < 2 else 1), resp
        seen += [d["country"] for d in data]
        url = resp.json["next"]
        pages += 1
        assert pages <= 3, resp
    assert seen == expected, "level descending, then country"

    resp = reader.get(RISK + "?page=3&page_size=2&" + window)
    assert [d["country"] for d in envelope.ok(resp, is_list=True)] == \
        expected[4:] and resp.json["next"] is None, resp
    resp = reader.get(RISK + "?page=4&page_size=2&" + window)
    assert envelope.ok(resp, is_list=True) == [] and \
        resp.json["total"] == 5, resp

    resp = reader.get(RISK + "?min_level=3&" + window)
    data = envelope.ok(resp, is_list=True)
    assert [d["country"] for d in data] == \
        [c for c in expected if levels[c] >= 3], resp
    assert resp.json["total"] == 4, resp
    resp = reader.get(RISK + "?min_level=5&" + window)
    assert [d["country"] for d in envelope.ok(resp, is_list=True)] == \
        [codes[1]] and resp.json["total"] == 1, resp

    # since is inclusive, with any offset; the last row is at start + 4 s.
    last = since + datetime.timedelta(seconds=4)
    plus2 = (last + datetime.timedelta(hours=2)).strftime(
        "%Y-%m-%dT%H:%M:%S") + "%2B02:00"
    resp = reader.get(RISK + "?since=" + plus2)
    assert [d["country"] for d in envelope.ok(resp, is_list=True)] == \
        [codes[4]], resp
    resp = reader.get(RISK + "?since=" + (last + datetime.timedelta(
        seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    assert codes[4] not in [d["country"] for d in
                            envelope.ok(resp, is_list=True)], resp

    resp = reader.get(RISK + "?country=" + codes[3].lower() + "&" + window)
    data = envelope.ok(resp, is_list=True)
    assert [d["country"] for d in data] == [codes[3]], "case-insensitive"
    resp = reader.get(RISK + "?country=%s&min_level=2&%s" % (codes[3], window))
    assert envelope.ok(resp, is_list=True) == [] and \
        resp.json["total"] == 0, "filters combine"


@pytest.mark.parametrize("query,fields", [
    ("country=XX", {"country"}),
    ("country=FRA", {"country"}),
    ("country=", {"country"}),
    ("country=%C3%A9", {"country"}),
    ("country=FR&country=DE", {"country"}),
    ("min_level=0", {"min_level"}),
    ("min_level=6", {"min_level"}),
    ("min_level=abc", {"min_level"}),
    ("min_level=2.5", {"min_level"}),
    ("since=yesterday", {"since"}),
    ("since=2026-05-17", {"since"}),
    ("since=2026-05-17T10:00:00", {"since"}),
    ("since=2026-02-30T10:00:00Z", {"since"}),
    ("country=XX&min_level=9&since=x", {"country", "min_level", "since"}),
    ("page=0", {"page"}),
    ("page_size=101", {"page_size"}),
    ("page_size=abc", {"page_size"}),
])
def test_bad_filters_and_paging_are_400(reader, envelope, query, fields):
    resp = reader.get(RISK + "?" + query)
    msg = envelope.validation(resp, *fields)
    assert set(msg) == fields, resp


def test_scope_is_required(new_client, envelope):
    client = new_client(scopes=("countries:read",))
    resp = client.get(RISK)
    envelope.error(resp, 403, "PERMISSION_DENIED")


def test_token_is_required(envelope):
    envelope.error(request("GET", RISK), 401)


# ------------------------------------------------------------------ import

def test_csv_import_with_quoting_crlf_and_factor_lists(
        reader, envelope, admin, tmp_path, fresh_countries):
    a, b = fresh_countries(2)
    path = tmp_path / "export.csv"
    path.write_bytes((
        "assessed_at,source,factors,summary,score,level,country\r\n"
        '2025-04-01T09:00:00+09:00,"desk, Tokyo","fuel ; unions;strikes",'
        '"He said ""calm"", then left",64,4,' + a.lower() + "\r\n"
        "\r\n"
        "2025-04-01T00:00:00Z,desk,,Quiet,3,1," + b).encode("utf-8"))
    out = admin("risk", "import", path)
    assert (out["imported"], out["unchanged"], out["alerts"]) == (2, 0, []), out
    got = latest(reader, envelope, a)
    assert got["summary"] == 'He said "calm", then left', got
    assert got["source"] == "desk, Tokyo", got
    assert got["factors"] == ["fuel", "unions", "strikes"], got
    assert got["assessed_at"] == "2025-04-01T00:00:00+00:00", got
    assert (got["level"], got["score"]) == (4, 64), got
    assert latest(reader, envelope, b)["factors"] == [], "empty cell, no factors"


def test_format_from_option_sniffed_and_stdin(reader, envelope, admin,
                                              admin_raw, tmp_path,
                                              fresh_countries):
    a, b, c = fresh_countries(3)
    no_ext = write_json(tmp_path, [row(a, 2, when(30))], name="risk.data")
    assert admin("risk", "import", no_ext)["imported"] == 1, "sniffed JSON"
    wrong_ext = write_csv(tmp_path, [row(b, 2, when(30))], name="risk.json")
    stderr = refused(admin_raw, wrong_ext)
    assert "not valid JSON" in stderr, stderr
    assert admin("risk", "import", wrong_ext, "--format", "csv")["imported"] == 1
    proc = subprocess.run(
        [env("CIVIC_ADMIN"), "--json", "risk", "import", "-", "--format", "csv"],
        input="%s\n%s,3,10,via stdin,,desk,%s\n" % (CSV_HEADER, c, when(30)),
        capture_output=True, text=True, timeout=60,
        env=dict(os.environ, CIVIC_CONFIG=env("CIVIC_CONFIG")))
    assert proc.returncode == 0, proc
    assert json.loads(proc.stdout)["imported"] == 1, proc
    assert latest(reader, envelope, c)["summary"] == "via stdin"


def test_first_assessment_is_a_baseline_then_changes_alert(
        reader, envelope, admin, tmp_path, fresh_countries):
    a, = fresh_countries(1)
    out = admin("risk", "import", write_json(tmp_path, [row(a, 2, when(20))]))
    assert (out["imported"], out["alerts"]) == (1, []), "first one: no alert"

    out = admin("risk", "import",
                write_json(tmp_path, [row(a, 4, when(19))], name="up.json"))
    assert out["imported"] == 1, out
    assert len(out["alerts"]) == 1, out
    alert = out["alerts"][0]
    assert set(alert) == {"country", "level", "previous_level",
                          "assessment_id", "alert_id"}, alert
    assert (alert["country"], alert["level"], alert["previous_level"]) == \
        (a, 4, 2), alert
    assert isinstance(alert["assessment_id"], int) and \
        isinstance(alert["alert_id"], int), alert
    assert latest(reader, envelope, a)["level"] == 4

    out = admin("risk", "import",
                write_json(tmp_path, [row(a, 4, when(18), summary="Same level")],
                           name="same.json"))
    assert (out["imported"], out["alerts"]) == (1, []), "same level: no alert"
    assert latest(reader, envelope, a)["summary"] == "Same level"


def test_several_changes_in_one_file_alert_in_time_order(
        admin, tmp_path, fresh_countries):
    a, b = fresh_countries(2)
    admin("risk", "import", write_json(tmp_path, [row(a, 1, when(50)),
                                                  row(b, 3, when(50))]))
    # Rows in any order in the file; applied oldest first.
    rows = [row(a, 5, when(45)), row(b, 3, when(48)), row(a, 3, when(47)),
            row(a, 3, when(46))]
    out = admin("risk", "import", write_json(tmp_path, rows, name="more.json"))
    assert out["imported"] == 4, out
    got = [(al["country"], al["previous_level"], al["level"])
           for al in out["alerts"]]
    assert got == [(a, 1, 3), (a, 3, 5)], out
    ids = [al["alert_id"] for al in out["alerts"]]
    assert ids == sorted(ids) and len(set(ids)) == 2, out


def test_history_row_does_not_change_the_latest(
        reader, envelope, admin, tmp_path, fresh_countries):
    a, = fresh_countries(1)
    admin("risk", "import", write_json(tmp_path, [row(a, 3, when(10),
                                                      summary="Current")]))
    before = latest(reader, envelope, a)
    out = admin("risk", "import", write_json(
        tmp_path, [row(a, 5, when(11), summary="Older, more severe")],
        name="history.json"))
    assert (out["imported"], out["alerts"]) == (1, []), "history: no alert"
    assert latest(reader, envelope, a) == before
    # The history row is stored: importing it again changes nothing.
    out = admin("risk", "import", tmp_path / "history.json")
    assert (out["imported"], out["unchanged"]) == (0, 1), out


def test_reimport_is_idempotent(reader, envelope, admin, tmp_path,
                                fresh_countries):
    a, b = fresh_countries(2)
    rows = [row(a, 1, when(9)), row(a, 4, when(8)), row(b, 2, when(9))]
    path = write_json(tmp_path, rows)
    first = admin("risk", "import", path)
    assert (first["imported"], first["unchanged"]) == (3, 0), first
    assert len(first["alerts"]) == 1, first
    state = [latest(reader, envelope, c) for c in (a, b)]
    for _ in range(2):
        again = admin("risk", "import", path)
        assert again == {"dry_run": False, "imported": 0, "unchanged": 3,
                         "alerts": []}, again
    csv_again = admin("risk", "import", write_csv(tmp_path, rows))
    assert (csv_again["imported"], csv_again["unchanged"]) == (0, 3), \
        "the same rows as CSV are the same assessments"
    assert [latest(reader, envelope, c) for c in (a, b)] == state


def test_conflicting_reimport_is_refused_whole(
        reader, envelope, admin, admin_raw, tmp_path, fresh_countries):
    a, b = fresh_countries(2)
    at = when(7)
    admin("risk", "import", write_json(tmp_path, [row(a, 2, at)]))
    before = latest(reader, envelope, a)
    path = write_json(tmp_path, [row(b, 4, when(6)),
                                 row(a, 2, at, summary="Rewritten")],
                      name="conflict.json")
    stderr = refused(admin_raw, path)
    assert "row 2: %s at " % a in stderr, stderr
    assert "already stored with other values" in stderr, stderr
    assert "nothing was imported" in stderr, stderr
    assert latest(reader, envelope, a) == before
    assert latest(reader, envelope, b) is None, "the good row was not kept"
    # The same instant written with another offset is the same assessment.
    shifted = (parse_rfc3339(at) + datetime.timedelta(hours=3)).strftime(
        "%Y-%m-%dT%H:%M:%S+03:00")
    out = admin("risk", "import", write_json(tmp_path, [row(a, 2, shifted)],
                                             name="shifted.json"))
    assert (out["imported"], out["unchanged"]) == (0, 1), out


def test_one_bad_row_refuses_the_whole_json_file(
        reader, envelope, admin_raw, tmp_path, fresh_countries):
    codes = fresh_countries(4)
    rows = [row(c, 2, when(5)) for c in codes]
    rows[2]["level"] = 7
    stderr = refused(admin_raw, write_json(tmp_path, rows))
    assert "row 3: level: must be an integer from 1 to 5" in stderr, stderr
    assert "refused: 1 error; nothing was imported" in stderr, stderr
    for c in codes:
        assert latest(reader, envelope, c) is None, c


def test_every_error_is_listed_with_its_csv_line(
        reader, envelope, admin_raw, tmp_path, fresh_countries):
    a, b, c = fresh_countries(3)
    t = when(4)
    path = tmp_path / "bad.csv"
    path.write_text(
        CSV_HEADER + "\n"
        "%s,2,50,fine,,desk,%s\n" % (a, t)
        + '%s,2,50,"two\nlines",,desk,%s\n' % (b, t)
        + "%s,2,500,ok,,desk,%s\n" % (c, t)
        + "ZZ,2,50,ok,,desk,%s\n" % t
        + "%s,2,50,ok,,desk,%s\n" % (a, "2030-01-01T00:00:00Z")
        + "%s,2,50,ok,,desk,%s\n" % (b, "not a time")
        + "%s,2,50,,,desk,%s\n" % (c, when(3))
        + "%s,2,50,dup,,desk,%s\n" % (a, t),
        encoding="utf-8")
    stderr = refused(admin_raw, path)
    for want in ("line 3: summary: must not contain control characters",
                 "line 5: score: must be an integer from 0 to 100",
                 "line 6: country: must be a supported ISO 3166-1 alpha-2 code",
                 "line 7: assessed_at: is more than 5 minutes in the future",
                 "line 8: assessed_at: must be an RFC 3339 time",
                 "line 9: summary: must not be empty",
                 "line 10: assessed_at: same country and time as line 2"):
        assert want in stderr, (want, stderr)
    assert "line 2:" not in stderr.replace("as line 2", ""), stderr
    assert "refused: 7 errors" in stderr, stderr
    for code in (a, b, c):
        assert latest(reader, envelope, code) is None


def test_structure_errors_are_refused(admin_raw, tmp_path):
    cases = {
        "header.csv": ("country,level,colour\n", "line 1: unknown column 'colour'"),
        "quote.csv": (CSV_HEADER + '\nFR,2,50,"open,,desk,x\n',
                      "line 2: a quoted field is never closed"),
        "fields.csv": (CSV_HEADER + "\nFR,2,50\n", "line 2: 3 fields, the header has 7"),
        "syntax.json": ('[\n{"country": "FR",}\n]', "line 2: not valid JSON"),
        "object.json": ('{"country": "FR"}', "must be an array"),
        "empty.json": ("  \n", "the file is empty"),
        "unknown.json": (json.dumps([dict(row("FR", 2, when(3)), colour="red")]),
                         "row 1: colour: is not a known field"),
        "missing.json": (json.dumps([{"country": "FR"}]), "row 1: level: is required"),
    }
    for name, (text, want) in cases.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        stderr = refused(admin_raw, path)
        assert want in stderr, (name, stderr)
    bad_utf8 = tmp_path / "latin1.csv"
    bad_utf8.write_bytes((CSV_HEADER + "\nFR,2,50,caf\xe9,,desk,%s\n" % when(3))
                         .encode("latin-1"))
    assert "line 2: not valid UTF-8" in refused(admin_raw, bad_utf8)
    nul = tmp_path / "nul.json"
    nul.write_bytes(b'[\n"\x00"]')
    assert "line 2: a NUL byte" in refused(admin_raw, nul)


def test_odd_text_comes_back_byte_identical(reader, envelope, admin, tmp_path,
                                            fresh_countries):
    a, b = fresh_countries(2)
    summary = ("Robert'); DROP TABLE risk_assessments;-- \"quoted\" \\ "
               "%s %d ` $1 ? -- /* */ ; "
               "caf\u00e9 e\u0301 \u05e9\u05dc\u05d5\u05dd \u202e \U0001F525 "
               "\U0001F469\u200d\U0001F692 \ufffd \u00a0 \u2028")
    factors = ["' OR '1'='1", "\"; DELETE FROM alerts; --",
               "\u0645\u0631\u062d\u0628\u0627", "\U0001F30D", "a\\b", "%"]
    rows = [row(a, 3, when(3), summary=summary, factors=factors,
                source="<script>alert(1)</script> & \u00e9")]
    admin("risk", "import", write_json(tmp_path, rows))
    got = latest(reader, envelope, a)
    assert got["summary"] == summary
    assert got["factors"] == factors
    assert got["source"] == "<script>alert(1)</script> & \u00e9"

    csv_rows = [row(b, 3, when(3), summary=summary,
                    factors=[f for f in factors if ";" not in f])]
    admin("risk", "import", write_csv(tmp_path, csv_rows))
    got = latest(reader, envelope, b)
    assert got["summary"] == summary
    assert got["factors"] == [f for f in factors if ";" not in f]


def test_dry_run_writes_nothing(reader, envelope, admin, tmp_path,
                                fresh_countries):
    a, b = fresh_countries(2)
    admin("risk", "import", write_json(tmp_path, [row(a, 1, when(2))]))
    path = write_json(tmp_path, [row(a, 5, when(1)), row(b, 2, when(1))],
                      name="next.json")
    before = latest(reader, envelope, a)
    dry = admin("risk", "import", path, "--dry-run")
    assert dry["dry_run"] is True, dry
    assert (dry["imported"], dry["unchanged"]) == (2, 0), dry
    assert dry["alerts"] == [{"country": a, "level": 5, "previous_level": 1,
                              "assessment_id": None, "alert_id": None}], dry
    assert latest(reader, envelope, a) == before
    assert latest(reader, envelope, b) is None
    real = admin("risk", "import", path)
    assert (real["imported"], len(real["alerts"])) == (2, 1), real
    assert real["alerts"][0]["alert_id"] is not None, real


def test_dry_run_reports_a_bad_file_too(admin_raw, tmp_path, fresh_countries):
    a, = fresh_countries(1)
    stderr = refused(admin_raw, write_json(tmp_path, [row(a, 0, when(1))]),
                     "--dry-run")
    assert "row 1: level:" in stderr, stderr


def test_text_output(tmp_path, fresh_countries):
    a, = fresh_countries(1)
    first = write_json(tmp_path, [row(a, 2, when(12))], name="one.json")
    rc, out, err = admin_text("risk", "import", first)
    assert (rc, err) == (0, ""), err
    assert out == "imported 1 assessment (0 unchanged), no alerts\n", out
    second = write_json(tmp_path, [row(a, 4, when(11)), row(a, 4, when(10))],
                        name="two.json")
    rc, out, err = admin_text("risk", "import", "--dry-run", second)
    assert rc == 0, err
    assert out == ("dry run: would import 2 assessments (0 unchanged), "
                   "1 alert: %s 2\u21924; nothing written\n" % a), out
    rc, out, err = admin_text("risk", "import", second)
    assert (rc, err) == (0, ""), err
    assert out == "imported 2 assessments (0 unchanged), 1 alert: %s 2\u21924\n" % a


def test_usage_errors(admin_raw, tmp_path):
    path = write_json(tmp_path, [])
    for args, code in ((("risk", "import"), 2),
                       (("risk", "import", path, "--format", "xml"), 2),
                       (("risk", "import", path, "--colour", "red"), 2),
                       (("risk", "import", path, path), 2),
                       (("risk", "import", tmp_path / "missing.json"), 1),
                       (("risk", "import", tmp_path), 1)):
        proc = admin_raw(*args)
        assert proc.returncode == code, (args, proc)
        assert proc.stdout == "" and proc.stderr.startswith(
            "civic-admin: risk import: "), (args, proc)
    out = admin_raw("risk", "import", path)
    assert out.returncode == 0 and json.loads(out.stdout)["imported"] == 0, \
        "an empty array is a valid, empty import"


def test_concurrent_imports_write_everything_once(
        reader, envelope, tmp_path, fresh_countries):
    codes = fresh_countries(3)
    rows = []
    for i, c in enumerate(codes):
        rows += [row(c, 1, when(30, i)), row(c, 3, when(29, i)),
                 row(c, 2, when(28, i))]
    path = write_json(tmp_path, rows)
    results = [None] * 4

    def run(k):
        results[k] = subprocess.run(
            [env("CIVIC_ADMIN"), "--json", "risk", "import", str(path)],
            capture_output=True, text=True, timeout=120,
            env=dict(os.environ, CIVIC_CONFIG=env("CIVIC_CONFIG")))

    threads = [threading.Thread(target=run, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    outs = []
    for proc in results:
        assert proc.returncode == 0, proc
        outs.append(json.loads(proc.stdout))
    assert sum(o["imported"] for o in outs) == 9, outs
    assert sum(o["unchanged"] for o in outs) == 27, outs
    alerts = [al for o in outs for al in o["alerts"]]
    assert len(alerts) == 6, "two changes per country, written once"
    for c in codes:
        got = latest(reader, envelope, c)
        assert got["level"] == 2, got
