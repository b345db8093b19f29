"""Checkpoints: strict JSON out; anything malformed in is CheckpointError, model unchanged;
saving is atomic, keeps symlinks and file modes, and leaves no temp files behind."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from chainrule.nn import MLP, CheckpointError, History, load, save
from chainrule.nn.checkpoint import TMP_SUFFIX, read, write_json
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]


def _strict(text: str) -> object:
    """Parse as RFC 8259 JSON: NaN and Infinity are not JSON."""

    def refuse(token: str) -> None:
        raise ValueError(f"{token} is not JSON")

    return json.loads(text, parse_constant=refuse)


def _model() -> MLP:
    return MLP(2, [3, 1], seed=0, batchnorm=True)


def _refused(path: Path, words: str) -> None:
    model = _model()
    before = model.state_dict()
    with pytest.raises(CheckpointError, match=words):
        load(model, path)
    assert model.state_dict() == before


@pytest.fixture
def good(tmp_path: Path) -> Path:
    return save(MLP(2, [3, 1], seed=1, batchnorm=True), tmp_path / "good.json", {"epoch": 2})


def test_non_utf8_bytes_are_refused(good: Path) -> None:
    good.write_bytes(good.read_bytes().replace(b'"format"', b'"form\xff\xfet"'))
    _refused(good, "not UTF-8")


def test_a_400_digit_integer_is_refused(good: Path) -> None:
    doc = json.loads(good.read_text())
    text = json.dumps(doc).replace('"epoch": 2', '"epoch": ' + "9" * 400)
    good.write_text(text)
    _refused(good, "400 digits")
    weight = json.dumps(doc).replace(str(doc["state"]["layers.0.bias"][0]), "1" * 400, 1)
    good.write_text(weight)
    _refused(good, "400 digits")


def test_100000_deep_nesting_is_refused(good: Path) -> None:
    doc = good.read_text()
    good.write_text(doc[:-1] + ', "deep": ' + "[" * 100_000 + "]" * 100_000 + "}")
    _refused(good, "nested too deeply")


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_refused(good: Path, token: str) -> None:
    doc = json.loads(good.read_text())
    first = doc["state"]["layers.0.bias"][0]
    good.write_text(json.dumps(doc).replace(repr(first), token, 1))
    _refused(good, "not JSON|out of range")


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.floats(0.0, 0.999))
def test_a_truncated_file_is_refused(good: Path, cut: float) -> None:
    data = good.read_bytes()
    bad = good.with_name("cut.json")
    bad.write_bytes(data[: int(len(data) * cut)])
    _refused(bad, "not a chainrule checkpoint")


def test_a_missing_file_is_a_checkpoint_error(tmp_path: Path) -> None:
    _refused(tmp_path / "nope.json", "cannot read")


def test_written_files_are_strict_json(tmp_path: Path) -> None:
    path = save(_model(), tmp_path / "m.json", {"best": 0.5})
    assert _strict(path.read_text())["extra"] == {"best": 0.5}  # type: ignore[index]
    hist = History(train_loss=[1.0], val_loss=[math.inf], update_ratio={"w": [math.inf, 0.1]})
    write_json(tmp_path / "h.json", hist.to_dict())
    back = _strict((tmp_path / "h.json").read_text())
    assert back["val_loss"] == [None] and back["update_ratio"] == {"w": [None, 0.1]}  # type: ignore[index]
    with pytest.raises(CheckpointError, match="JSON"):
        save(_model(), tmp_path / "m.json", {"best": math.nan})
    assert _strict(path.read_text())["extra"] == {"best": 0.5}  # type: ignore[index]


def test_saving_through_a_symlink_writes_its_target(tmp_path: Path) -> None:
    target = save(_model(), tmp_path / "real.json")
    link = tmp_path / "link.json"
    link.symlink_to(target.name)
    model = MLP(2, [3, 1], seed=5, batchnorm=True)
    save(model, link)
    assert link.is_symlink() and os.readlink(link) == "real.json"
    other = _model()
    load(other, target)
    assert other.state_dict() == model.state_dict()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.json", "real.json"]


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_a_new_file_gets_the_umask_mode_and_an_old_one_keeps_its_mode(
    tmp_path: Path, umask: int
) -> None:
    old = os.umask(umask)
    try:
        path = save(_model(), tmp_path / "new.json")
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask
        path.chmod(0o640)
        save(_model(), path)
        assert path.stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(old)


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_stale_temp_files_of_dead_processes_are_removed_on_the_next_save(tmp_path: Path) -> None:
    path = save(_model(), tmp_path / "m.json")
    stale = tmp_path / f".m.json.{_dead_pid()}.abcd{TMP_SUFFIX}"
    live = tmp_path / f".m.json.{os.getppid()}.abcd{TMP_SUFFIX}"  # a process that runs
    other = tmp_path / f".n.json.{_dead_pid()}.abcd{TMP_SUFFIX}"  # another file's
    for f in (stale, live, other):
        f.write_text("{")
    save(_model(), path)
    assert not stale.exists() and live.exists() and other.exists()


SAVER = """
import sys
from chainrule.nn import MLP, save
models = [MLP(2, [64, 64, 1], seed=s) for s in (1, 2)]
print("ready", flush=True)
i = 0
while True:
    save(models[i % 2], sys.argv[1], {"seed": 1 + i % 2})
    i += 1
