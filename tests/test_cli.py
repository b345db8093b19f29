"""The `chainrule` command: bad options end with one error line before anything is
trained or written; --help documents every option; the layers stay apart."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

import chainrule.cli
from chainrule.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--epochs", "2", "--samples", "40", "--no-progress"]


@pytest.fixture
def no_training(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bad command line must be refused before fit is ever called."""

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("fit was called")

    monkeypatch.setattr(chainrule.cli.train, "fit", fail)


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("chainrule: error: "), err
    assert "Traceback" not in err
    return lines[0]


BAD_TRAIN = [
    (["--epochs", "0"], "--epochs"),
    (["--epochs", "99999999999999999999"], "--epochs"),
    (["--samples", "100000000"], "--samples"),
    (["--widths", "100000"], "--widths"),
    (["--samples", "1"], "--samples"),
    (["--noise", "-1"], "--noise"),
    (["--lr", "nan"], "--lr"),
    (["--lr", "inf"], "--lr"),
    (["--lr", "0"], "--lr"),
    (["--dropout", "-0.5"], "--dropout"),
    (["--dropout", "1"], "--dropout"),
    (["--widths", "0"], "--widths"),
    (["--widths", "16", "-3"], "--widths"),
    (["--gamma", "-1"], "--gamma"),
    (["--gamma", "nan"], "--gamma"),
    (["--momentum", "-0.1"], "--momentum"),
    (["--l2", "-1"], "--l2"),
    (["--weight-decay", "inf"], "--weight-decay"),
    (["--step-size", "0"], "--step-size"),
    (["--patience", "-1"], "--patience"),
    (["--seed", "-1"], "--seed"),
    (["--epochs", "two"], "--epochs"),
    (["--batch-size", "1", "--batchnorm"], "--batch-size"),
    (["--batch-size", "0"], "--batch-size"),
    (["--dataset", "moon"], "--dataset"),
]


@pytest.mark.parametrize("command", ["train", "demo"])
@pytest.mark.parametrize(("options", "names"), BAD_TRAIN, ids=[" ".join(o) for o, _ in BAD_TRAIN])
def test_a_bad_option_is_one_error_line_before_training_or_writing(
    tmp_path: Path,
    capsys: pytest.CaptureFixture,
    no_training: None,
    command: str,
    options: list[str],
    names: str,
) -> None:
    out = tmp_path / "run"
    assert main([command, *options, "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert names in _one_error_line(captured.err) and captured.out == ""
    assert list(tmp_path.iterdir()) == []


def test_a_batch_norm_batch_of_one_at_the_end_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture, no_training: None
) -> None:
    # 50 samples: 40 for training, in batches of 3 the last has one sample
    assert main(["train", "--batchnorm", "--samples", "50", "--batch-size", "3"]) == 2
    assert "--batch-size" in _one_error_line(capsys.readouterr().err)


@pytest.mark.parametrize("where", ["file", "under a file", "unwritable"])
def test_an_out_that_is_a_file_or_unwritable_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture, no_training: None, where: str
) -> None:
    f = tmp_path / "f"
    f.write_text("keep")
    out = {"file": f, "under a file": f / "run", "unwritable": Path("/proc/self/run")}[where]
    assert main(["train", "--out", str(out)]) == 2
    assert "--out" in _one_error_line(capsys.readouterr().err)
    assert f.read_text() == "keep" and [p.name for p in tmp_path.iterdir()] == ["f"]


