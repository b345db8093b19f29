"""The playground's web server: the standard library's `ThreadingHTTPServer` with
server-sent events (SSE).

Why this and not Starlette or WebSockets: the page only needs a stream of frames from
the server (SSE, which browsers reconnect by themselves) and a few small JSON requests
to it (settings, play/pause, a clicked point), so the standard library covers it with
no new dependency, one thread per open connection, and nothing to install.

Routes: GET / (the page), GET /static/<file> (its scripts and style), GET
/api/session/<id>/events (text/event-stream of frames), and the JSON API of `api.py`.
Each tab makes its own session (its own model and worker thread). The server listens
on the loopback interface only and answers only requests addressed to it by that name
(the Host header), so other machines and other web sites cannot drive it.
"""

from __future__ import annotations

import contextlib
import json
import re
import sys
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from chainrule.nn.finite import finite_or_none
from chainrule.viz.playground.api import SESSION_PATH, Api, RequestError
from chainrule.viz.playground.session import Session

STATIC = Path(__file__).parent / "static"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
LOOPBACK = ("127.0.0.1", "localhost", "::1")
MAX_BODY = 64 * 1024
MAX_DEPTH = 16  # nesting of a request's JSON: settings are one level deep
MAX_DIGITS = 18  # of an integer in a request: sample indices and settings are small
HEARTBEAT = 10.0  # seconds between keep-alive comments on an idle event stream
SOCKET_TIMEOUT = 30.0  # a client that stops sending mid-request frees its thread after this
QUEUE = 128  # pending connections: a page opening at once plus a burst of clients


class Playground(ThreadingHTTPServer):
    """The HTTP server plus the sessions it serves."""

    daemon_threads = True  # open event streams do not keep the process alive
    block_on_close = False
    request_queue_size = QUEUE

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        if host not in LOOPBACK:
            raise ValueError(
                f"the playground only listens on the loopback interface "
                f"({', '.join(LOOPBACK)}), not {host!r}"
            )
        if host == "::1":
            import socket

            self.address_family = socket.AF_INET6
        self.api = Api()
        self.stopping = self.api.stopping
        try:
            super().__init__((host, port), Handler)
        except (OSError, OverflowError) as e:  # the port is taken, not ours, or not a port
            why = getattr(e, "strerror", None) or str(e)
            raise ValueError(
                f"cannot listen on {host}:{port}: {why}; choose another port (0 picks a free one)"
            ) from None

    @property
    def url(self) -> str:
        host, port = str(self.server_address[0]), self.server_address[1]
        return f"http://{'[::1]' if host == '::1' else host}:{port}/"

    @property
    def sessions(self) -> dict[str, Session]:
        return self.api.sessions

    def close_all(self) -> None:
        self.api.close_all()

    def server_close(self) -> None:
        self.close_all()
        super().server_close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up or stalls is its own business: no traceback. Anything
        else is a bug in this server: one line on stderr, and the server goes on."""
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            return
        print(f"playground: {type(error).__name__}: {error}", file=sys.stderr, flush=True)


class Handler(BaseHTTPRequestHandler):
    server: Playground
    protocol_version = "HTTP/1.1"
    timeout = SOCKET_TIMEOUT

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the terminal shows the URL and errors only

    # --- plumbing --------------------------------------------------------------------
    def _send(self, status: HTTPStatus, body: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self.wfile.write(body)

    def _json(self, obj: Any, status: HTTPStatus = HTTPStatus.OK) -> None:
        # JSON has no NaN or infinity (a diverged run makes them): they go out as null
        self._send(
            status, json.dumps(finite_or_none(obj), allow_nan=False).encode(), "application/json"
        )

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (a malformed request line, headers too long, an
        unknown method) in the same JSON form as ours, and the connection closed."""
        self.close_connection = True
        self.request_version = "HTTP/1.1"  # never HTTP/0.9's bare body: a status line first
        status = HTTPStatus(code)
        with contextlib.suppress(OSError):  # the client has gone already
            self._json({"error": message or status.phrase}, status)

    def _refuse(self, status: HTTPStatus, message: str) -> RequestError:
        # the body (if any) was not read: the connection cannot carry another request
        self.close_connection = True
        return RequestError(status, message)

    def _body(self) -> dict[str, Any]:
        """The request's JSON object, read strictly: a Content-Length of digits only (no
        chunked bodies), at most MAX_BODY bytes, nested at most MAX_DEPTH deep, integers
        of at most MAX_DIGITS digits, no NaN or Infinity."""
        if self.headers.get("Transfer-Encoding") is not None:
            raise self._refuse(HTTPStatus.LENGTH_REQUIRED, "send the body with a Content-Length")
        lengths = self.headers.get_all("Content-Length") or []
        if len(lengths) != 1 or not re.fullmatch(r"[0-9]{1,12}", lengths[0].strip()):
            raise self._refuse(
                HTTPStatus.LENGTH_REQUIRED, "one Content-Length of digits only, please"
            )
        length = int(lengths[0])
        if length > MAX_BODY:
            raise self._refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "request too large")
        raw = self.rfile.read(length)
        if len(raw) < length:
            raise ConnectionResetError("the client left mid-request")
        return parse_json(raw)

    def _host_ok(self) -> bool:
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0].strip("[]")
        return host in LOOPBACK

    def _dispatch(self, method: str) -> None:
        try:
            if self.server.stopping.is_set():  # a kept-alive connection after Ctrl-C
                self.close_connection = True
                raise RequestError(HTTPStatus.SERVICE_UNAVAILABLE, "stopping", gone=True)
            if not self._host_ok():
                raise RequestError(HTTPStatus.FORBIDDEN, "requests must be addressed to localhost")
            path = self.path.split("?", 1)[0]
            if method == "GET":
                self._get(path)
            else:
                self._post(path)
        except RequestError as e:
            self._json({"error": str(e), **({"gone": True} if e.gone else {})}, e.status)
        except (ConnectionError, TimeoutError):
            self.close_connection = True  # the client left: nobody to answer
        except Exception as e:  # a bug, not a bad request: say so in the page, keep serving
            self.close_connection = True
            self._json({"error": f"internal error: {type(e).__name__}: {e}"}, HTTPStatus(500))

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _not_allowed(self) -> None:
        self.send_error(HTTPStatus.METHOD_NOT_ALLOWED, "only GET and POST are used here")

    do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _not_allowed

    # --- routes ----------------------------------------------------------------------
    def _get(self, path: str) -> None:
        if path in ("/", "/index.html"):
            return self._static("index.html")
        if path == "/favicon.ico":
            return self._send(HTTPStatus.NO_CONTENT, b"", "text/plain")
        if path.startswith("/static/"):
            return self._static(path[len("/static/") :])
        m = re.fullmatch(SESSION_PATH + "events", path)
        if m:
            return self._events(self.server.api.session(m.group(1)))
        return self._json(self.server.api.get(path))

    def _static(self, name: str) -> None:
        # only the files shipped in static/, by exact name: no path can climb out of it
        files = {p.name: p for p in STATIC.iterdir() if p.is_file()}
        if name not in files or files[name].suffix not in CONTENT_TYPES:
            raise RequestError(HTTPStatus.NOT_FOUND, f"no such file: {name}")
        self._send(HTTPStatus.OK, files[name].read_bytes(), CONTENT_TYPES[files[name].suffix])

    def _post(self, path: str) -> None:
        # Another web site open in the browser may send requests here too: a JSON body
        # makes the browser ask first (CORS preflight, which this server never allows),
        # and the page's own requests come from its own origin.
        origin = self.headers.get("Origin")
        if origin is not None and origin.split("://", 1)[-1] != self.headers.get("Host"):
            raise RequestError(HTTPStatus.FORBIDDEN, "requests must come from the playground page")
        if (self.headers.get("Content-Type") or "").split(";")[0].strip() != "application/json":
            raise RequestError(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "send JSON (application/json)")
        self._json(self.server.api.post(path, self._body()))

    def _events(self, session: Session) -> None:
        """Stream frames as they are made; a newer frame replaces one not yet sent, so a
        slow page never falls behind the training."""
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        sent = -1

        def news() -> bool:
            return session.version != sent or session.closed

        session.watch(True)
        try:
            while not session.closed and not self.server.stopping.is_set():
                with session.changed:
                    session.changed.wait_for(news, timeout=HEARTBEAT)
                    frame, version = session.frame, session.version
                session.last_seen = time.monotonic()
                if version != sent:
                    self.wfile.write(f"data: {frame}\n\n".encode())
                    sent = version
                else:
                    self.wfile.write(b": keep-alive\n\n")
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the tab was closed or hidden; the run pauses if it stays away
        finally:
            session.watch(False)


