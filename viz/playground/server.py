"""The playground's web server: the standard library's `ThreadingHTTPServer` with
server-sent events (SSE).

Why this and not Starlette or WebSockets: the page only needs a stream of frames from
the server (SSE, which browsers reconnect by themselves) and a few small JSON requests
to it (settings, play/pause, a clicked point), so the standard library covers it with
no new dependency, one thread per open connection, and nothing to install.

Routes (all JSON except the page, its static files and the event stream):
    GET  /                          the page; GET /static/<file> its script and style
    GET  /api/meta                  the settings' schema and the presets
    POST /api/session               {settings, resume?} -> {session, settings, resumed}
    POST /api/session/<id>/settings {settings} -> applied live or rebuilt, or 400 {error}
    POST /api/session/<id>/control  {action: play|pause|step|reset}
    POST /api/session/<id>/backprop {split, index} -> one sample's graph and steps
    GET  /api/session/<id>/events   text/event-stream of frames
    GET  /api/session/<id>/points   the data's points (they change only with a new model)
Each tab makes its own session (its own model and worker thread). The server listens
on the loopback interface only and answers only requests addressed to it by that name
(the Host header), so other machines and other web sites cannot drive it.
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
import secrets
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from chainrule.nn.finite import finite_or_none
from chainrule.viz.playground import backprop, config, views
from chainrule.viz.playground.session import Session

STATIC = Path(__file__).parent / "static"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
LOOPBACK = ("127.0.0.1", "localhost", "::1")
MAX_SESSIONS = 16  # the oldest idle one is closed to make room
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
        self.sessions: dict[str, Session] = {}
        self.sessions_lock = threading.Lock()
        self.stopping = threading.Event()
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

    def new_session(self, settings: dict[str, Any]) -> tuple[str, Session]:
        session = Session(settings)
        key = secrets.token_hex(8)
        with self.sessions_lock:
            if len(self.sessions) >= MAX_SESSIONS:
                oldest = min(self.sessions, key=lambda k: self.sessions[k].last_seen)
                self.sessions.pop(oldest).close()
            self.sessions[key] = session
        return key, session

    def close_all(self) -> None:
        self.stopping.set()
        with self.sessions_lock:
            for s in self.sessions.values():
                s.close()
            self.sessions.clear()

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


class RequestError(Exception):
    """A refused request: its status, and the message the page shows. `gone`: the
    session is not (or no longer) on this server, so the page makes a new one."""

    def __init__(self, status: HTTPStatus, message: str, gone: bool = False) -> None:
        super().__init__(message)
        self.status, self.gone = status, gone


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

    def _session(self, key: str) -> Session:
        with self.server.sessions_lock:
            session = self.server.sessions.get(key)
        if session is None:
            raise RequestError(
                HTTPStatus.NOT_FOUND, "this session has ended (the server restarted?)", gone=True
            )
        session.last_seen = time.monotonic()
        return session

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
        except config.SettingsError as e:
            self._json({"error": str(e)}, HTTPStatus.BAD_REQUEST)
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
        if path == "/api/meta":
            presets = {
                name: {"changes": config.preset_changes(name), "help": p.get("help", "")}
                for name, p in config.PRESETS.items()
            }
            return self._json({"schema": config.schema(), "presets": presets})
        m = re.fullmatch(r"/api/session/([0-9a-f]{1,64})/(events|points)", path)
        if m and m.group(2) == "events":
            return self._events(self._session(m.group(1)))
        if m:
            return self._json(self._session(m.group(1)).points())
        raise RequestError(HTTPStatus.NOT_FOUND, f"no such page: {path}")

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
        body = self._body()
        if path == "/api/session":
            return self._json(self._open(body))
        m = re.fullmatch(r"/api/session/([0-9a-f]{1,64})/(settings|control|backprop|inspect)", path)
        if not m:
            raise RequestError(HTTPStatus.NOT_FOUND, f"no such action: {path}")
        session, action = self._session(m.group(1)), m.group(2)
        if action == "settings":
            settings = config.parse(_strings(body.get("settings", {})))
            applied = session.configure(settings)
            return self._json({"settings": settings, "applied": applied})
        if action == "control":
            try:
                session.control(str(body.get("action")))
            except ValueError as e:
                raise RequestError(HTTPStatus.BAD_REQUEST, str(e)) from None
            return self._json({"ok": True})
        if action == "inspect":
            return self._json(self._inspect(session, body))
        return self._json(self._backprop(session, body))

    def _inspect(self, session: Session, body: dict[str, Any]) -> dict[str, Any]:
        """A hovered unit's output over the input plane; for a hovered edge also its
        weight and the last step's gradient of the loss with respect to it."""
        layer, unit, edge = body.get("layer"), body.get("unit"), body.get("input")
        with session.holding() as t:
            sizes = [m.nout for m in t.layers]
            if type(layer) is not int or not 0 <= layer < len(sizes):
                raise RequestError(HTTPStatus.BAD_REQUEST, f"layer: 0 to {len(sizes) - 1}")
            if type(unit) is not int or not 0 <= unit < sizes[layer]:
                raise RequestError(HTTPStatus.BAD_REQUEST, f"unit: 0 to {sizes[layer] - 1}")
            nin = t.layers[layer].nin
            if edge is not None and (type(edge) is not int or not 0 <= edge < nin):
                raise RequestError(HTTPStatus.BAD_REQUEST, f"input: 0 to {nin - 1}")
            heatmap = views.unit_map(t.model, t.box, layer, unit)
            w = None if edge is None else t.layers[layer].weight[unit][edge]
        where = f"layer {layer + 1} unit {unit}"
        return {
            "title": where if w is None else f"the edge from input {edge} into {where}",
            "heatmap": heatmap,
            "edge": None if w is None else {"weight": w.data, "grad": w.grad},
        }

    def _open(self, body: dict[str, Any]) -> dict[str, Any]:
        """A tab's session: the one it had (`resume`, after a reload) if it still runs,
        else a new one from the settings."""
        resume = body.get("resume")
        if isinstance(resume, str):
            with self.server.sessions_lock:
                session = self.server.sessions.get(resume)
            if session is not None and not session.closed:
                session.last_seen = time.monotonic()
                return {"session": resume, "settings": session.settings, "resumed": True}
        settings = config.parse(_strings(body.get("settings", {})))
        key, session = self.server.new_session(settings)
        return {"session": key, "settings": settings, "resumed": False}

    def _backprop(self, session: Session, body: dict[str, Any]) -> dict[str, Any]:
        split, index = body.get("split"), body.get("index")
        if split not in ("train", "val") or type(index) is not int:
            raise RequestError(
                HTTPStatus.BAD_REQUEST, "give split (train or val) and a whole-number index"
            )
        # the model as it is between two slices of training, copied (a short wait)
        with session.holding() as t:
            xs, ys = (t.x_train, t.y_train) if split == "train" else (t.x_val, t.y_val)
            if not 0 <= index < len(ys):
                raise RequestError(HTTPStatus.BAD_REQUEST, f"no {split} sample {index}")
            big = backprop.too_big(t.model)
            if big:
                raise RequestError(HTTPStatus.BAD_REQUEST, big)
            model, x, y, loss = copy.deepcopy(t.model), xs[index].tolist(), ys[index], t.loss_name
        try:
            result = backprop.graph(model, x, y, loss)
        except ValueError as e:
            raise RequestError(HTTPStatus.BAD_REQUEST, str(e)) from None
        result.update({"split": split, "index": index, "x": x, "y": y})
        return result

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


def _strings(settings: Any) -> dict[str, Any]:
    if not isinstance(settings, dict):
        raise RequestError(HTTPStatus.BAD_REQUEST, "settings must be an object")
    return {str(k): v for k, v in settings.items()}
