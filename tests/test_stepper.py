"""The backprop stepper: clean start, lecture captions, escaping, failures change nothing;
and the gradient graph's node kinds."""

from __future__ import annotations

import json
import re
from pathlib import Path

import graphviz
import pytest
from chainrule.engine import Value
from chainrule.viz import draw_dot, render
from chainrule.viz.graph import COLOURS, DotTimeoutError, number
from chainrule.viz.stepper import frames, stepper_data, stepper_html
from chainrule.viz.trace import trace
from hypothesis import given, settings
from hypothesis import strategies as st

from chainrule import viz
from tests.browser import launch


def lecture_neuron() -> tuple[Value, dict[str, Value]]:
    """The lecture's neuron: o = tanh(x1 w1 + x2 w2 + b), o = 0.7071, do/dn = 0.5."""
    v = {
        "x1": Value(2.0, label="x1"),
        "x2": Value(0.0, label="x2"),
        "w1": Value(-3.0, label="w1"),
        "w2": Value(1.0, label="w2"),
        "b": Value(6.8813735870195432, label="b"),
    }
    x1w1 = v["x1"] * v["w1"]
    x1w1.label = "z"
    o = (x1w1 + v["x2"] * v["w2"] + v["b"]).tanh()
    o.label = "L"
    return o, v


def _page_data(path: Path) -> dict:
    text = path.read_text()
    return json.loads(re.search(r"const DATA = (.*);\n", text).group(1))  # type: ignore[union-attr]


def test_stepper_after_backward_starts_clean_and_says_the_lecture_arithmetic(
    tmp_path: Path,
) -> None:
    o, v = lecture_neuron()
    o.backward()
    o.backward()  # leaves accumulate (as PyTorch): x1.grad is now -3.0
    assert v["x1"].grad == pytest.approx(-3.0)
    page = stepper_html(o, tmp_path / "s.html")
    data = _page_data(page)
    lines = [line for s in data["steps"] for line in s["caption"]]
    assert "dL/dx1 += dL/dz · dz/dx1 = 0.5 × (-3.0) = -1.5" in lines
    svg = page.read_text().split("<svg", 1)[1].split("</svg>", 1)[0]
    assert "+=" not in svg and "step 1" not in svg  # captions only in the page's text
    assert v["x1"].grad == pytest.approx(-1.5)  # one backward pass from zero
    # the start frame: every grad 0 but the root's 1
    start = dict(data["grads"])
    root = len(data["nodes"]) - 1  # nodes are listed parents first
    assert start[root] == "grad 1" and all(t == "grad 0" for k, t in start.items() if k != root)
    assert data["start"].startswith("start: dL/dL = 1")
    # the last change to x1's cell is -1.5, not -3
    x1_changes = [c for s in data["steps"] for c in s["grads"] if c[2].startswith("grad -1.5")]
    assert x1_changes and not any(c[2] == "grad -3" for s in data["steps"] for c in s["grads"])
    fs = frames(o)
    assert fs[0][0] is None and len(fs) == len(data["steps"]) + 1 == 6
    assert v["x1"].grad == pytest.approx(-1.5)


def test_unlabelled_nodes_are_named_by_op_and_number() -> None:
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    y = (a * b) * (a * b + 1)
    tr = trace(y)
    tr.walk()
    data, _ = stepper_data(tr)
    lines = [line for s in data["steps"] for line in s["caption"]]
    assert lines[0].startswith("step 1/4: L passes on dL/dL = 1.0")
    assert any(
        re.match(r"dL/dmul(\d) \+= dL/dL · dL/dmul\1 = 1\.0 × 7\.0 = 7\.0", x) for x in lines
    )
    assert any(line.startswith("dL/dadd1 += ") for line in lines)
    assert not any("d1.0" in line for line in lines)  # the constant 1 gets no caption line
    assert all("+ +=" not in line for line in lines)