"""


def test_a_save_killed_midway_leaves_the_old_file_intact(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    save(MLP(2, [64, 64, 1], seed=1), path, {"seed": 1})
    env = dict(os.environ)
    for k in range(6):
        proc = subprocess.Popen(
            [sys.executable, "-c", SAVER, str(path)], stdout=subprocess.PIPE, env=env, text=True
        )
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        time.sleep(0.01 + 0.013 * k)  # land at different points of a save
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        doc = read(path)  # never half a file
        seed = doc["extra"]["seed"]
        model = MLP(2, [64, 64, 1], seed=0)
        load(model, path)
        assert model.state_dict() == MLP(2, [64, 64, 1], seed=seed).state_dict()
    save(MLP(2, [64, 64, 1], seed=1), path)  # cleans whatever the kills left
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]


def _drop(doc: dict, key: str) -> None:
    del doc[key]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda d: _drop(d, "extra"), r"missing \['extra'\]"),
        (lambda d: _drop(d, "model"), r"missing \['model'\]"),
        (lambda d: d.update(more=1), r"unknown \['more'\]"),
        (lambda d: d.update(extra=[1]), "extra"),
        (lambda d: d["state"].update({"layers.0.weight": [[1, 2], [3, 4, 5], [6, 7]]}), "weight"),
        (lambda d: d["state"]["layers.1.running_var"].__setitem__(0, -1.0), "running_var"),
        (lambda d: d["state"].update({"layers.1.num_batches_tracked": 2.5}), "num_batches"),
        (lambda d: _drop(d["state"], "layers.3.bias"), "layers.3.bias"),
    ],
    ids=[
        "no extra",
        "no model",
        "unknown key",
        "extra a list",
        "ragged",
        "negative var",
        "fractional count",
        "missing tensor",
    ],
)
def test_anything_invalid_is_refused_before_the_model_changes(
    good: Path,
    change,
    words: str,  # type: ignore[no-untyped-def]
) -> None:
    doc = json.loads(good.read_text())
    change(doc)
    good.write_text(json.dumps(doc))
    _refused(good, words)


def test_saving_to_a_folder_or_an_unwritable_place_is_a_checkpoint_error(tmp_path: Path) -> None:
    model = MLP(2, [3, 1], seed=0)
    folder = tmp_path / "runs"
    folder.mkdir()
    with pytest.raises(CheckpointError, match="is a folder"):
        save(model, folder)
    assert list(folder.iterdir()) == []
    blocker = tmp_path / "file"
    blocker.write_text("keep")
    with pytest.raises(CheckpointError, match="cannot write the checkpoint"):
        save(model, blocker / "model.json")  # a file where a folder should be
    assert blocker.read_text() == "keep"


# --- special files: only regular files (or new names) are read or written ---------------
LOAD_FIFO = """
import os, sys
from chainrule.nn import MLP, CheckpointError, load
try:
    load(MLP(2, [3, 1], seed=0), sys.argv[1])
