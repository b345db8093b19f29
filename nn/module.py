"""`Module`: the base of every layer and network, as in `torch.nn.Module`.

State is declared, never guessed (as PyTorch):
- a `Parameter` attribute (a vector of `Value`s, or a matrix laid out [out][in] as in
  PyTorch) is learned; `register_parameter(name, value)` also takes a lone `Value`;
- `register_buffer(name, value)` holds plain numbers that are state but not learned
  (batch norm's running statistics);
- a `Module` attribute, or a list of them, is a sub-module.
A cached list of `Value`s on a module is just an attribute: it is never trained.

Calling a module: one sample (a flat sequence of numbers or `Value`s, or a 1-D numpy
array) gives a `Value` when the module has one output and a list of `Value`s otherwise,
as micrograd; a batch (a sequence of samples, or a 2-D array) gives a list of rows.
"""

from __future__ import annotations

import copy
import math
import reprlib
from collections.abc import Iterator, Mapping, Sequence
from numbers import Real
from typing import Any

import numpy as np
from chainrule.engine import Value

Sample = Sequence[Any]  # a list of numbers or Values
Batch = list[list[Any]]
Tensor = Any  # Value | list[Value] | list[list[Value]]


class StateDictError(ValueError):
    """A state dict that does not fit the model (names, shapes or numbers); nothing was
    written. A `ValueError`, so `except ValueError` keeps working."""


class Parameter(list):  # type: ignore[type-arg]
    """A learnable tensor: a vector of `Value`s, or a matrix (a list of rows) laid out
    [out][in] as `torch.nn.Linear.weight`. Numbers are made into leaf `Value`s.

    Assigning one to a module attribute declares it: `self.weight = Parameter(rows)`.
    """

    def __init__(self, data: Sequence[Any] = ()) -> None:
        super().__init__(
            [_leaf(x) for x in row] if _is_row(row) else _leaf(row) for row in _rows(data)
        )

    @property
    def shape(self) -> tuple[int, ...]:
        """(out, in) for a matrix, (n,) for a vector, as a torch tensor's `.shape`."""
        return (len(self), len(self[0])) if self and isinstance(self[0], list) else (len(self),)


def _rows(data: Any) -> list[Any]:
    return data.tolist() if hasattr(data, "tolist") else list(data)


def _is_row(x: object) -> bool:
    return isinstance(x, (list, tuple, np.ndarray))


def _leaf(x: Any) -> Value:
    return x if isinstance(x, Value) else Value(x)


def flatten(t: Tensor) -> list[Value]:
    """The scalars of a tensor (a Value, a vector or a [out][in] matrix), row by row."""
    if isinstance(t, Value):
        return [t]
    return [v for row in t for v in row] if t and isinstance(t[0], list) else list(t)


def _indexed(name: str, t: Tensor, bracket: bool = False) -> Iterator[tuple[str, Value]]:
    """(name.i.j, scalar) for each scalar of `t`; `name[i][j]` with bracket=True."""
    fmt = "{}[{}]" if bracket else "{}.{}"
    if isinstance(t, Value):
        yield name, t
        return
    for i, row in enumerate(t):
        if isinstance(row, list):
            for j, v in enumerate(row):
                yield fmt.format(fmt.format(name, i), j), v
        else:
            yield fmt.format(name, i), row


def as_batch(x: Any) -> tuple[Batch, bool]:
    """(batch, was_single): a flat sample (numbers, Values, a 1-D array) becomes a batch
    of one; a sequence of samples is a batch; a 2-D array (samples × features) becomes
    one sample of batched Values, run once over the whole batch."""
    if isinstance(x, np.ndarray):
        if x.ndim == 1:
            return [x.tolist()], True
        if x.ndim == 2:
            if not len(x):
                raise ValueError(f"expected a batch of at least one sample, got shape {x.shape}")
            # one graph for the whole batch: one "sample" of batched Values, one per
            # feature (engine.batched); the outputs come back as one sample's
            return [[Value(col) for col in x.T]], True
        raise ValueError(f"expected a 1-D sample or a 2-D batch, got an array of shape {x.shape}")
    if not isinstance(x, (list, tuple)):
        raise TypeError(
            "expected a sample (list of numbers) or a batch (list of samples), "
            f"got {type(x).__name__}"
        )
    rows = [_is_row(s) for s in x]
    if any(rows) and not all(rows):
        # A Value beside 1-D arrays: one sample whose features are batches (columns)
        if all(not r or (isinstance(s, np.ndarray) and s.ndim == 1) for s, r in zip(x, rows)):
            return [list(x)], True
        raise TypeError(
            "expected a sample (numbers or Values; a 1-D array is a batch's column) or a batch "
            "(a list of samples), got a list mixing both: items "
            f"{[i for i, r in enumerate(rows) if r]} are sequences, the others are not"
        )
    if x and rows[0]:
        return [s.tolist() if isinstance(s, np.ndarray) else list(s) for s in x], False
    return [list(x)], True