def test_a_failed_stepper_leaves_every_gradient_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    o, v = lecture_neuron()
    o.backward()
    o.backward()
    before = {k: x.grad for k, x in v.items()} | {"o": o.grad}
    with pytest.raises(ValueError, match="more than max_nodes=3"):
        stepper_html(o, tmp_path / "s.html", max_nodes=3)
    with pytest.raises(ValueError, match="more than max_nodes=3"):
        frames(o, max_nodes=3)

    def broken(*args: object, **kwargs: object) -> bytes:
        raise graphviz.ExecutableNotFound(("dot",))

    monkeypatch.setattr(viz.stepper, "pipe", broken)
    with pytest.raises(graphviz.ExecutableNotFound):
        stepper_html(o, tmp_path / "s.html")
    assert {k: x.grad for k, x in v.items()} | {"o": o.grad} == before
    assert not (tmp_path / "s.html").exists()


HOSTILE = "</script><script>alert(1)//"
BRACES = '{ } | < > " & \\n'


def test_stepper_page_escapes_labels_and_shows_them_verbatim(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    x, w = Value(2.0, label=HOSTILE), Value(-3.0, label=BRACES)
    y = (x * w).tanh()
    y.label = "<b>out</b>"
    path = stepper_html(y, tmp_path / "s.html", title="<i>t</i>")
    text = path.read_text()
    assert text.count("<script") == 1 and text.count("</script>") == 1
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 480, "height": 700})  # narrower than the graph
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(path.as_uri())
        assert page.evaluate("document.scripts.length") == 1
        # the drawing at its natural size (1 pt = 4/3 px), not shrunk to fit the window
        natural = page.evaluate(
            """() => { const s = document.querySelector('#frame svg');
                       return [s.getBoundingClientRect().width,
                               parseFloat(s.getAttribute('width')) * 4 / 3]; }"""
        )
        assert abs(natural[0] - natural[1]) < 1
        assert "current node" in page.inner_text("#legend")
        shown = page.inner_text("#frame")
        assert HOSTILE in shown and BRACES in shown and "<b>out</b>" in shown
        assert page.inner_text("h2") == "<i>t</i>"
        page.keyboard.press("End")
        caption = page.inner_text("#caption")
        assert f"d<b>out</b>/d{HOSTILE} +=" in caption
        assert dialogs == []
        browser.close()


def test_labels_with_dot_syntax_render_verbatim(tmp_path: Path) -> None:
    x = Value(1.0, label=BRACES)
    y = x * 2
    y.label = "a{b}|c"
    y.backward()
    svg = Path(render(draw_dot(y), str(tmp_path / "g"), "svg")).read_text()
    assert "{ } | &lt; &gt; &quot; &amp; \\n" in svg and "a{b}|c" in svg


def test_constants_are_small_plain_numbers_without_a_grad() -> None:
    x, w = Value(3.0, label="x"), Value(0.5, label="w")
    y = (x * w) * 2
    y.backward()
    src = draw_dot(y, params=[w]).source
    nodes = dict(re.findall(r"^\s*(n\d+) \[(.*)\]$", src, re.M))
    const = [a for a in nodes.values() if "<TD>2</TD>" in a]
    assert len(const) == 1 and "shape=plaintext" in const[0] and "grad" not in const[0]
    assert "fillcolor" not in const[0]
    inp = next(a for a in nodes.values() if "<B>x</B>" in a)
    par = next(a for a in nodes.values() if "<B>w</B>" in a)
    assert f'fillcolor="{COLOURS["input"]}"' in inp and "shape=box" in inp
    assert f'fillcolor="{COLOURS["parameter"]}"' in par
    assert len({COLOURS[k] for k in ("input", "parameter", "computed", "current")}) == 4
    legend = draw_dot(y, legend=True).source
    assert all(COLOURS[k] in legend for k in ("input", "parameter", "computed"))
    assert "constant" in legend and "constant" not in src


@settings(max_examples=50, deadline=None)
@given(st.floats(-4.9e-5, 4.9e-5))
def test_numbers_that_round_to_zero_show_as_0(x: float) -> None:
    assert number(x, "{:.4f}") == "0"
    assert number(x - 1.0, "{:.4f}") == f"{x - 1.0:.4f}"  # others unchanged


