"""Threads: grad mode is per thread, concurrent backward passes never over-count."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator

from chainrule.engine import Value, is_grad_enabled, no_grad


def _in_threads(n: int, target: Callable[[int], None]) -> None:
    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_no_grad_in_one_thread_leaves_another_recording() -> None:
    inside, checked = threading.Event(), threading.Event()
    seen: list[bool] = []

    def quiet() -> None:
        with no_grad():
            inside.set()
            checked.wait(5)

    def busy() -> None:
        inside.wait(5)
        x = Value(3.0)
        seen.append(is_grad_enabled() and not (x * x).is_leaf)
        checked.set()

    a, b = threading.Thread(target=quiet), threading.Thread(target=busy)
    a.start(), b.start()
    a.join(), b.join()
    assert seen == [True]


def test_interleaved_no_grad_leaves_grad_mode_on() -> None:
    step = [threading.Event() for _ in range(4)]

    def first(_: int) -> None:
        with no_grad():
            step[0].set()
            step[1].wait(5)
        step[2].set()

    def second(_: int) -> None:
        step[0].wait(5)
        with no_grad():
            step[1].set()
            step[2].wait(5)  # the first thread leaves no_grad while this one is inside

    a = threading.Thread(target=first, args=(0,))
    b = threading.Thread(target=second, args=(1,))
    a.start(), b.start()
    a.join(), b.join()
    x = Value(3.0)
    (x * x).backward()
    assert is_grad_enabled() and x.grad == 6.0


def test_no_grad_decorates_a_generator_inside_it() -> None:
    @no_grad()
    def squares(xs: list[Value]) -> Iterator[Value]:
        for x in xs:
            yield x * x

    xs = [Value(1.0), Value(2.0)]
    outs = []
    for y in squares(xs):
        outs.append(y)
        assert is_grad_enabled()  # the caller's code between items still records
    assert all(y.is_leaf for y in outs) and [y.data for y in outs] == [1.0, 4.0]


def test_no_grad_generator_returns_and_receives() -> None:
    @no_grad()
    def echo() -> Iterator[object]:
        got = yield is_grad_enabled()
        while got is not None:
            got = yield (got, is_grad_enabled())
        return "done"

    gen = echo()
    assert next(gen) is False
    assert gen.send(1) == (1, False)
    try:
        gen.send(None)
    except StopIteration as stop:
        assert stop.value == "done"
    else:
        raise AssertionError("generator should have finished")


def test_concurrent_backward_on_one_graph_never_over_counts() -> None:
    xs = [Value(0.1 * i) for i in range(50)]
    v = xs[0]
    for i in range(2000):  # a long chain of sums: its interior grads are shared by both passes
        v = v + xs[i % 50] * xs[7 * i % 50]
    v.backward()
    once = [x.grad for x in xs]
    for x in xs:
        x.grad = 0.0
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        _in_threads(2, lambda _: [v.backward() for _ in range(20)])  # type: ignore[func-returns-value]
    finally:
        sys.setswitchinterval(old)
    for x, g in zip(xs, once):
        assert abs(x.grad - 40 * g) <= 1e-9 * abs(40 * g)


def test_no_grad_without_parentheses_decorates_as_in_torch() -> None:
    @no_grad
    def square(x: Value) -> Value:
        return x * x

    assert square(Value(2.0)).is_leaf and not (Value(2.0) * 2).is_leaf