class Module:
    """Base class: declared parameters and buffers, train/eval, state dicts, calling."""

    training: bool = True

    def forward(self, batch: Batch) -> Batch:
        raise NotImplementedError

    def __call__(self, x: Any) -> Any:
        batch, single = as_batch(x)
        out = self.forward(batch)
        if not single:
            return out
        return out[0][0] if len(out[0]) == 1 else out[0]

    # --- declaring state -------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        declared = self.__dict__.get("_parameters", ())
        if isinstance(value, Parameter):
            self._declare("_parameters", name)
        elif name in declared and value is not None and not isinstance(value, Value):
            raise TypeError(
                f"cannot assign a {type(value).__name__} to the parameter {name!r}: "
                "wrap it in nn.Parameter (or assign None)"
            )
        object.__setattr__(self, name, value)
        # label what was assigned, and only that: never the rest of the subtree
        prefix = self.__dict__.get("_label_prefix", "")
        if isinstance(value, (Parameter, Value)) and name in self.__dict__.get("_parameters", ()):
            _label(prefix + name, value)
        elif isinstance(value, Module) or _is_module_list(value):
            new = {id(value)} if isinstance(value, Module) else {id(m) for m in value}
            for child_name, child in self.children():
                if id(child) in new:
                    child.relabel(f"{prefix}{child_name}.")

    def _declare(self, kind: str, name: str) -> None:
        names = self.__dict__.get(kind)
        if names is None:
            names = []
            object.__setattr__(self, kind, names)
        if name not in names:
            names.append(name)

    def register_parameter(self, name: str, value: Parameter | Value | None) -> None:
        """Declare `name` a parameter: a `Parameter` tensor, a lone `Value`, or None."""
        if value is not None and not isinstance(value, (Parameter, Value)):
            raise TypeError(f"parameter {name!r} must be a Parameter, a Value or None")
        self._declare("_parameters", name)
        setattr(self, name, value)

    def register_buffer(self, name: str, value: Any) -> None:
        """Declare `name` a buffer: numbers that are saved in the state dict but not
        learned (a float, an int or a list of floats)."""
        self._declare("_buffers", name)
        object.__setattr__(self, name, value)

    def relabel(self, prefix: str = "") -> None:
        """Label every parameter by its path from this module, as the state dict names
        it (`layers.0.weight[0][1]`), so each parameter of a network has its own label
        in a drawing. Assignments label what they assign (a parameter: its scalars; a
        module: its subtree, under its path) and nothing else."""
        for path, m in self.named_modules(prefix):
            object.__setattr__(m, "_label_prefix", path)
            for name, tensor in m._own_tensors():
                _label(path + name, tensor)

    # --- discovery -------------------------------------------------------------------
    def children(self) -> Iterator[tuple[str, Module]]:
        """Direct sub-modules with their attribute names (list items as name.i)."""
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value
            elif _is_module_list(value):
                for i, m in enumerate(value):
                    yield f"{name}.{i}", m

    def _own_tensors(self) -> Iterator[tuple[str, Tensor]]:
        for name in self.__dict__.get("_parameters", ()):
            tensor = getattr(self, name)
            if tensor is not None:
                yield name, tensor

    def named_tensors(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Tensor]]:
        """Parameter tensors (a Value, a vector or an [out][in] matrix of Values) by
        their state-dict name, e.g. `layers.0.weight`; only this module's own with
        recurse=False. A module or tensor used twice is listed once (its first name),
        as torch's `_named_members(remove_duplicate=True)`."""
        seen: set[int] = set()
        modules = self.named_modules(prefix, remove_duplicate) if recurse else [(prefix, self)]
        for path, m in modules:
            for name, tensor in m._own_tensors():
                if remove_duplicate:
                    if id(tensor) in seen:
                        continue
                    seen.add(id(tensor))
                yield path + name, tensor

    def named_parameters(
        self, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Value]]:
        """Every scalar parameter by tensor name and index, e.g. `layers.0.weight.3.1`;
        each `Value` once (a shared layer's scalars under their first name)."""
        seen: set[int] = set()
        for path, m in self.named_modules(prefix, remove_duplicate):
            for label, v in m._own_parameters(path):
                if remove_duplicate:
                    if id(v) in seen:
                        continue
                    seen.add(id(v))
                yield label, v

    def _own_parameters(self, prefix: str) -> Iterator[tuple[str, Value]]:
        """This module's scalars in `parameters()` order: tensor by tensor, row by row."""
        for name, tensor in self._own_tensors():
            yield from _indexed(prefix + name, tensor)

    def parameters(self) -> list[Value]:
        """All scalar parameters in a fixed order (what optimizers take), each once; a
        layer lists each unit's weights, then its bias, as micrograd."""
        return [v for _, v in self.named_parameters()]

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Any]]:
        """Buffers by state-dict name; only this module's own with recurse=False."""
        for p, m in self.named_modules(prefix) if recurse else [(prefix, self)]:
            for b in m.__dict__.get("_buffers", ()):
                yield p + b, getattr(m, b)

    def named_modules(
        self, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """(prefix ending in '.', module) for this module and every sub-module, in
        pre-order; a module used twice once (its first path) unless remove_duplicate is
        False (the state dict lists every path, as torch's)."""
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:  # an explicit stack: deep nesting needs no recursion
            path, m = stack.pop()
            if remove_duplicate:
                if id(m) in seen:
                    continue
                seen.add(id(m))
            yield path, m
            kids = [(f"{path}{name}.", child) for name, child in m.children()]
            stack.extend(reversed(kids))

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

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
        """Plain numbers by name, in PyTorch's order (each module's parameters, then its
        buffers, then its children): tensors as nested lists."""
        state: dict[str, Any] = {}
        for prefix, m in self.named_modules(remove_duplicate=False):
            for name, tensor in m._own_tensors():
                state[prefix + name] = _to_floats(tensor)
            for b in m.__dict__.get("_buffers", ()):
                state[prefix + b] = copy.deepcopy(getattr(m, b))
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Copy values in. Every name, shape and number is checked before anything is
        written: a state dict that does not fit raises `StateDictError` naming the entry
        and changes nothing. Tensors may be nested lists or anything with `.tolist()`
        (numpy arrays, torch tensors)."""
        if not isinstance(state, Mapping):
            raise StateDictError(f"a state dict is a mapping of names, got {type(state).__name__}")
        slots: dict[str, tuple[Module, str, bool]] = {}
        for prefix, m in self.named_modules(remove_duplicate=False):
            for name, _ in m._own_tensors():
                slots[prefix + name] = (m, name, True)
            for b in m.__dict__.get("_buffers", ()):
                slots[prefix + b] = (m, b, False)
        missing = [k for k in slots if k not in state]
        unexpected = [k for k in state if k not in slots]
        if missing or unexpected:
            raise StateDictError(
                f"state dict does not fit this model: missing {missing}, unexpected {unexpected}"
            )
        checked = {
            key: m._check_entry(name, is_param, state[key], key)
            for key, (m, name, is_param) in slots.items()
        }
        for key, (m, name, is_param) in slots.items():  # everything is valid: write
            if is_param:
                for v, x in zip(flatten(getattr(m, name)), _leaves(checked[key])):
                    v.data = x
            else:
                object.__setattr__(m, name, checked[key])

    def _check_entry(self, name: str, is_param: bool, got: Any, key: str) -> Any:
        """The entry for this module's `name` as plain numbers, or StateDictError."""
        current = getattr(self, name)
        model = _to_floats(current) if is_param else current
        value = _numbers(got, model, key)
        if isinstance(model, int) and not isinstance(model, bool):
            if value != int(value) or value < 0:
                raise StateDictError(
                    f"state dict entry {key!r} must be a count >= 0, got {reprlib.repr(got)}"
                )
            value = int(value)
        self._check_buffer(name, value, key)
        return value

    def _check_buffer(self, name: str, value: Any, key: str) -> None:
        """Module-specific limits on a state entry (batch norm: variances >= 0)."""

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


def _label(name: str, tensor: Tensor) -> None:
    """Label a tensor's scalars `name[i][j]`, as a drawing shows them."""
    for label, v in _indexed(name, tensor, bracket=True):
        v.label = label


def _is_module_list(x: object) -> bool:
    return isinstance(x, list) and bool(x) and isinstance(x[0], Module)


def _to_floats(t: Tensor) -> Any:
    if isinstance(t, Value):
        return t.data
    return [_to_floats(x) for x in t]


def _leaves(x: Any) -> list[Any]:
    if isinstance(x, list):
        return [y for item in x for y in _leaves(item)]
    return [x]


def _shape(x: Any) -> list[int]:
    return [len(x), *_shape(x[0])] if isinstance(x, list) and x else []


def _numbers(got: Any, model: Any, key: str) -> Any:
    """`got` as plain floats with exactly the nesting of `model` (every row checked, so
    ragged rows are refused), each a finite real number."""
    got = _plain(got)

    def walk(g: Any, m: Any) -> Any:
        if isinstance(m, list):
            if not isinstance(g, (list, tuple)) or len(g) != len(m):
                raise StateDictError(
                    f"state dict entry {key!r} has shape {_describe_shape(got)}, "
                    f"the model has {_shape(model)}"
                )
            return [walk(_plain(x), y) for x, y in zip(g, m)]
        if isinstance(g, bool) or not isinstance(g, Real):
            raise StateDictError(
                f"state dict entry {key!r} holds {reprlib.repr(g)}, not a finite number"
            )
        try:
            x = float(g)
        except OverflowError:
            x = math.inf
        if not math.isfinite(x):
            raise StateDictError(
                f"state dict entry {key!r} holds {reprlib.repr(g)}, not a finite number"
            )
        return x

    return walk(got, model)


def _plain(x: Any) -> Any:
    """numpy arrays and torch tensors as nested lists (numbers stay numbers)."""
    return x.tolist() if hasattr(x, "tolist") and not isinstance(x, (Real, str)) else x


def _describe_shape(x: Any) -> str:
    if not isinstance(x, (list, tuple)):
        return f"[] ({type(x).__name__})"
    lengths = sorted({len(r) if isinstance(r, (list, tuple)) else 0 for r in x})
    if lengths == [0]:
        return f"[{len(x)}]"
    if len(lengths) > 1:
        return f"[{len(x)}, ragged rows of lengths {lengths}]"
    return str([len(x), *lengths])


class Sequential(Module):
    """Modules applied in order: `Sequential(Linear(2, 16), ReLU(), Linear(16, 1))`.
    Sub-modules are named by position ("0", "1", ...), so the state dict's keys are
    PyTorch's for the same model (`0.weight`, `2.bias`, ...)."""

    # MLP keeps the names `layers.0.weight`, ... so its checkpoints stay loadable.
    _child_prefix = ""

    def __init__(self, *modules: Module) -> None:
        for m in modules:
            if not isinstance(m, Module):
                raise TypeError(f"Sequential takes modules, got {type(m).__name__}")
        self.layers = list(modules)

    def children(self) -> Iterator[tuple[str, Module]]:
        for i, m in enumerate(self.__dict__.get("layers", ())):
            yield f"{self._child_prefix}{i}", m

    def forward(self, batch: Batch) -> Batch:
        for m in self.layers:
            batch = m.forward(batch)
        return batch

    def append(self, module: Module) -> Sequential:
        self.layers.append(module)
        module.relabel(f"{self.__dict__.get('_label_prefix', '')}{len(self.layers) - 1}.")
        return self

    def __getitem__(self, i: int) -> Module:
        return self.layers[i]

    def __iter__(self) -> Iterator[Module]:
        return iter(self.layers)

    def __len__(self) -> int:
        return len(self.layers)