except CheckpointError as e:
    print(e)
"""


def test_loading_a_named_pipe_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    # a subprocess, so that a regression (open() blocking) fails instead of hanging the suite
    run = subprocess.run(
        [sys.executable, "-c", LOAD_FIFO, str(fifo)], capture_output=True, text=True, timeout=120
    )
    assert "not a regular file" in run.stdout, run.stderr


@pytest.mark.parametrize("path", ["/dev/zero", "/dev/null", "/dev/urandom", "/"])
def test_loading_a_device_or_a_folder_is_refused_before_reading(path: str) -> None:
    _refused(Path(path), "not a regular file")


def test_loading_is_bounded_in_size(tmp_path: Path) -> None:
    good = save(_model(), tmp_path / "m.json")
    size = good.stat().st_size
    model = _model()
    with pytest.raises(CheckpointError, match=f"{size} bytes, more than a checkpoint may have"):
        load(model, good, max_bytes=size - 1)
    load(model, good, max_bytes=size)
    huge = tmp_path / "huge.json"
    with huge.open("wb") as f:  # sparse: 2 GiB that take no disk
        f.truncate(2**31)
    _refused(huge, "more than a checkpoint may have")


def test_saving_onto_a_named_pipe_or_through_a_link_to_one_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    link = tmp_path / "link.json"
    link.symlink_to(fifo)
    for target in (fifo, link):
        with pytest.raises(CheckpointError, match="not a regular file"):
            save(_model(), target)
        with pytest.raises(CheckpointError, match="not a regular file"):
            write_json(target, {"a": 1})
    assert (
        fifo.is_fifo()
        and link.is_symlink()
        and sorted(os.listdir(tmp_path))
        == [
            "link.json",
            "pipe.json",
        ]
    )


def test_saving_onto_a_device_is_refused_even_as_root() -> None:
    from chainrule.nn.checkpoint import check_writable

    # only checked, never written: as root a rename would replace the device
    with pytest.raises(CheckpointError, match="not a regular file"):
        check_writable("/dev/null")
    assert Path("/dev/null").is_char_device()


@pytest.mark.parametrize("where", ["/proc/chainrule-test/m.json", "/proc/m.json", "/sys/m.json"])
def test_saving_where_no_file_can_be_made_is_refused_even_as_root(where: str) -> None:
    with pytest.raises(CheckpointError, match="cannot write the checkpoint"):
        save(_model(), where)


def test_a_socket_is_refused_both_ways(tmp_path: Path) -> None:
    import socket

    path = tmp_path / "s.json"
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(path))
        _refused(path, "cannot read|not a regular file")
        with pytest.raises(CheckpointError, match="not a regular file"):
            save(_model(), path)


def test_loading_needs_a_few_times_the_file_size_in_memory(tmp_path: Path) -> None:
    import tracemalloc

    model = MLP(2, [120, 120, 1], seed=0)
    path = save(model, tmp_path / "m.json")
    tracemalloc.start()
    try:
        load(model, path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * path.stat().st_size  # was 45x: read() allocated the size limit


def test_a_file_that_grows_while_it_is_read_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chainrule.nn import checkpoint

    path = save(_model(), tmp_path / "m.json")
    real_fstat = os.fstat

    def smaller(fd: int) -> os.stat_result:  # stat saw the file before a writer appended
        st = real_fstat(fd)
        return os.stat_result((*st[:6], st.st_size - 10, *st[7:]))

    monkeypatch.setattr(checkpoint.os, "fstat", smaller)
    _refused(path, "grew while it was read")


def test_a_link_to_a_device_is_refused_like_the_device(tmp_path: Path) -> None:
    link = tmp_path / "m.json"
    link.symlink_to("/dev/zero")
    _refused(link, "not a regular file")
    with pytest.raises(CheckpointError, match="not a regular file"):
        save(_model(), link)  # checked on the link's target: /dev/zero stays a device
    assert link.is_symlink() and Path("/dev/zero").is_char_device()
