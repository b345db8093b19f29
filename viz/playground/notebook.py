"""The playground in a notebook: an anywidget whose page is the same as the standalone
one, driven by the kernel. The kernel trains (a `Session` per widget, as per browser tab)
and sends frames as widget messages; the page sends its requests as messages too and
the same `Api` answers them. No server, no port, no iframe: it works wherever the
notebook's widgets do (JupyterLab, Notebook 7, VS Code, Colab, a remote JupyterHub).

    from chainrule.viz.playground import widget
    widget()                       # or widget(dataset="spirals", hidden="16,16")
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
ORDER = ["charts", "digits", "client", "network", "layers", "stepper", "main", "widget"]
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
    config.parse(raw)

    class PlaygroundWidget(anywidget.AnyWidget):  # type: ignore[misc]
        _esm = bundle()
        _css = scoped_css()
        _html = traitlets.Unicode(page_html()).tag(sync=True)
        settings = traitlets.Dict(raw).tag(sync=True)

    w = PlaygroundWidget()
    Driver(w)
    return w


class Driver:
    """Answers a widget's messages with an `Api` of its own, and sends it the frames of
    the session it listens to (a thread that waits for each new frame)."""

    def __init__(self, w: Any) -> None:
        self.w, self.api = w, Api()
        self.listening: str | None = None
        self.thread: threading.Thread | None = None
        w.on_msg(self.on_msg)
        w.driver = self  # kept alive with the widget

    def on_msg(self, _: Any, msg: dict[str, Any], buffers: Any = None) -> None:
        path, body, key = msg.get("path"), msg.get("body"), msg.get("id")
        if path == "listen":
            return self.listen(str((body or {}).get("session")))
        try:
            if not isinstance(path, str):
                raise RequestError(HTTPStatus.BAD_REQUEST, "a message needs a path")
            if body is None:
                data = self.api.get(path)
            elif isinstance(body, dict):
                data = self.api.post(path, body)
            else:
                raise RequestError(HTTPStatus.BAD_REQUEST, "the body must be an object")
            self.w.send({"id": key, "data": finite_or_none(data)})
        except RequestError as e:
            self.w.send({"id": key, "error": str(e), "gone": e.gone})
        except Exception as e:  # a bug: say so in the page, keep answering
            self.w.send({"id": key, "error": f"internal error: {type(e).__name__}: {e}"})

    def listen(self, key: str) -> None:
        self.listening = key
        if self.thread is None:
            self.thread = threading.Thread(target=self._frames, daemon=True, name="widget")
            self.thread.start()

    def _frames(self) -> None:
        sent: tuple[str | None, int] = (None, -1)
        while not self.api.stopping.is_set():
            key = self.listening
            session = self.api.sessions.get(key or "")
            if session is None:
                self.api.stopping.wait(0.2)
                continue
            session.watch(True)  # a notebook's widget is watched while it lives
            try:
                frame, version = self._next(session, sent[1] if sent[0] == key else -1)
                if (key, version) != sent:
                    self.w.send({"frame": frame})
                    sent = (key, version)
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