def test_a_deep_graph_is_drawn_top_to_bottom() -> None:
    x = Value(0.3, label="x")
    y = x
    for _ in range(10):
        y = y.tanh()
    assert "rankdir=TB" in draw_dot(y).source
    assert "rankdir=LR" in draw_dot(x.tanh()).source
    assert "rankdir=LR" in draw_dot(y, rankdir="LR").source
    w = Value(-1e-7, label="w")
    z = x * w
    z.backward()
    src = draw_dot(z, fmt="{:.4f}").source
    assert "-0.0000" not in src and "local 0<" in src and "<TD>data 0</TD>" in src


def test_a_neurons_own_parameters_draw_as_one_table() -> None:
    from chainrule.nn import MLP

    m = MLP(3, [4, 1], seed=0)
    x = [Value(0.5, label="x0"), Value(-0.3, label="x1"), Value(1.2, label="x2")]
    out = m.forward([x])[0][0]
    out.backward()
    grouped = draw_dot(out, params=m.parameters()).source
    apart = draw_dot(out, params=m.parameters(), group_params=False).source
    assert grouped.count("<B>parameter</B>") == 5  # 4 hidden neurons and the output
    assert "<B>parameter</B>" not in apart
    w = m.parameters()[0]
    row = f'<TD ALIGN="LEFT">{w.label}</TD><TD ALIGN="RIGHT">{number(w.data)}</TD>'
    assert row in grouped
    assert grouped.count("->") < apart.count("->")


def test_every_parameter_of_a_network_is_drawn_once_under_its_own_label() -> None:
    from chainrule.nn import MLP, mse_loss

    m = MLP(2, [3, 3, 1], batchnorm=True, seed=0)
    x = [[0.5, -0.3], [1.0, 0.2], [-0.7, 0.9]]
    loss = mse_loss(m.forward(x), [[1.0], [0.0], [1.0]])
    loss.backward()
    labels = [p.label for p in m.parameters()]
    assert len(set(labels)) == len(labels)  # unique across layers
    for group in (True, False):
        src = draw_dot(loss, params=m.parameters(), group_params=group, max_nodes=2000).source
        for label in labels:
            assert len(re.findall(rf">(<B>)?{re.escape(label)}(</B>)?<", src)) == 1, label


def test_a_leaf_root_is_one_frame_and_fixed_options_are_refused(tmp_path: Path) -> None:
    x = Value(3.0, label="x")
    data = _page_data(stepper_html(x, tmp_path / "leaf.html"))
    assert data["steps"] == [] and data["grads"] == [[0, "grad 1"]] and x.grad == 1.0
    with pytest.raises(TypeError, match="collapse"):
        stepper_html(x * 2, tmp_path / "s.html", collapse=[])
    assert not (tmp_path / "s.html").exists()


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=20))
def test_any_label_draws_with_dot_and_printable_ones_verbatim(label: str) -> None:
    import html

    x = Value(1.0, label=label)
    y = x * 2
    y.backward()
    svg = draw_dot(y).pipe(format="svg").decode()  # dot accepts it
    texts = [html.unescape(t) for t in re.findall(r"<text[^>]*>(.*?)</text>", svg, re.S)]
    if label.isprintable():
        assert label in texts


def test_control_characters_in_labels_are_written_as_escapes() -> None:
    import html

    y = Value(1.0, label="a\x1fb\x00") * 2
    svg = draw_dot(y).pipe(format="svg").decode()
    texts = [html.unescape(t) for t in re.findall(r"<text[^>]*>(.*?)</text>", svg, re.S)]
    assert "a\\x1fb\\x00" in texts
    for _, frame in frames(y):  # captions name the node: escaped there too
        assert "a\\x1fb\\x00" in frame.pipe(format="svg").decode()


