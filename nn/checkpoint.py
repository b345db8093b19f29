"""Checkpoints as JSON: never pickle (loading a pickle runs code from the file).

save(model, "best.json")   # atomic: a temp file in the same folder, then rename
load(model, "best.json")   # checks everything first; a bad file changes nothing
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

from nn.module import Module

FORMAT = "chainrule-checkpoint"
VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint that cannot be loaded into this model; the model is unchanged."""


def _finite(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        raise CheckpointError(f"cannot save the non-finite number {x!r}")
    if isinstance(x, list):
        return [_finite(v) for v in x]
    return x


def save(model: Module, path: str | os.PathLike[str], extra: dict[str, Any] | None = None) -> Path:
    """Write the model's state dict (and JSON-ready `extra`, e.g. the epoch) to `path`."""
    path = Path(path)
    state = {k: _finite(v) for k, v in model.state_dict().items()}
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "model": type(model).__name__,
        "state": state,
        "extra": extra or {},
    }
    text = json.dumps(doc, allow_nan=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The checked checkpoint document (format, version, state, extra)."""
    try:
        doc = json.loads(Path(path).read_text())
    except json.JSONDecodeError as e:
        raise CheckpointError(f"{path}: not a chainrule checkpoint (invalid JSON: {e})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a chainrule checkpoint (no format marker)")
    if doc.get("version") != VERSION:
        raise CheckpointError(
            f"{path}: checkpoint format version {doc.get('version')!r}, expected {VERSION}"
        )
    if not isinstance(doc.get("state"), dict):
        raise CheckpointError(f"{path}: checkpoint has no state")
    return doc


def load(model: Module, path: str | os.PathLike[str]) -> dict[str, Any]:
    """Load a checkpoint into `model`; returns its `extra`. Raises CheckpointError naming
    the problem (wrong file, version, names or shapes), leaving the model unchanged."""
    doc = read(path)
    try:
        model.load_state_dict(doc["state"])
    except ValueError as e:
        raise CheckpointError(f"{path}: {e}") from None
    return doc["extra"]
