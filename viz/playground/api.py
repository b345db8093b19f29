"""The playground's API, whatever carries it: the HTTP server (`server.py`) or a notebook
widget's messages (`widget.py`). Each call is a path and, for a change, a JSON object;
each answer a JSON-ready object, or a RequestError with its HTTP status and message.

    GET  /api/meta                  the settings' schema and the presets
    POST /api/session               {settings, resume?} -> {session, settings, resumed}
    POST /api/session/<id>/settings {settings} -> applied live or rebuilt, or 400 {error}
    POST /api/session/<id>/control  {action: play|pause|step|reset}
    POST /api/session/<id>/backprop {split, index} -> one sample's graph, steps, layerwise
    POST /api/session/<id>/inspect  {layer, unit, input?} -> a unit's map, an edge's w, dL/dw
    GET  /api/session/<id>/points   the data's points (they change only with a new model)
(the event stream of frames is the carrier's: server-sent events, or widget messages).
"""

from __future__ import annotations

import copy
import re
import secrets
import threading
import time
from http import HTTPStatus
from typing import Any

from chainrule.viz.playground import backprop, config, layerwise, views
from chainrule.viz.playground.session import Session

MAX_SESSIONS = 16  # the oldest idle one is closed to make room
SESSION_PATH = r"/api/session/([0-9a-f]{1,64})/"


class RequestError(Exception):
    """A refused request: its status, and the message the page shows. `gone`: the
    session is not (or no longer) on this server, so the page makes a new one."""

    def __init__(self, status: HTTPStatus, message: str, gone: bool = False) -> None:
        super().__init__(message)
        self.status, self.gone = status, gone


class Api:
    """The sessions and the routes, with no transport."""

    def __init__(self) -> None:
        self.sessions: dict[str, Session] = {}
        self.sessions_lock = threading.Lock()
        self.stopping = threading.Event()

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

    def get(self, path: str) -> dict[str, Any]:
        if path == "/api/meta":
            presets = {
                name: {"changes": config.preset_changes(name), "help": p.get("help", "")}
                for name, p in config.PRESETS.items()
            }
            return {"schema": config.schema(), "presets": presets}
        m = re.fullmatch(SESSION_PATH + "points", path)
        if m:
            return self.session(m.group(1)).points()
        raise RequestError(HTTPStatus.NOT_FOUND, f"no such page: {path}")

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """A change: bad settings are a 400 RequestError naming the setting."""
        try:
            return self._post(path, body)
        except config.SettingsError as e:
            raise RequestError(HTTPStatus.BAD_REQUEST, str(e)) from None

    def session(self, key: str) -> Session:
        with self.sessions_lock:
            session = self.sessions.get(key)
        if session is None:
            raise RequestError(
                HTTPStatus.NOT_FOUND, "this session has ended (the server restarted?)", gone=True
            )
        session.last_seen = time.monotonic()
        return session

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        if path == "/api/session":
            return self._open(body)
        m = re.fullmatch(SESSION_PATH + "(settings|control|backprop|inspect)", path)
        if not m:
            raise RequestError(HTTPStatus.NOT_FOUND, f"no such action: {path}")
        session, action = self.session(m.group(1)), m.group(2)
        if action == "settings":
            settings = config.parse(_strings(body.get("settings", {})))
            applied = session.configure(settings)
            return {"settings": settings, "applied": applied}
        if action == "control":
            try:
                session.control(str(body.get("action")))
            except ValueError as e:
                raise RequestError(HTTPStatus.BAD_REQUEST, str(e)) from None
            return {"ok": True}
        if action == "inspect":
            return self._inspect(session, body)
        return self._backprop(session, body)

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
            heatmap = (
                views.digit_unit_map(t.model, t.x_train, layer, unit)
                if t.is_digits
                else views.unit_map(t.model, t.box, layer, unit)
            )
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
            with self.sessions_lock:
                session = self.sessions.get(resume)
            if session is not None and not session.closed:
                session.last_seen = time.monotonic()
                return {"session": resume, "settings": session.settings, "resumed": True}
        settings = config.parse(_strings(body.get("settings", {})))
        key, session = self.new_session(settings)
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
        # the same gradients in matrix form, layer by layer, checked against the graph's
        grads = {w["name"]: w["grad"] for w in result["grads"]}
        result["layerwise"] = layerwise.check(layerwise.layerwise(model, x, y, loss), grads)
        result.update({"split": split, "index": index, "x": x, "y": y})
        return result


def _strings(settings: Any) -> dict[str, Any]:
    if not isinstance(settings, dict):
        raise RequestError(HTTPStatus.BAD_REQUEST, "settings must be an object")
    return {str(k): v for k, v in settings.items()}