def test_a_collapsed_neuron_keeps_its_parameters_as_edges_into_the_box() -> None:
    from chainrule.nn import Neuron
    from chainrule.viz.graph import Collapse

    n = Neuron(3, "tanh", seed=0)
    x = [Value(1.0, label="x0"), Value(-2.0, label="x1"), Value(0.5, label="x2")]
    out = n(x)
    y = out * 2
    src = draw_dot(y, params=n.parameters(), collapse=[Collapse("neuron", [out], x)]).source
    declared = set(re.findall(r"^\s*(\w+) \[", src, re.M))
    used = {name for edge in re.findall(r"^\s*(\w+) -> (\w+)", src, re.M) for name in edge}
    assert used <= declared  # no edge to a node that is not drawn
    assert all(p.label in src for p in n.parameters())


def test_the_slider_counter_and_the_caption_count_steps_the_same_way(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    o, _ = lecture_neuron()
    path = stepper_html(o, tmp_path / "s.html")
    total = len(_page_data(path)["steps"])
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page()
        page.goto(path.as_uri())
        assert page.inner_text("#counter") == f"step 0/{total}"
        assert page.inner_text("#caption").startswith("start:")
        for k in range(1, total + 1):
            page.keyboard.press("ArrowRight")
            counter = page.inner_text("#counter")
            header = page.inner_text("#caption").splitlines()[0]
            assert counter == f"step {k}/{total}"
            assert header.startswith(counter + ":")  # one numbering, read off both
            assert page.eval_on_selector("#slider", "s => Number(s.value)") == k
        browser.close()


def test_a_value_used_all_along_a_long_chain_draws_and_steps(tmp_path: Path) -> None:
    """x in x*0 + x*1 + ... + x*99 (302 nodes): dot once ran over a minute on it."""
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent(
        f"""
        from chainrule.engine import Value
        from chainrule.viz import draw_dot, render
        from chainrule.viz.stepper import stepper_html
        x = Value(2.0, label="x")
        s = sum((x * i for i in range(100)), Value(0.0))
        s.backward()
        print(render(draw_dot(s), {str(tmp_path / "fan")!r}, "svg"))
        stepper_html(s, {str(tmp_path / "fan.html")!r})
        print(x.grad)
        """
    )
    # a safety net so a regression fails instead of hanging CI, not a performance test
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=600, check=True
    )
    assert float(done.stdout.split()[-1]) == sum(range(100))
    svg = (tmp_path / "fan.svg").read_text()
    assert svg.count('class="node"') >= 302  # every value drawn (plus copies of x)
    assert "x (drawn above)" in svg
    assert (tmp_path / "fan.html").stat().st_size > 0


def test_a_far_use_is_drawn_from_a_copy_and_small_graphs_have_none() -> None:
    o, _ = lecture_neuron()
    assert "_ref" not in draw_dot(o).source
    x = Value(2.0, label="x")
    s = sum((x * i for i in range(10)), Value(0.0))
    source = draw_dot(s).source
    copies = source.count("x (drawn above)")
    assert 0 < copies < 10  # the nearest uses keep the real edge
    assert source.count("->") == draw_dot(s).source.count("->")  # deterministic


def test_a_dot_call_past_the_time_limit_stops_with_a_clear_error_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    x = Value(2.0, label="x")
    s = sum((x * i for i in range(100)), Value(0.0))
    s.backward()
    grads = (x.grad, s.grad)
    monkeypatch.setattr(viz.dot, "DOT_TIMEOUT", 1e-6)
    with pytest.raises(DotTimeoutError, match=r"time limit of 1e-06 s \(viz.dot.DOT_TIMEOUT\)"):
        render(draw_dot(s), str(tmp_path / "fan"), "svg")
    assert not (tmp_path / "fan.svg").exists()
    with pytest.raises(DotTimeoutError, match="time limit"):
        stepper_html(s, tmp_path / "fan.html")
    assert not (tmp_path / "fan.html").exists()
    assert (x.grad, s.grad) == grads
    with pytest.raises(DotTimeoutError, match=r"time limit of 0\.001 s"):
        viz.dot.pipe(draw_dot(s), timeout=0.001)


