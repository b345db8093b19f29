"""The playground's web server: the standard library's `ThreadingHTTPServer` with
server-sent events (SSE).

Why this and not Starlette or WebSockets: the page only needs a stream of frames from
the server (SSE, which browsers reconnect by themselves) and a few small JSON requests
to it (settings, play/pause, a clicked point), so the standard library covers it with
no new dependency, one thread per open connection, and nothing to install.

Routes (all JSON except the page, its static files and the event stream):
    GET  /                          the page; GET /static/<file> its script and style
    GET  /api/meta                  the settings' schema and the presets
    POST /api/session               {settings} -> {session, settings} (a new model)
    POST /api/session/<id>/settings {settings} -> the model rebuilt, or 400 {error}
    POST /api/session/<id>/control  {action: play|pause|step|reset}
    POST /api/session/<id>/backprop {split, index} -> one sample's graph and steps
    GET  /api/session/<id>/events   text/event-stream of frames
Each tab makes its own session (its own model and worker thread). The server listens
on the loopback interface only and answers only requests addressed to it by that name
(the Host header), so other machines and other web sites cannot drive it.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from chainrule.viz.playground import backprop, config
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
HEARTBEAT = 10.0  # seconds between keep-alive comments on an idle event stream


class Playground(ThreadingHTTPServer):
    """The HTTP server plus the sessions it serves."""

    daemon_threads = True  # open event streams do not keep the process alive
    block_on_close = False

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
        except OSError as e:  # the port is taken, or not ours to take
            raise ValueError(
                f"cannot listen on {host}:{port}: {e.strerror or e}; "
                "choose another port (0 picks a free one)"
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


class RequestError(Exception):
    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


class Handler(BaseHTTPRequestHandler):
    server: Playground
    protocol_version = "HTTP/1.1"

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
        self._send(status, json.dumps(obj).encode(), "application/json")

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise RequestError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "request too large")
        try:
            data = json.loads(self.rfile.read(length) or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise RequestError(HTTPStatus.BAD_REQUEST, "the request is not JSON") from None
        if not isinstance(data, dict):
            raise RequestError(HTTPStatus.BAD_REQUEST, "the request must be a JSON object")
        return data

    def _host_ok(self) -> bool:
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0].strip("[]")
        return host in LOOPBACK

    def _session(self, key: str) -> Session:
        with self.server.sessions_lock:
            session = self.server.sessions.get(key)
        if session is None:
            raise RequestError(
                HTTPStatus.NOT_FOUND, "this session has ended (the server restarted?): reload"
            )
        session.last_seen = time.monotonic()
        return session

    def _dispatch(self, method: str) -> None:
        try:
            if not self._host_ok():
                raise RequestError(HTTPStatus.FORBIDDEN, "requests must be addressed to localhost")
            path = self.path.split("?", 1)[0]
            if method == "GET":
                self._get(path)
            else:
                self._post(path)
        except RequestError as e:
            self._json({"error": str(e)}, e.status)
        except config.SettingsError as e:
            self._json({"error": str(e)}, HTTPStatus.BAD_REQUEST)
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as e:  # a bug, not a bad request: say so in the page, keep serving
            self._json({"error": f"internal error: {type(e).__name__}: {e}"}, HTTPStatus(500))

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

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
        m = re.fullmatch(r"/api/session/([0-9a-f]+)/events", path)
        if m:
            return self._events(self._session(m.group(1)))
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
            settings = config.parse(_strings(body.get("settings", {})))
            key, session = self.server.new_session(settings)
            return self._json({"session": key, "settings": settings})
        m = re.fullmatch(r"/api/session/([0-9a-f]+)/(settings|control|backprop)", path)
        if not m:
            raise RequestError(HTTPStatus.NOT_FOUND, f"no such action: {path}")
        session, action = self._session(m.group(1)), m.group(2)
        if action == "settings":
            settings = config.parse(_strings(body.get("settings", {})))
            session.configure(settings)
            return self._json({"settings": settings})
        if action == "control":
            try:
                session.control(str(body.get("action")))
            except ValueError as e:
                raise RequestError(HTTPStatus.BAD_REQUEST, str(e)) from None
            return self._json({"ok": True})
        return self._json(self._backprop(session, body))

    def _backprop(self, session: Session, body: dict[str, Any]) -> dict[str, Any]:
        split, index = body.get("split"), body.get("index")
        with session.lock:
            t = session.trainer
            xs, ys = (t.x_train, t.y_train) if split == "train" else (t.x_val, t.y_val)
            if split not in ("train", "val") or not isinstance(index, int):
                raise RequestError(HTTPStatus.BAD_REQUEST, "give split train|val and an index")
            if not 0 <= index < len(ys):
                raise RequestError(HTTPStatus.BAD_REQUEST, f"no {split} sample {index}")
            model, x, y, loss = t.model, xs[index].tolist(), ys[index], t.loss_name
            try:
                result = backprop.graph(model, x, y, loss)  # copies the model first
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


def _strings(settings: Any) -> dict[str, Any]:
    if not isinstance(settings, dict):
        raise RequestError(HTTPStatus.BAD_REQUEST, "settings must be an object")
    return {str(k): v for k, v in settings.items()}
