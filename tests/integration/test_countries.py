"""GET /v1/supported-countries/: paginated list of {code, name}."""

import json
import os
import urllib.parse

import pytest

COUNTRIES = "/v1/supported-countries/"


@pytest.fixture(scope="session")
def expected_codes(config):
    """Codes the deployment must list, from its own config."""
    listed = config.get("api", "supported_countries", fallback="*").strip()
    if listed != "*":
        return sorted(code.strip() for code in listed.split(",") if code.strip())
    path = config.get("api", "iso_3166_file",
                      fallback="/usr/share/iso-codes/json/iso_3166-1.json").strip()
    assert os.path.exists(path), path
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    return sorted(entry["alpha_2"] for entry in doc["3166-1"])


@pytest.fixture
def reader(new_client):
    return new_client(scopes=("countries:read",))


def query_of(url):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


def assert_next_link(next_url, page, page_size=None):
    parts = urllib.parse.urlsplit(next_url)
    assert parts.scheme in ("http", "https") and parts.netloc, next_url
    assert parts.path.rstrip("/") == COUNTRIES.rstrip("/"), next_url
    query = query_of(next_url)
    assert query.get("page") == str(page), next_url
    if page_size is not None:
        assert query.get("page_size") == str(page_size), next_url


def test_first_page_defaults(reader, envelope, expected_codes):
    resp = reader.get(COUNTRIES)
    data = envelope.ok(resp, is_list=True)
    reader.metered(resp, used=1)
    assert resp.json["total"] == len(expected_codes)
    assert len(data) == min(20, len(expected_codes))
    for row in data:
        assert set(row) == {"code", "name"}, row
        assert isinstance(row["name"], str) and row["name"], row
    codes = [row["code"] for row in data]
    assert codes == expected_codes[:len(codes)]
    if len(expected_codes) > 20:
        assert_next_link(resp.json["next"], 2)
    else:
        assert resp.json["next"] is None


def test_walking_next_links_lists_every_country_once(reader, envelope,
                                                     expected_codes):
    url, seen, page, used = COUNTRIES + "?page_size=100", [], 1, 0
    while url is not None:
        resp = reader.get(url)
        data = envelope.ok(resp, is_list=True)
        used += 1
        reader.metered(resp, used=used)
        assert resp.json["total"] == len(expected_codes), resp
        assert 0 < len(data) <= 100, resp
        seen += [row["code"] for row in data]
        url = resp.json["next"]
        page += 1
        if url is not None:
            assert_next_link(url, page, 100)
            assert len(data) == 100, resp
        assert page < 50, "next links never end"
    assert seen == expected_codes
    assert len(set(seen)) == len(seen)


def test_known_names(reader, envelope, expected_codes):
    data = envelope.ok(reader.get(COUNTRIES + "?page_size=100&page=1"),
                       is_list=True)
    rows = list(data)
    page = 2
    while len(rows) < len(expected_codes):
        rows += envelope.ok(reader.get(COUNTRIES + "?page_size=100&page=%d"
                                       % page), is_list=True)
        page += 1
    names = {row["code"]: row["name"] for row in rows}
    if "FR" in expected_codes:
        assert names["FR"] == "France"
    if "GB" in expected_codes:
        assert names["GB"] == "United Kingdom"


def test_page_and_page_size(reader, envelope, expected_codes):
    assert len(expected_codes) >= 3
    resp = reader.get(COUNTRIES + "?page=2&page_size=1")
    data = envelope.ok(resp, is_list=True)
    assert [row["code"] for row in data] == [expected_codes[1]]
    assert_next_link(resp.json["next"], 3, 1)
    # Following the next link gives the next row.
    data = envelope.ok(reader.get(resp.json["next"]), is_list=True)
    assert [row["code"] for row in data] == [expected_codes[2]]


def test_last_page_has_no_next(reader, envelope, expected_codes):
    size = 7
    last = (len(expected_codes) + size - 1) // size
    resp = reader.get(COUNTRIES + "?page=%d&page_size=%d" % (last, size))
    data = envelope.ok(resp, is_list=True)
    assert [row["code"] for row in data] == \
        expected_codes[(last - 1) * size:]
    assert resp.json["next"] is None


def test_page_beyond_the_end(reader, envelope, expected_codes):
    resp = reader.get(COUNTRIES + "?page=9999&page_size=100")
    if resp.status == 200:
        assert envelope.ok(resp, is_list=True) == []
        assert resp.json["next"] is None
        assert resp.json["total"] == len(expected_codes)
    else:
        envelope.error(resp, 404, "NOT_FOUND")


@pytest.mark.parametrize("query,field", [
    ("page=0", "page"),
    ("page=-1", "page"),
    ("page=abc", "page"),
    ("page=1.5", "page"),
    ("page=", "page"),
    ("page_size=0", "page_size"),
    ("page_size=101", "page_size"),
    ("page_size=-5", "page_size"),
    ("page_size=ten", "page_size"),
    ("page=99999999999999999999999", "page"),
])
def test_invalid_pagination(reader, envelope, query, field):
    resp = reader.get(COUNTRIES + "?" + query)
    envelope.validation(resp, field)


def test_boundary_page_sizes_are_accepted(reader, envelope, expected_codes):
    assert len(envelope.ok(reader.get(COUNTRIES + "?page_size=1"),
                           is_list=True)) == 1
    assert len(envelope.ok(reader.get(COUNTRIES + "?page_size=100"),
                           is_list=True)) == min(100, len(expected_codes))


def test_needs_countries_read(new_client, envelope, api):
    c = new_client(scopes=("profile:read",))
    envelope.error(c.get(COUNTRIES), 403, "PERMISSION_DENIED")
    envelope.error(api("GET", COUNTRIES), 401, "INVALID_TOKEN")
