"""A responder binary run by itself, as a web server would run it:
as CGI (one request from its environment and stdin, DESIGN.md: shared
hosting with only mod_cgi), or as FastCGI on a listening socket handed
over as fd 0, talked to with a minimal FastCGI client (the responder
role of the FastCGI 1.0 specification, one request per connection).

The binaries are those of the build under test, in $CIVIC_BUILD (or
found next to $CIVIC_ADMIN when it is unset); they read the stack's config ($CIVIC_CONFIG) unless a
test passes a copy."""

import json
import os
import socket
import struct
import subprocess

from conftest import env

# FastCGI record types and the responder role.
FCGI_BEGIN_REQUEST, FCGI_END_REQUEST, FCGI_PARAMS, FCGI_STDIN, FCGI_STDOUT = 1, 3, 4, 5, 6
FCGI_RESPONDER = 1


def binary(name):
    """build/src/endpoints/NAME.fcgi (build/src/console/ for
    civic-console), of the build under test: $CIVIC_BUILD (scripts/test
    --valgrind's CIVIC_ADMIN is a wrapper elsewhere), else the one the
    civic-admin under test is from."""
    build = os.environ.get("CIVIC_BUILD") or os.path.dirname(
        os.path.dirname(os.path.dirname(env("CIVIC_ADMIN"))))
    folder = "console" if name == "civic-console" else "endpoints"
    return os.path.join(build, "src", folder, name + ".fcgi")


def process_env(config=None):
    """The environment of a responder process: PATH, CIVIC_CONFIG (the
    stack's, or config) and the sanitizer options of an --asan run, so
    that reports land in VAR/log where scripts/test looks."""
    out = {"PATH": "/usr/bin:/bin", "CIVIC_CONFIG": config or env("CIVIC_CONFIG")}
    for name in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if os.environ.get(name):
            out[name] = os.environ[name]
    return out


def request_params(method, uri, body=b"", headers=None, script_name=None,
                   remote_addr="127.0.0.1", content_type="application/json"):
    """The CGI meta-variables of one request (FastCGI sends the same as
    its PARAMS); headers become HTTP_* variables."""
    path, _, query = uri.partition("?")
    params = {
        "GATEWAY_INTERFACE": "CGI/1.1",
        "REQUEST_METHOD": method,
        "REQUEST_URI": uri,
        "SCRIPT_NAME": script_name or path,
        "QUERY_STRING": query,
        "REMOTE_ADDR": remote_addr,
        "SERVER_PROTOCOL": "HTTP/1.1",
    }
    if body:
        params["CONTENT_TYPE"] = content_type
        params["CONTENT_LENGTH"] = str(len(body))
    for k, v in (headers or {}).items():
        params["HTTP_" + k.upper().replace("-", "_")] = v
    return params


def run_cgi(name, method, uri, body=b"", headers=None, config=None, **params):
    """Runs responder NAME once as CGI; returns the CompletedProcess
    (stdout and stderr as bytes), whatever its exit status."""
    environ = process_env(config)
    environ.update(request_params(method, uri, body, headers, **params))
    return subprocess.run([binary(name)], input=body, env=environ,
                          capture_output=True, timeout=30)


def split_response(out):
    """A CGI-style response (Status line, headers, blank line, body) ->
    (status, [(name, value)], payload bytes)."""
    head, _, payload = out.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0].startswith("Status: "), out
    headers = [tuple(line.split(": ", 1)) for line in lines[1:]]
    for k, v in headers:
        if k.lower() == "content-length":
            assert int(v) == len(payload), out
    return int(lines[0].split()[1]), headers, payload


def json_response(out):
    """split_response for the API: (status, headers dict, parsed JSON)."""
    status, headers, payload = split_response(out)
    return status, dict(headers), json.loads(payload)


def cgi(name, method, uri, body=b"", headers=None, config=None):
    """One API request to responder NAME run as CGI, which must exit 0:
    (status, headers dict, parsed JSON)."""
    proc = run_cgi(name, method, uri, body, headers, config)
    assert proc.returncode == 0, proc
    return json_response(proc.stdout)


# ---------------------------------------------------------------- FastCGI

def start_fastcgi(name, listener, config=None):
    """Starts responder NAME with the listening socket listener as its
    fd 0, as lighttpd or mod_fcgid do; returns the Popen (stdout and
    stderr piped)."""
    return subprocess.Popen([binary(name)], stdin=listener.fileno(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=process_env(config))


def start_fastcgi_unix(name, path, config=None):
    """start_fastcgi on a new unix socket at path (bound, listening and
    handed over; the caller removes path)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.bind(path)
        s.listen(8)
        return start_fastcgi(name, s, config)


def record(kind, content, request_id=1):
    """One FastCGI record (version 1, no padding)."""
    return struct.pack("!BBHHBx", 1, kind, request_id, len(content), 0) + content


def _length(n):
    return bytes([n]) if n < 128 else struct.pack("!I", n | 0x80000000)


def _name_values(params):
    out = b""
    for name, value in params.items():
        name, value = name.encode(), value.encode()
        out += _length(len(name)) + _length(len(value)) + name + value
    return out


def _connect(address, timeout):
    if isinstance(address, str):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(address)
        return s
    return socket.create_connection(address[:2], timeout=timeout)


def fastcgi(address, method, uri, body=b"", headers=None, timeout=10):
    """One request to a FastCGI responder listening on address (a
    getsockname() result: (host, port, ...) or a unix socket's path);
    returns its response as json_response does."""
    params = _name_values(request_params(method, uri, body, headers))
    assert len(params) < 65536 and len(body) < 65536
    stdout = b""
    with _connect(address, timeout) as s:
        s.sendall(record(FCGI_BEGIN_REQUEST, struct.pack("!HB5x", FCGI_RESPONDER, 0))
                  + record(FCGI_PARAMS, params) + record(FCGI_PARAMS, b"")
                  + (record(FCGI_STDIN, body) if body else b"")
                  + record(FCGI_STDIN, b""))
        buf = b""
        while True:
            chunk = s.recv(65536)
            assert chunk, "the responder closed the connection without FCGI_END_REQUEST " \
                          "(stdout so far: %r)" % stdout
            buf += chunk
            while len(buf) >= 8:
                _, kind, _, clen, plen = struct.unpack("!BBHHB", buf[:7])
                if len(buf) < 8 + clen + plen:
                    break
                content, buf = buf[8:8 + clen], buf[8 + clen + plen:]
                if kind == FCGI_STDOUT:
                    stdout += content
                elif kind == FCGI_END_REQUEST:
                    return json_response(stdout)
