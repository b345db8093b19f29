"""The stepper widget (anywidget) and its quiz: the Python-side checks, and the widget's
page in Chromium driven through a stand-in for the notebook's model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from chainrule.engine import Value
from chainrule.viz.stepper import stepper_html
from chainrule.viz.trace import trace
from chainrule.viz.widgets import Quiz, Stepper

from tests.browser import launch
from tests.test_stepper import lecture_neuron


def _answers(root: Value) -> list[list[float]]:
    """What each step adds along each edge into a non-constant, from the engine's own
    step-through (independent of the trace)."""
    out = []
    for step in root.backward_steps():
        adds = [
            c.added for c in step.contributions if not (c.parent.is_leaf and not c.parent.label)
        ]
        out.append(adds)
    return out


def test_the_quiz_reveals_a_step_only_after_each_edge_is_answered_right() -> None:
    o, v = lecture_neuron()
    expected = _answers(o)
    w = Stepper(o, quiz=True)
    assert w.frame == 0 and w.question.startswith("Step 1/5: L passes on dL/dL.")
    for k, adds in enumerate(expected):
        for j, added in enumerate(adds):
            assert w.frame == k
            wrong = w.submit(str(added + 7.0))
            assert not wrong.right and w.frame == k
            right = w.submit(f"{added:.4g}")  # as shown: 4 significant digits
            assert right.right, (k, j, right.message)
        assert w.frame == k + 1
    assert w.question == "" and w.score == (sum(map(len, expected)), sum(map(len, expected)))
    assert w.data == Stepper(o).data  # every step revealed: the whole page's data
    assert not w.submit("1").right  # nothing left to ask
    assert v["x1"].grad == pytest.approx(-1.5)  # the gradients of one backward()


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        ("0.5 + 1", None),  # not a number: said so
        ("1.5", "added upstream and local"),
        ("1", "local derivative dadd2/dadd1 alone"),
        ("-0.5", "sign"),
        ("42", "Not yet"),
        ("nan", "finite"),
    ],
)
def test_a_wrong_answer_is_told_its_mistake_and_never_the_answer(answer: str, words: str) -> None:
    o, _ = lecture_neuron()  # L = tanh(add2), add2 = add1 + b, add1 = z + mul1, ...
    q = Quiz(trace(o))
    assert q.answer("0.5").right  # step 1: dL/dadd2 = 1 · (1 - tanh²) = 0.5
    # step 2: add2 passes 0.5 on to add1 (local 1) and b
    verdict = q.answer(answer)
    assert not verdict.right and q.frame == 1
    assert words is None or words in verdict.message, verdict.message
    assert "0.5" not in verdict.message.replace("'0.5 + 1'", "")  # never the answer
    if words is None:
        assert "not a number" in verdict.message


def test_the_upstream_alone_and_a_parents_running_total_are_named() -> None:
    a, b = Value(3.0, label="a"), Value(-2.0, label="b")
    y = (a * b) * a  # a is used twice: its second share adds to a total
    q = Quiz(trace(y))
    # step 1: y = mul1 * a; upstream 1. Edge to mul1 adds 1 * a = 3; to a adds mul1 = -6.
    assert "upstream gradient alone" in q.answer("1").message
    assert q.answer("3").right and q.answer("-6").right
    # step 2: mul1 = a * b, upstream 3: edge to a adds 3 * b = -6; a's total is then -12
    assert "after the step" in q.answer("-12").message
    assert q.answer("-6").right and q.answer("9").right and q.done


def test_the_widget_without_quiz_steps_freely_and_refuses_page_only_options(
    tmp_path: Path,
) -> None:
    from tests.test_stepper import _page_data

    o, _ = lecture_neuron()
    w = Stepper(o)
    saved = _page_data(w.save_html(tmp_path / "w.html"))
    assert saved == _page_data(stepper_html(o, tmp_path / "p.html")) == w.data
    assert not w.quiz and w.question == "" and w.frame == 0
    assert len(w.data["steps"]) == 5 and w.svg.startswith("<svg")
    w.frame = 3  # what the page's next button does
    with pytest.raises(TypeError, match="collapse"):
        Stepper(o, collapse=[])


def test_importing_chainrule_does_not_import_anywidget() -> None:
    import subprocess
    import sys

    code = "import sys, chainrule; from chainrule import viz; print('anywidget' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


_HARNESS = """<!DOCTYPE html><html><head><meta charset="utf-8"><style>%s</style></head>
<body><div id="w"></div><script type="module">
const state = %s;
const handlers = {};
window.sent = [];
const model = {
  get: (k) => state[k],
  set: (k, v) => { state[k] = v; if (k === "answer") window.sent.push(v); },
  save_changes: () => {},
  on: (event, f) => { (handlers[event] = handlers[event] || []).push(f); },
};
window.push = (changes) => {  // what the kernel sends back
  for (const [k, v] of Object.entries(changes)) {
    state[k] = v;
    for (const f of handlers["change:" + k] || []) f();
  }
};
const url = URL.createObjectURL(new Blob([%s], { type: "text/javascript" }));
const mod = await import(url);
mod.default.render({ model, el: document.getElementById("w") });
window.ready = true;
</script></body></html>"""


def _highlighted(page: Any) -> list[str]:
    return page.evaluate(
        """() => [...document.querySelectorAll('#w g.node')]
              .filter(g => [...g.querySelectorAll('polygon,path')]
                             .some(p => p.getAttribute('fill') === '#fde68a'))
              .map(g => g.id)"""
    )


def test_the_widgets_page_asks_sends_the_answer_and_reveals_the_step(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    o, _ = lecture_neuron()
    w = Stepper(o, quiz=True)
    keys = ("svg", "data", "legend", "frame", "quiz", "question", "asking")
    state = {k: getattr(w, k) for k in keys}
    state |= {"answer": "", "verdict": {}}
    page_text = _HARNESS % (w._css, json.dumps(state), json.dumps(w._esm))
    (tmp_path / "w.html").write_text(page_text, encoding="utf-8")
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto((tmp_path / "w.html").as_uri())
        page.wait_for_function("window.ready === true")
        assert page.inner_text("#w .cr-counter") == "step 0/5"
        assert "What does it add to dL/dadd2?" in page.inner_text("#w .cr-question")
        assert page.is_disabled("#w .cr-next") and _highlighted(page) == []
        dashed = (
            "[...document.querySelectorAll('#w g.edge path[stroke-dasharray]')]"
            ".map(p => p.parentNode.id)"
        )
        assert page.evaluate(dashed) == [w.asking] and w.asking in w.data["steps"][0]["edges"]
        page.fill("#w .cr-answer input", "1.5")
        page.click("#w .cr-answer button")
        assert page.evaluate("window.sent") == ["1.5"]
        verdict = w.submit("1.5")  # the kernel's side, as the widget's observer runs it
        page.evaluate(
            f"window.push({json.dumps({'verdict': {'right': False, 'message': verdict.message}})})"
        )
        assert "multiplies" in page.inner_text("#w .cr-verdict")
        assert page.inner_text("#w .cr-counter") == "step 0/5"
        verdict = w.submit("0.5")
        changes = {
            "data": w.data,  # the revealed step's numbers, sent by the kernel with its frame
            "frame": w.frame,
            "question": w.question,
            "asking": w.asking,
            "verdict": {"right": True, "message": verdict.message},
        }
        page.evaluate(f"window.push({json.dumps(changes)})")
        assert page.inner_text("#w .cr-counter") == "step 1/5"
        assert len(_highlighted(page)) == 1  # the step just revealed
        assert page.inner_text("#w .cr-caption").startswith("step 1/5: L passes on dL/dL = 1.0")
        assert "Step 2/5: add2 passes on" in page.inner_text("#w .cr-question")
        assert page.evaluate(dashed) == [w.asking] != [state["asking"]]  # the next edge
        page.screenshot(path=str(tmp_path / "widget.png"))
        assert errors == []
        browser.close()


def test_in_quiz_mode_the_page_never_holds_an_answer_before_it_is_given() -> None:
    o, _ = lecture_neuron()
    full = Stepper(o).data["steps"]
    w = Stepper(o, quiz=True)

    def hidden(k: int) -> bool:  # step k's new gradients and caption are not in the page
        s = w.data["steps"][k]
        return s["caption"] == [] and all(g[2] == g[1] for g in s["grads"])

    assert all(hidden(k) for k in range(len(full)))
    before = json.dumps(w.data)
    for g in full[0]["grads"]:
        assert f'"{g[2]}"' not in before or g[2] == g[1]
    for added in _answers(o)[0]:
        w.submit(f"{added:.4g}")
    assert w.data["steps"][0] == full[0] and all(hidden(k) for k in range(1, len(full)))
    w.quiz = False  # stepping freely again: everything is shown
    assert w.data["steps"] == full
