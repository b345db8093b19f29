"""Checkpoints as strict JSON: never pickle (loading a pickle runs code from the file).

    save(model, "best.json")   # atomic: a temp file beside the target, then rename
    load(model, "best.json")   # checks everything first; a bad file changes nothing

Files written here are strict JSON (RFC 8259: no NaN or Infinity tokens), so any JSON
reader, a browser's `JSON.parse` included, reads them. A checkpoint refuses to save a
non-finite weight; `write_json` (used for histories) writes a non-finite number as `null`.

Saving writes the target of a symlink (the link stays a link), gives a new file the mode
the umask allows (0666 less the umask, as `open()` would) and keeps an existing file's
mode. The data goes to `.NAME.PID.chainrule-tmp` beside the target, is flushed to disk,
then renamed over it, so a save that is killed midway leaves the old file intact; the
next save removes temp files left by processes that no longer run.
"""

from __future__ import annotations

import contextlib
import glob
import json
import math
import os
import secrets
import stat
import tempfile
from pathlib import Path
from typing import Any

from chainrule.nn.finite import finite_or_none, map_non_finite
from chainrule.nn.module import Module

FORMAT = "chainrule-checkpoint"
VERSION = 1
MAX_BYTES = 256 * 2**20  # a 1000-wide 8-layer MLP is ~150 MB of JSON; more is not a checkpoint
MAX_INT_DIGITS = 18  # a checkpoint's integers are counters: anything longer is corrupt
TMP_SUFFIX = ".chainrule-tmp"
KEYS = {"format", "version", "model", "state", "extra"}  # every checkpoint has all five


class CheckpointError(ValueError):
    """A checkpoint that cannot be saved or loaded; the model (and the file) unchanged."""


def _refuse(x: float) -> Any:
    raise CheckpointError(f"cannot save the non-finite number {x!r}")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _remove_stale_tmp(target: Path) -> None:
    """Delete `.NAME.PID.*` temp files of `target` whose process is gone (killed mid-save)."""
    prefix = f".{target.name}."
    for f in target.parent.glob(f"{glob.escape(prefix)}*{TMP_SUFFIX}"):
        pid = f.name[len(prefix) :].split(".", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
            f.unlink(missing_ok=True)


def check_writable(path: str | os.PathLike[str]) -> Path:
    """The real path `path` would be written to, once it is sure a save can go there:
    a regular file or a new name (not a folder, a named pipe, a device or a socket), in a
    folder where a file can be made (tried with a temp file: permissions alone say
    nothing for root, nor on a read-only disk; missing folders are checked in the
    nearest one that exists, and not made). CheckpointError (an OSError's reason)
    otherwise."""
    target = Path(os.path.realpath(path))
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as e:
        raise CheckpointError(f"cannot write the checkpoint {path}: {e.strerror or e}") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise CheckpointError(
            f"{path} is a folder: give a file name, e.g. {Path(path) / 'model.json'}"
        )
    if mode is not None and not stat.S_ISREG(mode):
        raise CheckpointError(f"{path} is not a regular file (a pipe, device or socket): refused")
    folder = target.parent
    while not folder.exists() and folder != folder.parent:  # the folders to be made
        folder = folder.parent
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=f".{target.name}."):
            pass  # nothing is left behind, and no folder is made
    except OSError as e:
        raise CheckpointError(f"cannot write the checkpoint {path}: {e.strerror or e}") from None
    return target


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write `text` to `path` so that readers see the old file or the new one, never half.

    A symlink's target is written (the link stays); a new file gets the umask's mode, an
    existing one keeps its mode. Anything but a regular file or a new name is refused
    (CheckpointError; see `check_writable`). Returns the path as given."""
    path = Path(path)
    target = check_writable(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_tmp(target)
    tmp = target.parent / f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}{TMP_SUFFIX}"
    # os.open applies the umask to 0o666 exactly as open() does for a new file
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        with contextlib.suppress(FileNotFoundError):  # keep an existing file's mode
            os.chmod(tmp, os.stat(target).st_mode & 0o7777)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_json(path: str | os.PathLike[str], obj: Any, indent: int | None = 1) -> Path:
    """Write `obj` as strict JSON, atomically; non-finite numbers become `null`."""
    return write_text_atomic(path, json.dumps(finite_or_none(obj), indent=indent, allow_nan=False))


def save(model: Module, path: str | os.PathLike[str], extra: dict[str, Any] | None = None) -> Path:
    """Write the model's state dict (and JSON-ready `extra`, e.g. the epoch) to `path`.

    Raises CheckpointError (the file unchanged) for a non-finite weight or an `extra`
    that is not strict JSON."""
    state = map_non_finite(model.state_dict(), _refuse)
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "model": type(model).__name__,
        "state": state,
        "extra": extra or {},
    }
    try:
        text = json.dumps(doc, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"cannot save this checkpoint as JSON: {e}") from None
    try:
        return write_text_atomic(path, text)
    except OSError as e:  # unwritable folder, full disk: the old file is intact
        raise CheckpointError(f"cannot write the checkpoint {path}: {e.strerror or e}") from None


def _parse_int(s: str) -> int:
    if len(s.lstrip("-")) > MAX_INT_DIGITS:
        raise CheckpointError(f"an integer with {len(s.lstrip('-'))} digits (corrupt file?)")
    return int(s)


def _parse_float(s: str) -> float:
    x = float(s)
    if not math.isfinite(x):  # 1e999 reads as inf
        raise CheckpointError(f"the number {s[:40]} is out of range")
    return x


def _parse_constant(s: str) -> Any:
    raise CheckpointError(f"{s} is not JSON (a checkpoint holds finite numbers only)")


def read_bytes(path: str | os.PathLike[str], max_bytes: int = MAX_BYTES) -> bytes:
    """The bytes of the regular file `path`, at most `max_bytes` of them.

    Opened without blocking and checked before reading: a named pipe (which would wait
    for a writer forever), a device (/dev/zero never ends), a folder or a socket is
    refused, as is a file larger than `max_bytes`; CheckpointError says which."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as e:
        raise CheckpointError(f"{path}: cannot read the checkpoint: {e.strerror or e}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise CheckpointError(
                f"{path}: not a regular file (a folder, pipe, device or socket): refused"
            )
        if info.st_size > max_bytes:
            raise CheckpointError(
                f"{path}: {info.st_size} bytes, more than a checkpoint may have ({max_bytes})"
            )
        with os.fdopen(os.dup(fd), "rb") as f:
            # read(n) allocates n bytes first: ask for the size stat gave (+1, to see
            # that the file grew while it was read), not for the limit
            data = f.read(info.st_size + 1)
    except OSError as e:
        raise CheckpointError(f"{path}: cannot read the checkpoint: {e.strerror}") from None
    finally:
        os.close(fd)
    if len(data) > min(info.st_size, max_bytes):
        raise CheckpointError(f"{path}: the file grew while it was read (still being written?)")
    return data


