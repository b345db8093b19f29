"""Drawings with the real `dot`, the backprop stepper, plots, and the expression parser."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from chainrule.engine import Value
from chainrule.nn import MLP, Neuron, make_moons
from chainrule.viz import ExpressionError, draw_dot, parse, render
from chainrule.viz.architecture import draw_mlp
from chainrule.viz.graph import INSTALL_HINT, Collapse
from chainrule.viz.palette import COLOURS
from chainrule.viz.plots import decision_boundary
from chainrule.viz.stepper import frames, save_frames, stepper_html
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule.cli import main
from tests.browser import launch


def neuron() -> tuple[Value, list[Value]]:
    x, w, b = Value(2.0, label="x"), Value(-3.0, label="w"), Value(6.88, label="b")
    return (x * w + b).tanh(), [x, w, b]


def test_dot_text_names_values_ops_and_local_derivatives() -> None:
    y, _ = neuron()
    y.backward()
    src = draw_dot(y).source
    cells = "<TR><TD><B>{}</B></TD></TR><TR><TD>data {}</TD></TR><TR><TD>grad {}</TD></TR>"
    assert cells.format("x", "2", "-1.503") in src and cells.format("w", "-3", "1.002") in src
    assert "<TD>tanh</TD>" in src and "<TD>*</TD>" in src
    assert "local -3<" in src and "local 2<" in src  # d(x*w)/dx = w, d/dw = x
    assert src.count("->") == 2 + 2 + 1 + 3  # x,w->*, *,b->+, +->tanh, 3 op->value edges


def test_same_graph_same_dot_text_byte_for_byte() -> None:
    a, _ = neuron()
    b, _ = neuron()
    assert draw_dot(a).source == draw_dot(b).source
    assert draw_dot(a, rankdir="TB").source != draw_dot(a).source


def test_drawing_before_backward_says_so_and_options_work() -> None:
    y, _ = neuron()
    assert "call backward() first" in draw_dot(y).source
    assert "grad" not in draw_dot(y, show_grad=False).source
    assert "local" not in draw_dot(y, show_local=False).source
    with pytest.raises(ValueError, match="more than max_nodes=3"):
        draw_dot(y, max_nodes=3)


def test_collapsing_a_neuron_draws_one_box() -> None:
    n = Neuron(2, "tanh", fused=False, seed=0)
    x = [Value(1.0, label="x0"), Value(-2.0, label="x1")]
    out = n(x)  # one sample: a Value, as micrograd
    y = out * 2
    full = draw_dot(y).source
    boxed = draw_dot(y, collapse=[Collapse("neuron", [out], x)]).source
    assert "neuron" in boxed and "box3d" in boxed
    assert boxed.count("->") < full.count("->") and "tanh" not in boxed and "tanh" in full


@pytest.mark.parametrize("fmt", ["svg", "png"])
def test_renders_with_the_real_dot(tmp_path: Path, fmt: str) -> None:
    y, _ = neuron()
    y.backward()
    path = Path(render(draw_dot(y), str(tmp_path / "g"), fmt))
    data = path.read_bytes()
    if fmt == "png":
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 2000
    else:
        assert data.lstrip().startswith(b"<?xml") and b"<svg" in data and b"tanh" in data
        assert b"grad 1.002" in data


def test_missing_dot_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from chainrule.viz import dot

    monkeypatch.setattr(dot.shutil, "which", lambda name: None)
    y, _ = neuron()
    with pytest.raises(dot.DotMissingError, match="apt-get install graphviz"):
        render(draw_dot(y), str(tmp_path / "g"))
    assert "tanh" in draw_dot(y).source and "apt-get install graphviz" in INSTALL_HINT


def test_frames_count_equals_backprop_steps_and_leave_backward_grads(tmp_path: Path) -> None:
    y, leaves = neuron()
    y.backward()
    expected = [v.grad for v in leaves]
    fs = frames(y)  # after backward(): the stepper starts from zero anyway
    assert [v.grad for v in leaves] == expected
    assert len(fs) == len(list(y.backward_steps())) + 1 == 4  # the start, then 3 steps
    assert fs[0][0] is None and "#fde68a" not in fs[0][1].source
    frames(y)
    assert [v.grad for v in leaves] == expected
    paths = save_frames(y, tmp_path, "svg")
    assert len(paths) == 4 and all(Path(p).read_text().count("<svg") == 1 for p in paths)
    assert "#fde68a" in fs[1][1].source  # the current node is highlighted


def _highlighted(page) -> str:  # type: ignore[no-untyped-def]
    # graphviz writes each node as <g class="node"><title>n3</title>...<polygon fill=...>
    return page.evaluate(
        """() => [...document.querySelectorAll('#frame g.node')]
              .filter(g => [...g.querySelectorAll('polygon,path')]
                             .some(p => p.getAttribute('fill') === '#fde68a'))
              .map(g => g.querySelector('title').textContent).join(',')"""
    )


def test_html_stepper_next_button_moves_the_highlight(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    y, _ = neuron()
    page_path = stepper_html(y, tmp_path / "stepper.html")
    text = page_path.read_text()
    assert "http://" not in text.replace("http://www.w3.org", "") and "https://" not in text
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page()
        page.goto(page_path.as_uri())
        assert _highlighted(page) == ""  # the start: nothing processed yet
        assert page.inner_text("#counter") == "step 0/3"  # numbered as the captions
        page.click("#next")
        first = _highlighted(page)
        page.keyboard.press("ArrowRight")
        second = _highlighted(page)
        assert page.inner_text("#counter") == "step 2/3"
        assert first and second and first != second
        page.click("#prev")
        assert _highlighted(page) == first
        browser.close()


def test_plots_are_written(tmp_path: Path) -> None:
    from chainrule.nn import SGD, fit
    from chainrule.viz.plots import history, update_ratios

    x, y = make_moons(40, seed=0)
    model = MLP(2, [8, 1], seed=0)
    hist = fit(model, x, y, SGD(model.parameters(), lr=0.1), epochs=3, val=(x, y), progress=False)
    for name, draw in [
        ("boundary.png", lambda p: decision_boundary(model, x, y, p)),
        ("history.png", lambda p: history(hist, p)),
        ("ratios.png", lambda p: update_ratios(hist, p)),
    ]:
        draw(tmp_path / name)
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG" and (
            tmp_path / name
        ).stat().st_size > 5000


def test_architecture_drawing_shows_every_weight_by_sign_and_size() -> None:
    model = MLP(2, [3, 1], seed=0)
    model.layers[0].weight[1][0].data = -2.0  # the largest weight, negative
    model.layers[0].weight[2][1].data = 0.0  # a zero weight: the thinnest, positive
    src = draw_mlp(model).source
    edges = re.findall(r"l(\d)u(\d) -> l(\d)u(\d) \[.*color=\"(#\w+)\".*penwidth=([\d.]+)", src)
    assert len(edges) == 2 * 3 + 3 * 1  # one edge per weight
    widths = {}
    for k, i, _, j, colour, width in edges:
        w = model.layers[int(k)].weight[int(j)][int(i)].data
        assert colour == COLOURS["positive" if w >= 0 else "negative"], (k, i, j, w)
        widths[(int(k), int(i), int(j))] = (abs(w), float(width))
    by_size = sorted(widths.values())
    assert [w for _, w in by_size] == sorted(w for _, w in by_size)  # wider means larger |w|
    assert widths[(0, 0, 1)][1] == max(w for _, w in by_size)
    assert widths[(0, 1, 2)][1] == min(w for _, w in by_size)
    with pytest.raises(ValueError, match="max_units=2"):
        draw_mlp(model, max_units=2)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("__import__('os').system('true')", "unknown function"),
        ("__import__('os')", "unknown function '__import__'"),
        ("x.__class__", "not allowed"),
        ("y + 1", "unknown name 'y'"),
        ("tanh(x", "malformed"),
        ("x[0]", "not allowed"),
        ("(lambda: 1)()", "unknown function"),
        ("open('f')", "unknown function 'open'"),
        ("tanh(x, x)", "exactly one argument"),
        ("x^2", r"not a power: write \*\* \(e.g. x\*\*2\)"),
        ("-" * 10_000 + "x", "nested too deeply"),
        ("+".join(["x"] * 2000), "makes 2,000 nodes, more than max_nodes=500"),
        ("-" * 600 + "x", "more than max_nodes=500"),
        ("x" * 100_001, "more than 100,000"),
        ("tanh", "'tanh' is a function: call it on something, e.g. tanh\\(x\\)"),
        ("x + exp", "'exp' is a function"),
        ("1e309", "the number 1e309 is too large: it is read as inf"),
        ("x * -1e400", "1e400 is too large"),
    ],
)
def test_expression_parser_refuses_what_is_not_arithmetic(text: str, words: str) -> None:
    with pytest.raises(ExpressionError, match=words):
        parse(text, {"x": 1.0})


def test_a_variable_named_like_an_option_is_told_to_rename_not_to_give_a_value() -> None:
    with pytest.raises(ExpressionError, match="option --out: rename the variable") as e:
        parse("out*2", {}, options=("out", "format"))
    assert "give it a value" not in str(e.value)
    assert parse("out*2", {"out": 3.0}, options=("format",)).data == 6.0  # otherwise fine


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 5000), st.sampled_from(["-", "+", "tanh(", "("]))
def test_deep_expressions_are_a_clear_error_never_a_recursion_error(n: int, op: str) -> None:
    close = ")" * n if op.endswith("(") else ""
    text = op * n + "x" + close
    try:
        out = parse(text, {"x": 0.5})
    except ExpressionError as e:
        assert "nested" in str(e) or "max_nodes" in str(e) or "parentheses" in str(e)
    else:
        assert (op in ("+", "(") or n < 500) and abs(out.data) <= 0.5  # + and ( make no node
        draw_dot(out)  # whatever parses, draws


def test_expression_parser_builds_the_graph() -> None:
    out = parse("tanh(x*w + b)", {"x": 2.0, "w": -3.0, "b": 6.88})
    ref, _ = neuron()
    assert out.data == ref.data and out.op == "tanh"
    assert parse("-x**2 / 4 + exp(0)", {"x": 2.0}).data == 0.0


def test_graph_command_renders_svg_and_png(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "n"
    assert (
        main(
            [
                "graph",
                "tanh(x*w + b)",
                "--x",
                "2",
                "--w",
                "-3",
                "--b",
                "6.88",
                "--out",
                str(out),
                "--format",
                "png",
            ]
        )
        == 0
    )
    assert (tmp_path / "n.png").read_bytes()[:4] == b"\x89PNG"
    assert main(["graph", "__import__('os')", "--out", str(out)]) == 2
    assert "unknown function" in capsys.readouterr().err
    assert main(["graph", "log(x)", "--x", "-1", "--out", str(out)]) == 2
    assert "log: input must be positive" in capsys.readouterr().err


def test_demo_writes_every_output(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(
        ["demo", "--epochs", "3", "--samples", "60", "--out", str(tmp_path), "--no-progress"]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "BatchNorm1d" in printed and "Dropout(p=0.1)" in printed  # says which layers
    names = {p.name for p in tmp_path.iterdir()}
    assert {
        "model.json",
        "history.json",
        "graph.svg",
        "stepper.html",
        "decision_boundary.png",
        "history.png",
        "summary.json",
    } <= names
    svg = (tmp_path / "graph.svg").read_text()
    assert "loss" in svg and "x0" in svg
    width = float(re.search(r'<svg width="([\d.]+)pt"', svg).group(1))  # type: ignore[union-attr]
    assert width <= 1024  # 1,366 px at 100% zoom: a laptop screen's width
    result = subprocess.run(["dot", "-V"], capture_output=True, text=True)
    assert "graphviz" in (result.stdout + result.stderr).lower()


def test_a_value_shows_as_its_graph_in_jupyter() -> None:
    y, _ = neuron()
    svg = y._repr_svg_()  # type: ignore[attr-defined]
    assert svg.startswith("<?xml") and "tanh" in svg
    big = Value(0.0)
    for i in range(300):
        big = big + i
    assert big._repr_svg_() is None  # type: ignore[attr-defined]


def test_the_notebooks_plot_helpers_write_images(tmp_path: Path) -> None:
    import matplotlib
    from chainrule.viz.plots import curves, setup_notebook

    with matplotlib.rc_context():
        setup_notebook(dpi=50)
        assert matplotlib.rcParams["figure.dpi"] == 50
    curves(
        {"a": ([1, 2, 3], [3.0, 2.0, 1.0]), "b": ([1, 2, 3], [1.0, 1.5, 2.0])},
        "t",
        "x",
        "y",
        logy=True,
        path=tmp_path / "c.png",
    )
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"


def test_numpy_forward_equals_the_value_forward_and_the_boundary_is_fine(tmp_path: Path) -> None:
    from chainrule.nn import SGD, fit
    from chainrule.nn.inference import numpy_forward
    from chainrule.viz.plots import value_forward

    x, y = make_moons(40, seed=0)
    models = [
        MLP(2, [8, 8, 1], seed=0),
        MLP(2, [6, 6, 3], activation="tanh", seed=1),
        MLP(2, [8, 8, 1], batchnorm=True, dropout=0.2, seed=2),
    ]
    fit(models[2], x, y, SGD(models[2].parameters(), lr=0.1), epochs=2, progress=False)

    @settings(max_examples=20, deadline=None)
    @given(st.lists(st.tuples(st.floats(-3, 3), st.floats(-3, 3)), min_size=1, max_size=8))
    def check(points: list[tuple[float, float]]) -> None:
        for m in models:
            np_out = numpy_forward(m, points)
            assert np_out.shape == (len(points), len(m.layers[-1].weight))
            assert np.allclose(np_out, value_forward(m, points), rtol=1e-12, atol=1e-12)

    check()
    fig = decision_boundary(models[0], x, y)
    ax = fig.axes[0]
    assert ax.get_xlabel() and ax.get_ylabel()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["class 0", "class 1"]
    decision_boundary(models[2], x, y, tmp_path / "b.png")
    from PIL import Image

    with Image.open(tmp_path / "b.png") as im:
        assert im.info["dpi"][0] >= 110


def test_compared_panels_share_axes_and_a_flat_lr_has_no_panel() -> None:
    from chainrule.nn import SGD, StepLR, fit
    from chainrule.viz.plots import history, update_ratios

    x, y = make_moons(30, seed=0)
    model = MLP(2, [8, 1], batchnorm=True, seed=0)
    opt = SGD(model.parameters(), lr=0.1)
    flat = fit(model, x, y, opt, epochs=2, progress=False)
    assert len(history(flat).axes) == 2
    stepped = fit(model, x, y, opt, epochs=3, scheduler=StepLR(opt, 1, 0.5), progress=False)
    assert len(history(stepped).axes) == 3
    names = [
        t.get_text() for t in update_ratios(flat, model=model).axes[0].get_legend().get_texts()
    ]
    assert any("batch norm gamma" in n for n in names) and any(
        "batch norm beta" in n for n in names
    )
    assert not any(n.endswith(".bias") for n in names)
