"""The playground in a notebook: an anywidget whose page is the same as the standalone
one, driven by the kernel. The kernel trains (a `Session` per widget, as per browser tab)
and sends frames as widget messages; the page sends its requests as messages too and
the same `Api` answers them. No server, no port, no iframe: it works wherever the
notebook's widgets do (JupyterLab, Notebook 7, VS Code, Colab, a remote JupyterHub).

    from chainrule.viz.playground import widget
    widget()                       # or widget(dataset="spirals", hidden="16,16")

Each widget is a model of its own: two widgets on one page train independently, and a
widget displayed twice shows its one model in both places (either view drives it).
"""

from __future__ import annotations

import re
import threading
from http import HTTPStatus
from pathlib import Path
from typing import Any

from chainrule.nn.finite import finite_or_none
from chainrule.viz.playground import config
from chainrule.viz.playground.api import Api, RequestError
from chainrule.viz.playground.session import Session

STATIC = Path(__file__).parent / "static"
# the page's modules, each after those it imports
ORDER = ["charts", "digits", "client", "network", "layers", "stepper", "form", "main", "widget"]
PREFIX = ".cr-pg"


def bundle() -> str:
    """The page's ES modules as one module (a widget's code is one file): each module in
    a function scope returning its exports, `import {a} from "./m.js"` read from those."""
    parts = []
    for name in ORDER:
        code = (STATIC / f"{name}.js").read_text()
        code = re.sub(
            r'^import \{([^}]*)\} from "\./(\w+)\.js";$',
            lambda m: f"const {{{m.group(1)}}} = __{m.group(2)};",
            code,
            flags=re.M,
        )
        if name == ORDER[-1]:
            parts.append(code)  # the widget's own module keeps its default export
            continue
        exported = re.findall(r"^export (?:async )?(?:function|const|class|let) (\w+)", code, re.M)
        code = re.sub(r"^export ", "", code, flags=re.M)
        parts.append(
            f"const __{name} = (() => {{\n{code}\nreturn {{ {', '.join(exported)} }};\n}})();"
        )
    return "\n".join(parts)


def scoped_css() -> str:
    """The page's style, every rule inside the widget (`body` is the widget itself)."""
    out = []
    for line in (STATIC / "style.css").read_text().splitlines():
        m = re.match(r"^(\s*)([^@/\s}][^{]*)\{(.*)$", line)
        if not m:
            out.append(line)
            continue
        selectors = [s.strip() for s in m.group(2).split(",")]
        scoped = [PREFIX if s == "body" else f"{PREFIX} {s}" for s in selectors]
        out.append(f"{m.group(1)}{', '.join(scoped)} {{{m.group(3)}")
    return "\n".join(out)


def page_html() -> str:
    html = (STATIC / "index.html").read_text()
    return html.split("<!-- page -->", 1)[1].split("<!-- /page -->", 1)[0]


def widget(**settings: Any) -> Any:
    """The playground as a notebook widget, with these settings (names as in the page's
    URL: dataset="spirals", hidden="16,16", lr=0.03, ...; checked now, a bad one raises
    config.SettingsError)."""
    import anywidget  # only here: `import chainrule` stays light
    import traitlets

    raw = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in settings.items()}
    parsed = config.parse(raw)

    class PlaygroundWidget(anywidget.AnyWidget):  # type: ignore[misc]
        _esm = bundle()
        _css = scoped_css()
        _html = traitlets.Unicode(page_html()).tag(sync=True)
        settings = traitlets.Dict(raw).tag(sync=True)
        # the widget's session, made here: every view of the widget shows this one model
        _session = traitlets.Unicode("").tag(sync=True)

    w = PlaygroundWidget()
    driver = Driver(w)
    w._session, _ = driver.api.new_session(parsed)
    return w


class Driver:
    """Answers a widget's messages with an `Api` of its own, and sends it the frames of
    the sessions its views listen to (a thread per session, waiting for each new frame).

    A widget shown twice has two views, each with its own name (`view`): an answer goes
    back with the name of the view that asked, and a frame with its session's key, so
    each view takes only its own answers and its own session's frames."""

    def __init__(self, w: Any) -> None:
        self.w, self.api = w, Api()
        self.views: dict[str, str] = {}  # view -> the session it listens to
        self.threads: dict[str, threading.Thread] = {}  # session -> its frame sender
        self.lock = threading.Lock()
        w.on_msg(self.on_msg)
        w.driver = self  # kept alive with the widget

    def on_msg(self, _: Any, msg: dict[str, Any], buffers: Any = None) -> None:
        path, body, key, view = msg.get("path"), msg.get("body"), msg.get("id"), msg.get("view")
        if path == "listen":
            return self.listen(str(view), str((body or {}).get("session")))
        if path == "unlisten":
            return self.unlisten(str(view))
        try:
            if not isinstance(path, str):
                raise RequestError(HTTPStatus.BAD_REQUEST, "a message needs a path")
            if body is None:
                data = self.api.get(path)
            elif isinstance(body, dict):
                data = self.api.post(path, body)
            else:
                raise RequestError(HTTPStatus.BAD_REQUEST, "the body must be an object")
            self.w.send({"view": view, "id": key, "data": finite_or_none(data)})
        except RequestError as e:
            self.w.send({"view": view, "id": key, "error": str(e), "gone": e.gone})
        except Exception as e:  # a bug: say so in the page, keep answering
            error = f"internal error: {type(e).__name__}: {e}"
            self.w.send({"view": view, "id": key, "error": error})

    def listen(self, view: str, key: str) -> None:
        with self.lock:
            self.views[view] = key
            if key not in self.threads:
                thread = threading.Thread(target=self._frames, args=(key,), daemon=True)
                self.threads[key] = thread
                thread.start()

    def unlisten(self, view: str) -> None:
        """The view is gone (its output cleared): its session's frames stop when no other
        view listens to it, and the run pauses as an unwatched tab's does."""
        with self.lock:
            self.views.pop(view, None)

    def _wanted(self, key: str) -> bool:
        """Whether a view still listens to `key`; if not, its thread is forgotten (under
        the lock: a view that listens meanwhile starts a new one)."""
        with self.lock:
            if key in self.views.values():
                return True
            self.threads.pop(key, None)
            return False

    def _frames(self, key: str) -> None:
        sent = -1
        while not self.api.stopping.is_set() and self._wanted(key):
            session = self.api.sessions.get(key)
            if session is None or session.closed:
                self.api.stopping.wait(0.2)
                continue
            session.watch(True)  # a notebook's widget is watched while a view shows it
            try:
                frame, version = self._next(session, sent)
                if version != sent:
                    self.w.send({"session": key, "frame": frame})
                    sent = version
            finally:
                session.watch(False)

    @staticmethod
    def _next(session: Session, old: int) -> tuple[str, int]:
        """The session's frame once its version is not `old` (or after a second)."""
        with session.changed:
            session.changed.wait_for(lambda: session.version != old or session.closed, 1.0)
            return session.frame, session.version

    def close(self) -> None:
        self.api.close_all()


__all__ = ["Driver", "bundle", "widget"]