def read(path: str | os.PathLike[str], max_bytes: int = MAX_BYTES) -> dict[str, Any]:
    """The checked checkpoint document (format, version, state, extra).

    Everything that is not a well-formed checkpoint is CheckpointError with a message:
    not a regular file, larger than `max_bytes`, bytes that are not UTF-8, invalid or
    truncated JSON, NaN/Infinity tokens, numbers out of range, nesting deeper than the
    parser's recursion limit, a missing part."""
    data = read_bytes(path, max_bytes)
    try:
        text = data.decode("utf-8")
        data = b""  # the bytes are not needed any more: free them before parsing
    except UnicodeDecodeError as e:
        raise CheckpointError(
            f"{path}: not a chainrule checkpoint (not UTF-8 text: byte {e.start})"
        ) from None
    try:
        doc = json.loads(
            text,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_parse_constant,
        )
    except json.JSONDecodeError as e:
        raise CheckpointError(f"{path}: not a chainrule checkpoint (invalid JSON: {e})") from None
    except CheckpointError as e:
        raise CheckpointError(f"{path}: not a valid checkpoint: {e}") from None
    except RecursionError:
        raise CheckpointError(f"{path}: not a valid checkpoint: nested too deeply") from None
    except MemoryError:
        raise CheckpointError(f"{path}: too large to load in the memory left") from None
    except ValueError as e:  # e.g. Python's limit on integer digits
        raise CheckpointError(f"{path}: not a valid checkpoint: {e}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a chainrule checkpoint (no format marker)")
    if doc.get("version") != VERSION:
        raise CheckpointError(
            f"{path}: checkpoint format version {doc.get('version')!r}, expected {VERSION}"
        )
    missing, unknown = sorted(KEYS - set(doc)), sorted(set(doc) - KEYS)
    if missing or unknown:
        raise CheckpointError(
            f"{path}: checkpoint keys do not fit: missing {missing}, unknown {unknown}"
        )
    for key, kind in (("state", dict), ("extra", dict), ("model", str)):
        if not isinstance(doc[key], kind):
            raise CheckpointError(f"{path}: checkpoint's {key!r} is not a JSON {kind.__name__}")
    return doc


def load(model: Module, path: str | os.PathLike[str], max_bytes: int = MAX_BYTES) -> dict[str, Any]:
    """Load a checkpoint into `model`; returns its `extra`. Raises CheckpointError naming
    the problem (not a regular file, too large, wrong format, version, names, shapes or
    values), leaving the model unchanged."""
    doc = read(path, max_bytes)
    try:
        model.load_state_dict(doc["state"])
    except (ValueError, TypeError, OverflowError) as e:
        raise CheckpointError(f"{path}: {e}") from None
    return doc["extra"]