# --- one sample of a batched graph -------------------------------------------------------
class Batched:
    """A stand-in for a node of a batched graph (a `Value` whose data is an array over the
    batch), with the record the drawings read: data, parents, local_grads, op, label."""

    def __init__(
        self, data: object, parents: tuple = (), local: tuple = (), op: str = "", label: str = ""
    ) -> None:
        self.data, self.parents, self.local_grads = data, parents, local
        self.op, self.label, self.grad = op, label, 0.0

    @property
    def is_leaf(self) -> bool:
        return not self.parents


def _batched_loss(xs: list[float], w0: float, bn: bool) -> tuple[Batched, Batched]:
    """(1/n) Σ (x w - m)² + w², m = the batch mean of x w (bn) or 0: built by hand."""
    import numpy as np

    x = Batched(np.array(xs), label="x")
    w = Batched(w0, label="w")
    z = Batched(x.data * w0, (x, w), (w0, x.data), "*")
    if bn:
        m = Batched(float(z.data.mean()), (z,), (np.full(len(xs), 1 / len(xs)),), "mean")
        d = Batched(z.data - m.data, (z, m), (1.0, -1.0), "-")
    else:
        d = z
    t = Batched(d.data * d.data, (d, d), (d.data, d.data), "*")
    mean = Batched(float(t.data.mean()), (t,), (np.full(len(xs), 1 / len(xs)),), "mean")
    reg = Batched(w0 * w0, (w, w), (w0, w0), "*")
    return Batched(mean.data + reg.data, (mean, reg), (1.0, 1.0), "+"), w


def test_one_sample_of_a_batched_graph_is_its_own_per_sample_graph(tmp_path: Path) -> None:
    """sample=k draws sample k's graph rooted at its loss term, with its numbers: the same
    drawing as the per-sample graph built from Values, but for the title."""
    xs, w0 = [0.5, -1.25, 2.0], 0.75
    loss, w = _batched_loss(xs, w0, bn=False)
    x1, wv = Value(xs[1], label="x"), Value(w0, label="w")
    z = x1 * wv
    t = z * z
    t.backward()
    batched = draw_dot(loss, params=[w], sample=1).source  # type: ignore[arg-type]
    single = draw_dot(t, params=[wv]).source
    title = '\tfontcolor=gray40 fontname=Helvetica label="sample 1 of 3" labelloc=t\n'
    assert title in batched and batched.replace(title, "") == single
    assert draw_dot(loss, params=[w], sample=-2).source == batched  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="pass sample=k"):
        draw_dot(loss)  # type: ignore[arg-type]
    with pytest.raises(IndexError, match="sample 3 is out of range for a batch of 3"):
        draw_dot(loss, sample=3)  # type: ignore[arg-type]
    # the stepper walks that sample's backward pass; the batch's gradients stay untouched
    data = _page_data(stepper_html(loss, tmp_path / "s.html", sample=1))  # type: ignore[arg-type]
    expected = _page_data(stepper_html(t, tmp_path / "t.html"))
    assert data["steps"] == expected["steps"] and data["grads"] == expected["grads"]
    assert w.grad == 0.0


def test_batch_statistics_are_inputs_of_a_samples_graph() -> None:
    loss, _ = _batched_loss([0.5, -1.25, 2.0], 0.75, bn=True)
    tr = trace(loss, sample=0)  # type: ignore[arg-type]
    assert tr.kinds.count("batch statistic") == 1 and tr.batch == 3
    stat = tr.kinds.index("batch statistic")
    assert tr.names[stat] == "batch mean1" and not tr.into[stat]  # a leaf here
    assert tr.data[stat] == pytest.approx((0.5 - 1.25 + 2.0) * 0.75 / 3)
    tr.walk()
    d = (0.5 * 0.75) - tr.data[stat]
    assert tr.grads()[stat] == pytest.approx(-2 * d)  # d t/d m for t = (z - m)²
    src = draw_dot(loss, sample=0, legend=True).source  # type: ignore[arg-type]
    assert src.count(COLOURS["batch statistic"]) == 2 and "batch mean1" in src  # and the key
    assert draw_dot(loss, sample=0).source.count(COLOURS["batch statistic"]) == 1  # type: ignore[arg-type]


