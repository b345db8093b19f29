"""One sample's loss through the current network, as a graph of elementary nodes, and
its backward pass one chain-rule step at a time, ready for the page.

The network is copied with every layer unfused (one node per product, sum and
activation: the form a lecture draws) and in inference mode, so the sample's loss is
what the current model predicts for it. Each node belongs to the module that made it
(a unit of a layer, a batch-norm feature, the loss), which the page draws as one box
until it is opened. The steps come from `Value.backward_steps()` with the stepper's own
captions; consuming them leaves exactly the gradients `backward()` leaves, and the
parameters' gradients at the end are listed under their `state_dict` names, which also
name the nodes (`layers.0.weight[2][1]`) and the boxes (`layers.0 unit 2`).
"""

from __future__ import annotations

import copy
from typing import Any

from chainrule.engine import Value
from chainrule.nn import Layer, Module
from chainrule.viz.palette import COLOURS
from chainrule.viz.playground.trainer import loss_function
from chainrule.viz.trace import trace

MAX_NODES = 8000  # a 6 x 16 network's graph for one sample has about 5000 nodes


def too_big(model: Module) -> str | None:
    """Why one sample's graph of `model` is too big to step through, told from the
    architecture before any graph is built (about 3 nodes per weight: its leaf, its
    product, its sum), or None when it may fit (the exact count is checked later)."""
    estimate = sum(m.nout * (3 * m.nin + 3) for m in model.modules() if isinstance(m, Layer))
    if estimate <= 1.5 * MAX_NODES:
        return None
    return (
        f"this sample's graph would have about {estimate} nodes, more than {MAX_NODES}: "
        "use a smaller network to step through it"
    )


def _label(name: str) -> str:
    """A state_dict name written with its indices in brackets, the one naming the page
    uses for parameters and modules: 'layers.3.weight.2.1' -> 'layers.3.weight[2][1]',
    'layers.3.bias.0' -> 'layers.3.bias[0]' (batch norm's γ and β are its weight and bias)."""
    parts = name.split(".")
    k = len(parts)
    while k > 1 and parts[k - 1].isdigit():  # the trailing parts index into the tensor
        k -= 1
    return ".".join(parts[:k]) + "".join(f"[{i}]" for i in parts[k:])


def sample_loss(
    model: Module, x: list[float], y: Any, loss: str
) -> tuple[Value, list[tuple[str, Value, list[Value]]], list[tuple[str, Value]]]:
    """(loss, modules, parameters) of one sample through an unfused, eval-mode copy of
    `model`. modules: (name, output node, inputs) per unit; parameters: (state_dict
    name, leaf) of the copy, labelled with the same name, indices in brackets."""
    net = copy.deepcopy(model)
    net.eval()
    net.zero_grad()  # the copy would carry the last training step's gradients
    for m in net.modules():
        if isinstance(m, Layer):
            m.fused = False
    params = list(net.named_parameters())
    for name, p in params:
        p.label = _label(name)  # type: ignore[attr-defined]
    inputs = [Value(float(v), label=f"x{i}") for i, v in enumerate(x)]
    batch: list[list[Any]] = [inputs]
    modules = []
    for li, m in enumerate(net.layers):  # type: ignore[attr-defined]
        out = m.forward(batch)
        # named by the module's state_dict path: unit j of layers.li owns layers.li.weight[j]
        # a unit whose output is its input (inverted dropout at inference) has no nodes
        modules += [(f"layers.{li} unit {j}", v, list(batch[0])) for j, v in enumerate(out[0])]
        batch = out
    target = y if loss == "mse" else int(y)
    total = loss_function(loss)(batch, [target])
    total.label = "loss"
    modules.append(("loss", total, list(batch[0])))
    return total, modules, params


def graph(model: Module, x: list[float], y: Any, loss: str) -> dict[str, Any]:
    """Nodes, edges, module boxes and backward steps of one sample's loss, as JSON: the
    stepper's trace (`chainrule.viz.trace`), its kinds and names, and the one palette."""
    root, modules, params = sample_loss(model, x, y, loss)
    try:
        tr = trace(root, [p for _, p in params], MAX_NODES)
    except ValueError:
        raise ValueError(
            f"this sample's graph has more than {MAX_NODES} nodes: "
            "use a smaller network to step through it"
        ) from None
    group: dict[int, int] = {}
    boxes: list[dict[str, Any]] = []
    for name, out, stop in modules:
        members = _members(out, {id(v) for v in stop}, group)
        if not members:
            continue
        k = len(boxes)
        for m in members:
            group[m] = k
        boxes.append({"name": name, "out": tr.index[id(out)]})
    nodes = [
        {"label": tr.names[i], "op": v.op, "data": tr.data[i], "kind": tr.kinds[i],
         "box": group.get(id(v))}
        for i, v in enumerate(tr.nodes)
    ]  # fmt: skip
    steps = [
        {
            "node": s.node,
            "upstream": s.upstream,
            "caption": list(s.caption),
            "adds": [[a.parent, a.local, a.added] for a in s.adds],
            "after": [[a.parent, a.after] for a in s.adds],
        }
        for s in tr.walk()
    ]
    # the same loss built again and differentiated by backward(), for the page's check
    check, _, check_params = sample_loss(model, x, y, loss)
    check.backward()
    return {
        "backward_grads": [p.grad for _, p in check_params],
        "nodes": nodes,
        "edges": [[e.parent, e.child, e.local] for e in tr.edges],
        "boxes": boxes,
        "root": tr.root_index,
        "start": tr.start_caption(),
        "loss": root.data,
        "steps": steps,
        "grads": [{"name": n, "label": p.label, "grad": p.grad} for n, p in params],
        "palette": COLOURS,
    }


def _members(out: Value, stop: set[int], taken: dict[int, int]) -> set[int]:
    """The nodes computed on the way from a module's inputs to its output (its
    parameters and constants included), not claimed by an earlier module."""
    members: set[int] = set()
    stack = [out]
    while stack:
        v = stack.pop()
        if id(v) in members or id(v) in stop or id(v) in taken:
            continue
        members.add(id(v))
        stack.extend(v.parents)
    return members