def test_a_mistyped_option_shows_the_subcommands_usage_and_a_suggestion(
    capsys: pytest.CaptureFixture, no_training: None
) -> None:
    assert main(["train", "--epohcs", "3"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: chainrule train") and "did you mean --epochs?" in err
    assert err.strip().splitlines()[-1].startswith("chainrule: error: unrecognized")
    assert main(["graph", "x*w", "--x", "1", "--w", "2", "--outt", "o"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: chainrule graph") and "did you mean --out?" in err


def _graph(tmp_path: Path, expression: str, *variables: str) -> int:
    return main(["graph", expression, *variables, "--out", str(tmp_path / "g")])


@pytest.mark.parametrize(
    ("expression", "variables", "words"),
    [
        ("+".join(["x"] * 2000), ["--x", "1"], "graph: "),
        ("-" * 10_000 + "x", ["--x", "1"], "graph: "),
        ("(" * 1000 + "x" + ")" * 1000, ["--x", "1"], "graph: "),
        ("x^2", ["--x", "3"], "**"),
        ("x*w", ["--x", "1"], "unknown name 'w'"),
        ("x*2", ["--x", "nan"], "--x"),
        ("x*2", ["--x"], "--x"),
        ("x*2", ["--x", "1", "--x", "2"], "twice"),
        ("x*2", ["x", "1"], "--name value"),
        ("__import__('os').system('true')", [], "graph: "),
    ],
    ids=[
        "2000 terms",
        "10000 minus",
        "1000 parens",
        "^",
        "unknown",
        "nan",
        "no value",
        "twice",
        "no dashes",
        "import",
    ],
)
def test_a_bad_graph_is_one_error_line_before_writing(
    tmp_path: Path, capsys: pytest.CaptureFixture, expression: str, variables: list, words: str
) -> None:
    assert _graph(tmp_path, expression, *variables) == 2
    assert words in _one_error_line(capsys.readouterr().err)
    assert list(tmp_path.iterdir()) == []


def test_graph_out_must_be_writable(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    f = tmp_path / "f"
    f.write_text("keep")
    for out in (f / "g", tmp_path, Path("/proc/self/g")):
        assert main(["graph", "x*2", "--x", "1", "--out", str(out)]) == 2
        assert "--out" in _one_error_line(capsys.readouterr().err)
    assert [p.name for p in tmp_path.iterdir()] == ["f"]


def test_graph_variables_may_be_written_with_an_equals_sign(tmp_path: Path) -> None:
    assert _graph(tmp_path, "o*w", "--o=3", "--w", "-2") == 0  # --o is the variable, not --out
    assert (tmp_path / "g.svg").exists()


def test_help_gives_every_options_default_and_meaning(capsys: pytest.CaptureFixture) -> None:
    _, subs = build_parser()
    for name in ("train", "demo", "graph", "playground"):
        for action in subs[name]._actions:
            if action.option_strings and action.dest != "help":
                assert action.help, (name, action.dest)
        with pytest.raises(SystemExit) as exit_:
            main([name, "--help"])
        assert exit_.value.code == 0
        text = " ".join(capsys.readouterr().out.split())
        formatter = subs[name]._get_formatter()
        for action in subs[name]._actions:
            if action.option_strings and action.dest != "help":
                entry = " ".join(formatter._expand_help(action).split())  # as --help shows it
                assert entry in text
                if action.default is not False:  # a switch's default is "off"
                    assert "default" in entry, (name, action.dest, entry)
    with pytest.raises(SystemExit):
        main(["graph", "--help"])
    assert "--x 2" in capsys.readouterr().out


def test_history_json_is_strict_json_with_null_for_non_finite(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert main(["train", *FAST, "--init", "zeros", "--widths", "3", "--out", str(out)]) == 0

    def refuse(token: str) -> None:
        raise ValueError(token)

    hist = json.loads((out / "history.json").read_text(), parse_constant=refuse)
    assert None in hist["update_ratio"]["layers.0.weight"]  # all-zero weights: |Δw|/|w| = inf
    json.loads((out / "model.json").read_text(), parse_constant=refuse)


def test_training_that_diverges_is_one_error_line(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["train", *FAST, "--lr", "1e300", "--out", str(tmp_path / "run")]) == 1
    line = _one_error_line(capsys.readouterr().err)
    assert "epoch" in line and "lower" in line
    assert not (tmp_path / "run" / "model.json").exists()


def test_the_console_script_runs_the_cli(tmp_path: Path) -> None:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert meta["project"]["scripts"]["chainrule"] == "chainrule.cli:main"
    r = subprocess.run(
        [sys.executable, "-m", "chainrule", "train", "--epochs", "0"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert r.returncode == 2 and r.stderr.startswith("chainrule: error: argument --epochs")
    assert list(tmp_path.iterdir()) == []


def test_chainrule_re_exports_the_three_packages() -> None:
    import chainrule.nn
    from chainrule.nn import MLP

    import chainrule
    from chainrule import Value, engine, nn, viz

    assert Value is engine.Value and chainrule.nn is nn and chainrule.viz is viz
    assert MLP is nn.MLP and chainrule.nn.MLP(2, [1], seed=0)


def _imports(folder: str) -> set[str]:
    """Every module the files under `folder` import, by its full name."""
    names = set()
    for f in (ROOT / folder).rglob("*.py"):
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.Import):
                names |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
    return names


def _ours(names: set[str]) -> set[str]:
    """The subpackage of chainrule each name is in ("chainrule" itself, "engine", ...)."""
    return {
        [*n.split("."), "chainrule"][1] if n.startswith("chainrule.") else "chainrule"
        for n in names
        if n == "chainrule" or n.startswith("chainrule.")
    }


def test_the_layers_import_only_downwards() -> None:
    assert _ours(_imports("engine")) <= {"engine"}
    assert _ours(_imports("nn")) <= {"engine", "nn"}
    assert _ours(_imports("viz")) <= {"engine", "nn", "viz"}
    code = (
        "import chainrule.nn, sys; "
        "print(sorted(m for m in sys.modules if m.startswith(('chainrule.viz', 'chainrule.cli',"
        " 'matplotlib', 'graphviz'))))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "[]"


def test_nothing_in_the_repository_imports_the_bare_names() -> None:
    bare = re.compile(r"^\s*(from|import) (engine|nn|viz)\b", re.M)
    files = [*ROOT.glob("*.md"), *ROOT.glob("docs/**/*.py"), *ROOT.glob("notebooks/*.py")]
    for folder in ("engine", "nn", "viz", "chainrule", "tests", "benchmarks"):
        files += (ROOT / folder).rglob("*.py")
    offenders = [
        f"{f.relative_to(ROOT)}:{m.group(0).strip()}"
        for f in files
        for m in bare.finditer(f.read_text())
    ]
    assert offenders == []


def test_an_output_file_that_is_a_folder_is_refused_before_training(
    tmp_path: Path, capsys: pytest.CaptureFixture, no_training: None
) -> None:
    (tmp_path / "history.json").mkdir()
    assert main(["train", "--out", str(tmp_path)]) == 2
    assert "history.json is a folder" in _one_error_line(capsys.readouterr().err)


def test_a_failed_write_is_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(path: object, *args: object) -> None:
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(chainrule.cli.train, "write_json", full)
    assert main(["train", *FAST, "--out", str(tmp_path)]) == 1
    assert "No space left" in _one_error_line(capsys.readouterr().err)


@pytest.mark.parametrize(
    ("expression", "words"),
    [("out*2", "rename the variable"), ("tanh", "is a function"), ("1e309", "too large")],
)
def test_graph_explains_option_names_bare_functions_and_huge_numbers(
    tmp_path: Path, capsys: pytest.CaptureFixture, expression: str, words: str
) -> None:
    out = tmp_path / "3"
    assert main(["graph", expression, "--out", str(out)]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert words in line and "give it a value" not in line and "--tanh" not in line
    assert list(tmp_path.iterdir()) == []


def test_graph_over_dots_time_limit_is_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chainrule.viz import dot

    monkeypatch.setattr(dot, "DOT_TIMEOUT", 1e-6)
    assert main(["graph", "x*2", "--x", "1", "--out", str(tmp_path / "g")]) == 1
    assert "time limit of 1e-06 s" in _one_error_line(capsys.readouterr().err)
    assert list(tmp_path.iterdir()) == []


def test_graph_out_creates_its_folder_as_train_does(tmp_path: Path) -> None:
    out = tmp_path / "new" / "folder" / "neuron"
    assert main(["graph", "tanh(x*w)", "--x", "2", "--w", "-3", "--out", str(out)]) == 0
    assert (out.parent / "neuron.svg").read_text().startswith("<?xml")


def test_train_written_to_a_log_has_a_line_per_epoch_and_no_carriage_return(
    tmp_path: Path,
) -> None:
    words = ["train", "--epochs", "3", "--samples", "40", "--widths", "4", "--optimizer"]
    words += ["adamw", "--lr", "0.05", "--out", str(tmp_path)]
    run = subprocess.run(
        [sys.executable, "-m", "chainrule", *words],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert "\r" not in run.stdout + run.stderr
    assert [line.split()[:2] for line in run.stderr.splitlines()] == [
        ["epoch", "1/3"],
        ["epoch", "2/3"],
        ["epoch", "3/3"],
    ]
    assert "validation:  loss" in run.stdout
    # 40 samples, 20% held out, full batch: each step is one graph over the 32 left
    assert "one batched graph for a mini-batch of up to 32 samples" in run.stdout


@pytest.mark.parametrize(
    ("where", "words"),
    [
        ("/proc/chainrule-out", "cannot write"),  # unwritable even for root
        ("/sys/chainrule-out", "cannot write"),
        ("fifo", "not a regular file"),
    ],
)
def test_train_refuses_an_unwritable_out_before_training(
    tmp_path: Path, capsys: pytest.CaptureFixture, no_training: None, where: str, words: str
) -> None:
    import os

    out = Path(where)
    if where == "fifo":
        out = tmp_path
        os.mkfifo(tmp_path / "model.json")
    assert main(["train", *FAST, "--out", str(out)]) == 2
    assert words in _one_error_line(capsys.readouterr().err)
    assert where != "fifo" or (tmp_path / "model.json").is_fifo()


def test_each_subcommand_is_a_module_over_one_expression_parser() -> None:
    assert set(chainrule.cli.COMMANDS) == {"train", "demo", "graph", "playground"}
    for name, command in chainrule.cli.COMMANDS.items():
        assert command.__name__ == f"chainrule.cli.{name}"
        assert callable(command.add_parser) and callable(command.run)
    source = (ROOT / "chainrule" / "cli" / "graph.py").read_text()
    assert "import ast" not in source and "ast.parse" not in source  # viz.expression parses