def test_a_trace_lists_parents_before_children_and_its_steps_follow_backward() -> None:
    """The order every reader relies on (the playground lays out columns by it)."""
    from chainrule.nn import MLP, mse_loss

    m = MLP(2, [3, 3, 1], seed=0)
    loss = mse_loss(m.forward([[0.5, -0.3], [1.0, 0.2]]), [[1.0], [0.0]])
    tr = trace(loss, m.parameters(), max_nodes=2000)
    assert all(e.parent < e.child for e in tr.edges) and tr.root_index == len(tr.nodes) - 1
    assert {tr.kinds[tr.index[id(p)]] for p in m.parameters()} == {"parameter"}
    steps = tr.walk()
    assert [s.node for s in steps] == [tr.index[id(s.node)] for s in loss.backward_steps()]
    grads = tr.grads()
    assert all(grads[tr.index[id(p)]] == p.grad for p in m.parameters())


def _batched_scores(model: object, x: object) -> Value:
    """model(X) over the whole batch; skipped until the engine's batched graph is in."""
    score = model(x)  # type: ignore[operator]
    if not isinstance(score, Value):
        pytest.skip("model(X) does not build one batched graph in this tree yet")
    return score


def test_one_sample_of_micrograds_batched_moons_step_draws_as_its_own_graph(
    tmp_path: Path,
) -> None:
    """issue 19, item 5 on the real engine: the moons step batched; sample k's drawing and
    steps are those of the per-sample graph, with the numbers of the batched pass."""
    from chainrule.nn import MLP, make_moons

    x, y = make_moons(5, seed=0)
    signs = y * 2 - 1.0
    m = MLP(2, [3, 1], seed=0)
    score = _batched_scores(m, x)
    loss = (1 - signs * score).relu().mean() + 1e-4 * sum(p * p for p in m.parameters())
    m.zero_grad()
    loss.backward()
    batch_grads = [p.grad for p in m.parameters()]
    drawn = draw_dot(loss, params=m.parameters(), sample=1).source
    page = _page_data(stepper_html(loss, tmp_path / "b.html", params=m.parameters(), sample=1))
    assert [p.grad for p in m.parameters()] == batch_grads  # the batch's, untouched
    out = m([[float(v) for v in x[1]]])
    term = (1 - signs[1] * (out[0][0] if isinstance(out[0], list) else out[0])).relu()
    m.zero_grad()
    term.backward()
    title = '\tfontcolor=gray40 fontname=Helvetica label="sample 1 of 5" labelloc=t\n'
    assert (
        title in drawn and drawn.replace(title, "") == draw_dot(term, params=m.parameters()).source
    )
    alone = _page_data(stepper_html(term, tmp_path / "t.html", params=m.parameters()))
    assert page["steps"] == alone["steps"]


def test_batch_norms_training_statistics_are_inputs_of_one_samples_graph() -> None:
    from chainrule.nn import MLP, make_moons

    x, y = make_moons(6, seed=0)
    m = MLP(2, [3, 1], batchnorm=True, seed=0)
    m.train()
    loss = (1 - (y * 2 - 1.0) * _batched_scores(m, x)).relu().mean()
    m.zero_grad()
    loss.backward()
    tr = trace(loss, m.parameters(), sample=0)
    stats = [i for i, k in enumerate(tr.kinds) if k == "batch statistic"]
    assert len(stats) == 6  # each of 3 features: its batch mean and standard deviation
    assert all(not tr.into[i] for i in stats)  # leaves of the sample's graph
    assert "sample 0 of 6" in draw_dot(loss, params=m.parameters(), sample=0).source
