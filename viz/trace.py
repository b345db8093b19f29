"""Walking a computation graph apart from drawing it: one `Trace` that the drawing
(`draw_dot`), the stepper (page, frames, notebook widget) and the playground's backprop
view all read.

A trace holds the nodes `root` depends on (parents first, the root last), the kind of
each (input, parameter, computed, constant; see `chainrule.viz.palette`), a name per node
(its label; else its op and a count, `mul2`; an unlabelled root `L`), the edges with
their local derivatives d child/d parent, and, once `walk()` has run, the backward pass
as steps: step k processes one node and adds upstream × local into each parent's
gradient,

    dL/dx1 += dL/dz · dz/dx1 = 0.5 × (-3.0) = -1.5

Everything that names a node or an edge in a picture (`node_id`, `edge_id`) is defined
here once; the drawing and the pages read the same names.

A batched graph (a node's `data` an array over the batch) is traced for one sample
(`sample=k`): the trace shows that sample's own graph, rooted at its own loss term (the
operand of the batch reduction at the root), with that sample's numbers; a reduction
inside the graph (batch norm's batch mean and variance) becomes a leaf of kind
"batch statistic". Its walk is that sample's backward pass, computed in the trace from
the local derivatives at that sample (the Values' gradients, the batch's, are untouched).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import cast

from chainrule.engine import Step, Value
from chainrule.engine.backprop import order
from chainrule.engine.sampled import at as _at
from chainrule.engine.sampled import is_batched as _batched
from chainrule.engine.sampled import sample_graph
from chainrule.engine.sampled import sample_order as _sample_order

OP_WORDS = {"+": "add", "*": "mul", "-": "sub", "/": "div", "**": "pow"}
MAX_NODES = 2000
"""Default node limit of a trace (a larger drawing or page is unreadable anyway)."""


def _num(x: float) -> str:
    """A short number for captions: 4 significant digits, `-3.0` rather than `-3`, and
    zero as `0.0` whatever its sign (an inactive unit's -0.0 says nothing to a student)."""
    s = f"{x + 0.0:.4g}"
    if s.lstrip("-").isdigit():
        s += ".0"
    return s


def _factor(x: float) -> str:
    """A factor of a product: negative numbers in parentheses."""
    s = _num(x)
    return f"({s})" if s.startswith("-") else s


@dataclass(frozen=True)
class Edge:
    """Parent `parent` is the `position`-th input of op node `child` (trace indices)."""

    child: int
    position: int
    parent: int
    local: float


@dataclass(frozen=True)
class Add:
    """One edge of a step: `added` = upstream × `local` goes into node `parent`'s grad;
    the grad cell of `parent` changes from `before` to `after`."""

    edge: int
    parent: int
    local: float
    added: float
    before: float
    after: float


@dataclass(frozen=True)
class TraceStep:
    """Step `index`: node `node` passes d root/d node = `upstream` along its edges
    (`adds`); `caption` says it in the lecture's words (header first)."""

    node: int
    upstream: float
    adds: tuple[Add, ...]
    caption: tuple[str, ...]
    index: int


@dataclass
class Trace:
    """The graph of `root` as plain data (see the module docstring); build with `trace`."""

    root: Value
    nodes: list[Value]
    kinds: list[str]
    names: list[str]
    data: list[float]
    edges: list[Edge]
    sample: int | None = None
    batch: int | None = None
    steps: list[TraceStep] = field(default_factory=list)
    index: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._grads: tuple[int, list[float]] | None = None  # (steps walked, grads)
        self.index = {id(v): k for k, v in enumerate(self.nodes)}
        self.computed = self.kinds.count("computed")  # the number of steps a walk makes
        self.into: list[list[int]] = [[] for _ in self.nodes]  # node -> its incoming edges
        for j, e in enumerate(self.edges):
            self.into[e.child].append(j)

    @property
    def root_index(self) -> int:
        return len(self.nodes) - 1

    @property
    def root_name(self) -> str:
        return self.names[-1]

    @staticmethod
    def node_id(i: int) -> str:
        """The id of node `i` in a drawing (graphviz node name and SVG element id)."""
        return f"n{i}"

    @staticmethod
    def edge_id(j: int) -> str:
        """The id of edge `j` in a drawing (the SVG element id of its arrow)."""
        return f"e{j}"

    def shows_grad(self, i: int) -> bool:
        """Whether node `i` has a gradient worth showing (a constant has none)."""
        return self.kinds[i] != "constant"

    def start_caption(self) -> str:
        r = self.root_name
        return f"start: d{r}/d{r} = 1; every other gradient is 0 until the chain rule reaches it"

    def caption(self, node: int, upstream: float, adds: Iterable[Add]) -> tuple[str, ...]:
        """The lecture's words for one step: a header, then one line per edge the
        gradient flows along (constants left out)."""
        v, r = self.names[node], self.root_name
        total = self.computed
        head = f"step {len(self.steps) + 1}/{total}: {v} passes on d{r}/d{v} = {_num(upstream)}"
        lines = [head]
        for a in adds:
            if not self.shows_grad(a.parent):
                continue
            p = self.names[a.parent]
            lines.append(
                f"d{r}/d{p} += d{r}/d{v} · d{v}/d{p} = "
                f"{_factor(upstream)} × {_factor(a.local)} = {_num(a.added)}"
            )
        return tuple(lines)

    def walk(self) -> list[TraceStep]:
        """The backward pass as steps (also kept in `steps`). Per-sample graphs are
        walked by `Value.backward_steps()`: every grad starts from 0 and the end leaves
        exactly one `backward()`'s; if the walk fails every grad is as it was. One
        sample of a batch is walked in the trace (see the module docstring)."""
        self.steps = []
        if self.sample is not None:
            self._walk_sample()
        elif self.root.is_leaf:  # nothing to step through: d root/d root = 1
            self.root.grad = 1.0
        else:
            with restoring(self.nodes):
                shown = [0.0] * len(self.nodes)
                shown[-1] = 1.0
                for step in self.root.backward_steps():
                    self._record(step, shown)
        return self.steps

    def _record(self, step: Step, shown: list[float]) -> None:
        node = self.index[id(step.node)]
        adds = []
        for j, c in zip(self.into[node], step.contributions):
            p = self.edges[j].parent
            before, shown[p] = shown[p], float(c.parent.grad)
            adds.append(Add(j, p, float(c.local), float(c.added), before, shown[p]))
        self._append(node, float(step.upstream), adds)

    def _append(self, node: int, upstream: float, adds: list[Add]) -> None:
        caption = self.caption(node, upstream, adds)
        self.steps.append(TraceStep(node, upstream, tuple(adds), caption, len(self.steps)))

    def _walk_sample(self) -> None:
        grad = [0.0] * len(self.nodes)
        grad[-1] = 1.0
        for node in range(len(self.nodes) - 1, -1, -1):  # children before parents
            if not self.into[node]:
                continue
            adds = []
            for j in self.into[node]:
                e = self.edges[j]
                before = grad[e.parent]
                grad[e.parent] += grad[node] * e.local
                adds.append(Add(j, e.parent, e.local, grad[node] * e.local, before, grad[e.parent]))
            self._append(node, grad[node], adds)

    def grads(self) -> list[float]:
        """Each node's gradient after the walk (d root/d node); the root's is 1."""
        if self._grads is not None and self._grads[0] == len(self.steps):
            return self._grads[1]
        out = [0.0] * len(self.nodes)
        out[-1] = 1.0
        for s in self.steps:
            for a in s.adds:
                out[a.parent] = a.after
        self._grads = (len(self.steps), out)
        return out


@contextmanager
def restoring(nodes: list[Value]) -> Iterator[None]:
    """Put every gradient back as it was if the block fails."""
    before = [v.grad for v in nodes]
    try:
        yield
    except BaseException:
        for v, g in zip(nodes, before):
            v.grad = g
        raise


def _too_many(n: int, max_nodes: int) -> ValueError:
    return ValueError(
        f"the graph has {n} nodes, more than max_nodes={max_nodes}; "
        "draw a smaller expression or pass a larger max_nodes"
    )


def _names(nodes: list[Value], kinds: list[str], data: list[float]) -> list[str]:
    """Labels; an unlabelled root `L`; other unlabelled computed nodes their op and a
    count from the inputs towards the output (`mul1`, `mul2`); constants their value."""
    names, counts = [], {}  # type: ignore[var-annotated]
    for k, v in enumerate(nodes):
        if v.label:
            names.append(v.label)
        elif k == len(nodes) - 1 and kinds[k] == "computed":
            names.append("L")
        elif kinds[k] not in ("computed", "batch statistic"):
            names.append(_num(data[k]))
        else:
            word = OP_WORDS.get(v.op, v.op)
            word = f"batch {word}" if kinds[k] == "batch statistic" else word
            counts[word] = counts.get(word, 0) + 1
            names.append(f"{word}{counts[word]}")
    return names


def _kind(v: Value, params: set[int], stats: set[int]) -> str:
    if id(v) in stats:
        return "batch statistic"
    if not v.is_leaf:
        return "computed"
    if id(v) in params:
        return "parameter"
    return "input" if v.label else "constant"


def trace(
    root: Value,
    params: Iterable[Value] = (),
    max_nodes: int = MAX_NODES,
    sample: int | None = None,
) -> Trace:
    """The trace of everything `root` depends on (see the module docstring); more than
    `max_nodes` nodes is a ValueError. `params` are drawn as parameters. `sample` picks
    one sample of a batched graph (required when `root` is batched)."""
    stats: set[int] = set()
    batch = None
    if sample is not None or _batched(root):
        root, stats, batch = sample_graph(root, sample)
        sample = cast(int, sample) % batch  # sample -1: the last one
    nodes = _sample_order(root, stats) if batch is not None else order(root)[::-1]
    if len(nodes) > max_nodes:
        raise _too_many(len(nodes), max_nodes)
    param_ids = {id(p) for p in params}
    kinds = [_kind(v, param_ids, stats) for v in nodes]
    data = [_at(v.data, sample) for v in nodes]
    index = {id(v): k for k, v in enumerate(nodes)}
    edges = [
        Edge(k, pos, index[id(p)], _at(d, sample))
        for k, v in enumerate(nodes)
        if kinds[k] == "computed"
        for pos, (p, d) in enumerate(zip(v.parents, v.local_grads))
    ]
    names = _names(nodes, kinds, data)
    return Trace(root, nodes, kinds, names, data, edges, sample, batch)
