"""`Module`: the base of every layer and network, as in `torch.nn.Module`.

Parameters are found from attributes, never listed by hand: a `Value` attribute, a list
of `Value`s (a vector) or a list of lists (a matrix, laid out [out][in] as in PyTorch) is
a parameter tensor; a `Module` attribute or a list of them is a sub-module. Attributes
named in `_buffers` hold plain floats that are state but not learned (batch norm's
running statistics). Every module takes a batch (a list of samples) and returns one;
a single flat sample is accepted too and gives a flat list back.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator, Sequence
from typing import Any

from engine import Value

Sample = Sequence[Any]  # a list of numbers or Values
Batch = list[list[Any]]
Tensor = Any  # Value | list[Value] | list[list[Value]]


def _is_tensor(x: object) -> bool:
    if isinstance(x, Value):
        return True
    if isinstance(x, list) and x:
        head = x[0]
        return isinstance(head, Value) or (
            isinstance(head, list) and bool(head) and isinstance(head[0], Value)
        )
    return False


def flatten(t: Tensor) -> list[Value]:
    """The scalars of a tensor (a Value, a vector or a [out][in] matrix), row by row."""
    if isinstance(t, Value):
        return [t]
    return [v for row in t for v in flatten(row)] if isinstance(t[0], list) else list(t)


def _shape(t: Any) -> list[int]:
    return [len(t), *_shape(t[0])] if isinstance(t, list) and t else []


def as_batch(x: Sample | Batch) -> tuple[Batch, bool]:
    """(batch, was_single): a flat sample becomes a batch of one."""
    if not isinstance(x, (list, tuple)):
        raise TypeError(
            "expected a sample (list of numbers) or a batch (list of samples), "
            f"got {type(x).__name__}"
        )
    if x and isinstance(x[0], (list, tuple)):
        return [list(s) for s in x], False
    return [list(x)], True


class Module:
    """Base class: parameter discovery, train/eval, state dicts, and batch calling."""

    _buffers: tuple[str, ...] = ()
    training: bool = True

    def forward(self, batch: Batch) -> Batch:
        raise NotImplementedError

    def __call__(self, x: Sample | Batch) -> Any:
        batch, single = as_batch(x)
        out = self.forward(batch)
        return out[0] if single else out

    # --- discovery -----------------------------------------------------------------
    def children(self) -> Iterator[tuple[str, Module]]:
        """Direct sub-modules with their attribute names (list items as name.i)."""
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value
            elif isinstance(value, list) and value and isinstance(value[0], Module):
                for i, m in enumerate(value):
                    yield f"{name}.{i}", m

    def named_tensors(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        """Parameter tensors (a Value, a vector or an [out][in] matrix of Values) by name."""
        for name, value in vars(self).items():
            if _is_tensor(value):
                yield prefix + name, value
        for name, child in self.children():
            yield from child.named_tensors(f"{prefix}{name}.")

    def named_parameters(self) -> Iterator[tuple[str, Value]]:
        """Every scalar parameter, named by tensor and index, e.g. `layers.0.weight.3.1`."""
        for name, tensor in self.named_tensors():
            if isinstance(tensor, Value):
                yield name, tensor
                continue
            for i, row in enumerate(tensor):
                if isinstance(row, list):
                    for j, v in enumerate(row):
                        yield f"{name}.{i}.{j}", v
                else:
                    yield f"{name}.{i}", row

    def parameters(self) -> list[Value]:
        """All scalar parameters, in a fixed order (what optimizers take)."""
        return [v for _, t in self.named_tensors() for v in flatten(t)]

    def modules(self) -> Iterator[Module]:
        yield self
        for _, child in self.children():
            yield from child.modules()

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0.0

    # --- modes -----------------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Training mode (dropout drops, batch norm uses batch statistics); children too."""
        for m in self.modules():
            m.training = mode
        return self

    def eval(self) -> Module:
        """Inference mode: dropout is the identity, batch norm uses running averages."""
        return self.train(False)

    # --- state -----------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Plain floats by name: parameters as nested lists, then buffers."""
        state: dict[str, Any] = {}
        for name, tensor in self.named_tensors():
            state[name] = _to_floats(tensor)
        for prefix, m in self._named_modules():
            for b in m._buffers:
                state[prefix + b] = copy.deepcopy(getattr(m, b))
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Copy values in. Every name, shape and number is checked before anything is
        written, so a mismatched state dict raises ValueError and changes nothing."""
        expected = self.state_dict()
        missing = sorted(set(expected) - set(state))
        unexpected = sorted(set(state) - set(expected))
        if missing or unexpected:
            raise ValueError(
                f"state dict does not fit this model: missing {missing}, unexpected {unexpected}"
            )
        for name, value in expected.items():
            got = state[name]
            if _shape(got) != _shape(value):
                raise ValueError(
                    f"state dict entry {name!r} has shape {_shape(got)}, "
                    f"the model has {_shape(value)}"
                )
            for x in _leaves(got):
                if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
                    raise ValueError(f"state dict entry {name!r} holds {x!r}, not a finite number")
        for name, tensor in self.named_tensors():
            for v, x in zip(flatten(tensor), _leaves(state[name])):
                v.data = float(x)
        for prefix, m in self._named_modules():
            for b in m._buffers:
                old = getattr(m, b)
                new = state[prefix + b]
                setattr(
                    m, b, type(old)(new) if not isinstance(old, list) else [float(x) for x in new]
                )

    def _named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        yield prefix, self
        for name, child in self.children():
            yield from child._named_modules(f"{prefix}{name}.")

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        kids = list(self.children())
        if not kids:
            return lines[0] + ")"
        for name, child in kids:
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        return "\n".join(lines) + "\n)"

    def extra_repr(self) -> str:
        return ""


def _to_floats(t: Tensor) -> Any:
    if isinstance(t, Value):
        return t.data
    return [_to_floats(x) for x in t]


def _leaves(x: Any) -> list[Any]:
    if isinstance(x, list):
        return [y for item in x for y in _leaves(item)]
    return [x]


class Sequential(Module):
    """Modules applied in order: `Sequential(Layer(2, 16), Layer(16, 1))`."""

    def __init__(self, *modules: Module) -> None:
        self.layers = list(modules)

    def forward(self, batch: Batch) -> Batch:
        for m in self.layers:
            batch = m.forward(batch)
        return batch

    def __getitem__(self, i: int) -> Module:
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)
