"""The deployment's own controls, whichever front end serves the stack
(CIVIC_WEB_FRONTEND: lighttpd, apache or cgi): the web server's workers
and the responders run as an unprivileged user, and reach each other
over sockets no other user can use (docs/security.md)."""

import os
import stat

import pytest

from conftest import env, poll, request

# One request per pool, so that mod_fcgid (which spawns on demand) has
# every responder running.
PATHS = ("/v1/developer-token/", "/v1/usage/", "/v1/pricing-plans/", "/v1/profile/",
         "/v1/supported-countries/", "/v1/risk-assessments/", "/v1/alert-destinations/",
         "/v1/alert-subscriptions/", "/v1/alert-dispatches/", "/v1/subscriptions/",
         "/console/login", "/nowhere")


def frontend():
    return os.environ.get("CIVIC_WEB_FRONTEND", "lighttpd")


def proc_uid(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Uid:"):
                return int(line.split()[1])  # the real uid
    raise AssertionError("no Uid line for pid %d" % pid)


def processes():
    """(pid, ppid, argv) of every process we can see."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % name, "rb") as f:
                argv = f.read().split(b"\0")
            with open("/proc/%s/stat" % name) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        out.append((int(name), ppid, [a.decode(errors="replace") for a in argv if a]))
    return out


def web_server_pid():
    name = "lighttpd.pid" if frontend() == "lighttpd" else "apache2.pid"
    with open(os.path.join(env("CIVIC_VAR"), "run", name)) as f:
        return int(f.read().strip())


def test_the_responders_run_unprivileged():
    for path in PATHS:
        request("GET", path)
    bindir = os.path.join(env("CIVIC_VAR"), "bin") + "/"
    responders = [(pid, argv[0]) for pid, _, argv in processes()
                  if argv and argv[0].startswith(bindir)]
    if frontend() == "cgi":
        # One short-lived process per request: none to see afterwards.
        assert responders == []
    else:
        assert len(responders) >= 12, responders
    for pid, name in responders:
        assert proc_uid(pid) != 0, "%s (pid %d) runs as root" % (name, pid)


def test_the_web_server_workers_run_unprivileged():
    """lighttpd drops root itself; Apache's parent keeps it (to reopen its
    logs) and its children, which run the CGI programs and mod_fcgid's
    process manager, do not."""
    if os.geteuid() != 0:
        pytest.skip("the stack runs as its own unprivileged user")
    parent = web_server_pid()
    if frontend() == "lighttpd":
        assert proc_uid(parent) != 0
        return
    def root_children():
        children = [pid for pid, ppid, _ in processes() if ppid == parent]
        assert children, "Apache has no worker processes"
        root = []
        for pid in children:
            try:
                if proc_uid(pid) == 0:
                    root.append(pid)
            except FileNotFoundError:
                pass  # a worker that has just exited
        return root

    # A worker Apache has just forked is root for the moment it takes to
    # switch user: only one that stays root is a failure.
    root = poll(root_children, lambda pids: not pids, seconds=5, pause=0.2)
    assert not root, "Apache worker(s) %s run as root" % root


def test_fastcgi_sockets_are_private():
    """The sockets between the web server and the responders sit in a
    directory only the web user may enter: nobody else can talk FastCGI
    to a responder (and so bypass the web server)."""
    if frontend() == "cgi":
        pytest.skip("plain CGI: no sockets")
    run = os.path.join(env("CIVIC_VAR"), "run", "fcgi" if frontend() == "lighttpd" else "fcgid")
    request("GET", "/v1/pricing-plans/")
    st = os.stat(run)
    assert stat.S_IMODE(st.st_mode) & 0o077 == 0, oct(st.st_mode)
    sockets = []
    for dirpath, _, files in os.walk(run):
        sockets += [os.path.join(dirpath, f) for f in files
                    if stat.S_ISSOCK(os.lstat(os.path.join(dirpath, f)).st_mode)]
    assert sockets, "no FastCGI socket in %s" % run
    for path in sockets:
        assert os.stat(path).st_uid == st.st_uid, path
