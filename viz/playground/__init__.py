"""The playground: the lecture in one live page, trained by chainrule's engine.

    python -m chainrule.viz.playground   (or `chainrule playground`, `make playground`)
    chainrule.viz.playground.playground()  in a notebook: the same page as a widget
    chainrule.viz.playground()           the same (once the package is imported)

A local server (standard library, loopback only) trains one model per browser tab in
Python with `engine` and `nn`, and streams what it draws to the page over server-sent
events; in a notebook the kernel does the same for a widget (anywidget), no server
needed. The page (plain JavaScript, SVG and canvas; every file served by the package,
nothing fetched from the internet) shows the decision boundary or fitted curve, the
losses, update/weight ratios, activation histograms and the network, and steps through
one clicked sample's backprop.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import types
import webbrowser
from typing import Any

from chainrule.viz.playground.notebook import widget
from chainrule.viz.playground.server import Playground

__all__ = ["Playground", "playground", "serve", "start", "widget"]


def start(host: str = "127.0.0.1", port: int = 0) -> Playground:
    """Start a server in a background thread and return it (`.url`, `.shutdown()`)."""
    server = Playground(host, port)
    threading.Thread(target=server.serve_forever, daemon=True, name="playground").start()
    return server


def serve(host: str = "127.0.0.1", port: int = 0, open_browser: bool = True) -> None:
    """Serve the playground on `host`:`port` (0: a free port), print its URL, open a
    browser if asked and one is available, and block until Ctrl-C, which stops the
    training threads and closes the server cleanly."""
    server = Playground(host, port)
    print(f"chainrule playground on {server.url}  (Ctrl-C stops it)", flush=True)
    if open_browser:
        # no browser here (a server, a container): the printed URL is enough
        with contextlib.suppress(Exception):
            webbrowser.open(server.url)
    # `kill` (SIGTERM) stops it as Ctrl-C does (signal handlers live in the main thread)
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if main else None
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        print("\nstopping the playground", flush=True)
    finally:
        server.server_close()
        if main:
            signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def playground(**settings: Any) -> Any:
    """In a notebook: the playground as a widget driven by the kernel (no server, no
    iframe), with these settings (as the page's URL names them: dataset="spirals",
    hidden="16,16", ...). See `notebook.widget`."""
    return widget(**settings)


class _CallableModule(types.ModuleType):
    """Lets `viz.playground()` show the widget, as `viz.playground.playground()` does."""

    def __call__(self, **settings: Any) -> Any:
        return playground(**settings)


sys.modules[__name__].__class__ = _CallableModule
