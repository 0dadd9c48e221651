"""A browserless client for the web console (/console/): a cookie jar,
forms with their CSRF token, no redirects followed unless asked, each
client from its own loopback address (the console throttles per client
address).  Pages are parsed with html.parser, never by regex on markup
that could change."""

import html.parser
import http.client
import os
import re
import tempfile
import urllib.parse

import dispatchutil
from conftest import admin_json, env, fresh_client_address, unique


class Page:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers          # list of (name, value)
        self.body = body                # str
        self.parsed = _Parser.parse(body)

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def set_cookies(self):
        return [v for k, v in self.headers if k.lower() == "set-cookie"]

    @property
    def location(self):
        return self.header("Location")

    @property
    def text(self):
        """The visible text of <main>, whitespace collapsed."""
        return " ".join(self.parsed.main_text.split())

    def forms(self):
        return self.parsed.forms

    def form(self, action):
        """The first form posting to action (a path)."""
        for f in self.parsed.forms:
            if f["action"] == action:
                return f
        raise AssertionError("no form to %s on the page:\n%s" % (action, self.body[:3000]))

    def input_value(self, element_id):
        for f in self.parsed.forms + [{"inputs": self.parsed.loose_inputs}]:
            for i in f["inputs"]:
                if i.get("id") == element_id:
                    return i.get("value")
        return None

    def field_error(self, field):
        """The text of the error shown beside field (id "<field>-error")."""
        return self.parsed.by_id_text.get(field + "-error")

    @property
    def error(self):
        """The form-wide error (role=alert), or None."""
        return self.parsed.alert

    def __repr__(self):
        return "<Page %d %s>" % (self.status, self.text[:500])


class _Parser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []
        self.loose_inputs = []
        self.labels = {}         # for-id -> label text
        self.by_id_text = {}
        self.alert = None
        self.main_text = ""
        self._in_main = False
        self._form = None
        self._capture = []       # [(id, tag, depth, texts)]
        self._label_for = None
        self._label_text = []
        self._alert_depth = None
        self._alert_text = []

    @classmethod
    def parse(cls, body):
        p = cls()
        p.feed(body)
        p.close()
        return p

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "main":
            self._in_main = True
        if tag == "form":
            self._form = {"action": a.get("action"), "method": (a.get("method") or "get").lower(),
                          "inputs": []}
            self.forms.append(self._form)
        if tag in ("input", "select", "textarea", "button"):
            entry = dict(a)
            entry["tag"] = tag
            (self._form["inputs"] if self._form else self.loose_inputs).append(entry)
        if tag == "option" and self._form and self._form["inputs"]:
            self._form["inputs"][-1].setdefault("options", []).append(a.get("value"))
        if tag == "label":
            self._label_for = a.get("for")
            self._label_text = []
        if a.get("id"):
            self._capture.append([a["id"], tag, []])
        if a.get("role") == "alert":
            self._alert_depth = tag
            self._alert_text = []

    def handle_endtag(self, tag):
        if tag == "main":
            self._in_main = False
        if tag == "form":
            self._form = None
        if tag == "label":
            if self._label_for:
                self.labels[self._label_for] = " ".join("".join(self._label_text).split())
            self._label_for = None
        for c in reversed(self._capture):
            if c[1] == tag:
                self.by_id_text[c[0]] = " ".join("".join(c[2]).split())
                self._capture.remove(c)
                break
        if self._alert_depth == tag:
            self.alert = " ".join("".join(self._alert_text).split())
            self._alert_depth = None

    def handle_data(self, data):
        if self._in_main:
            self.main_text += data + " "
        if self._label_for is not None:
            self._label_text.append(data)
        for c in self._capture:
            c[2].append(data)
        if self._alert_depth:
            self._alert_text.append(data)


class Console:
    """One visitor: cookies, the CSRF token of the last page."""

    def __init__(self, source=None):
        self.base = urllib.parse.urlsplit(env("CIVIC_BASE_URL"))
        self.cookies = {}
        self.source = source or fresh_client_address()
        self.last = None

    def request(self, method, path, body=None, headers=None):
        send = {"Accept": "text/html"}
        if self.cookies:
            send["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        send.update(headers or {})
        conn = http.client.HTTPConnection(self.base.hostname, self.base.port or 80, timeout=30,
                                          source_address=(self.source, 0))
        try:
            conn.request(method, path, body=body, headers=send)
            resp = conn.getresponse()
            page = Page(resp.status, resp.getheaders(), resp.read().decode("utf-8", "replace"))
        finally:
            conn.close()
        for raw in page.set_cookies():
            name, _, rest = raw.partition("=")
            value = rest.split(";", 1)[0]
            if "max-age=0" in raw.lower().replace(" ", ""):
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        if page.status == 200 or page.parsed.forms:
            self.last = page
        return page

    def get(self, path, follow=False):
        page = self.request("GET", path)
        while follow and page.status in (301, 302, 303) and page.location:
            page = self.request("GET", page.location)
        return page

    @property
    def csrf(self):
        for f in (self.last.forms() if self.last else []):
            for i in f["inputs"]:
                if i.get("name") == "csrf":
                    return i.get("value")
        return None

    def post(self, path, fields=(), csrf=True, follow=False, content_type=None):
        """fields: a dict or a list of pairs (repeat a name for checkboxes).
        csrf=True adds the token of the last page fetched (GET path first
        when there is none); a string sends that token; False sends none."""
        pairs = list(fields.items()) if isinstance(fields, dict) else list(fields)
        if csrf is True:
            if self.csrf is None:
                self.get(path)
            pairs.append(("csrf", self.csrf))
        elif csrf:
            pairs.append(("csrf", csrf))
        body = urllib.parse.urlencode(pairs)
        page = self.request("POST", path, body=body, headers={
            "Content-Type": content_type or "application/x-www-form-urlencoded"})
        while follow and page.status in (301, 302, 303) and page.location:
            page = self.request("GET", page.location)
        return page

    def login(self, email, password):
        self.get("/console/login")
        page = self.post("/console/login", {"email": email, "password": password})
        assert page.status == 303, page
        # The login page's token was made before the session: the next
        # post() fetches its own page first.
        self.last = None
        return page


def new_account(plan=None):
    """A verified account made with civic-admin: (email, password, id)."""
    email = unique("console") + "@example.org"
    password = "Tr1cky-" + os.urandom(9).hex()
    out = admin_json("account", "create", "--email", email, "--password", password)
    if plan:
        admin_json("plan", "set", "--account", str(out["id"]), "--plan", plan)
    return email, password, int(out["id"])


def logged_in(plan=None):
    """A Console logged in to a new verified account; also returns
    (email, password, account_id)."""
    email, password, account_id = new_account(plan)
    c = Console()
    c.login(email, password)
    return c, (email, password, account_id)


def deliver_mail(to):
    """Runs civic-dispatch once (no linger) and returns the mails to `to`,
    oldest first."""
    with tempfile.TemporaryDirectory() as d:
        dispatchutil.run(config=dispatchutil.quick_config(d))
    return dispatchutil.mails(to)


LINK_RE = re.compile(r"(https?://[^\s\"<>]+/console/(?:verify|reset)\?token=[A-Za-z0-9_-]{43})")


def link_in(mail):
    """The console link of a verification or reset mail (its plain text)."""
    m = LINK_RE.search(mail.text)
    assert m, "no console link in mail:\n%s" % mail.text
    return urllib.parse.urlsplit(m.group(1))