def parse_json(raw: bytes) -> dict[str, Any]:
    """A JSON object from a request body, bounded before it is parsed (depth) and while
    (integer size, no NaN/Infinity): anything else is a 400 RequestError."""
    depth = deepest(raw)
    if depth > MAX_DEPTH:
        raise RequestError(HTTPStatus.BAD_REQUEST, f"the request is nested too deeply ({depth})")

    def integer(text: str) -> int:
        if len(text.lstrip("-")) > MAX_DIGITS:
            raise RequestError(HTTPStatus.BAD_REQUEST, f"a number too large: {text[:20]}…")
        return int(text)

    def constant(text: str) -> Any:
        raise RequestError(HTTPStatus.BAD_REQUEST, f"{text} is not a number JSON allows")

    try:
        data = json.loads(raw or b"{}", parse_int=integer, parse_constant=constant)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError among them
        raise RequestError(HTTPStatus.BAD_REQUEST, "the request is not JSON") from None
    if not isinstance(data, dict):
        raise RequestError(HTTPStatus.BAD_REQUEST, "the request must be a JSON object")
    return data


def deepest(raw: bytes) -> int:
    """How deep the brackets of a JSON text nest (those inside strings not counted)."""
    depth = top = 0
    in_string = escaped = False
    for c in raw:
        if in_string:
            if escaped:
                escaped = False
            elif c == 0x5C:  # backslash
                escaped = True
            elif c == 0x22:  # quote
                in_string = False
        elif c == 0x22:
            in_string = True
        elif c in (0x5B, 0x7B):  # [ {
            depth += 1
            top = max(top, depth)
        elif c in (0x5D, 0x7D):
            depth -= 1
    return top
