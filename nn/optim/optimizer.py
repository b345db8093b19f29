"""`Optimizer`: parameter groups, per-parameter state and state dicts, as torch.optim.

An optimizer holds `param_groups`: a list of dicts, each with its `"params"` (a list of
`Value`s) and its hyper-parameters (`lr`, ...). `step()` loops over the groups and updates
each parameter from its `grad` with the group's hyper-parameters; `state` maps a parameter
(the `Value` itself, as torch keys by tensor) to its buffers (momentum, Adam's averages).

    SGD(model.parameters(), lr=0.1)                                  # one group
    SGD([{"params": body}, {"params": head, "lr": 0.01}], lr=0.1)    # two groups

A subclass states its defaults, checks a group's hyper-parameters in `check_group`, and
updates one parameter in `update`. Hyper-parameters are checked when the optimizer is
made and when a state dict is loaded, so a bad value is refused before anything changes.
"""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Iterable, Mapping
from typing import Any

from chainrule.engine import Value

ParamsArg = Iterable[Value] | Iterable[dict[str, Any]]


def check_number(name: str, x: object, *, low: float = 0.0, below: float | None = None) -> None:
    """Refuse `x` unless it is a real number with low <= x (< below): NaN and inf included.

    TypeError for a non-number (a bool too), ValueError naming `name` otherwise."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):  # numpy scalars are Real
        raise TypeError(f"{name} must be a number, got {type(x).__name__}")
    v = float(x)
    if not math.isfinite(v) or v < low or (below is not None and v >= below):
        where = f"in [{low:g}, {below:g})" if below is not None else f">= {low:g}"
        raise ValueError(f"invalid {name}: {x!r} (must be a finite number {where})")


class Optimizer:
    """Base class: holds `param_groups` and `state`; subclasses define `update`."""

    defaults: dict[str, Any]

    def __init__(self, params: ParamsArg, defaults: dict[str, Any]) -> None:
        self.check_group(defaults)
        self.defaults = dict(defaults)
        if isinstance(params, (Value, dict)):
            raise TypeError(
                "params must be an iterable of Values or of parameter-group dicts, "
                f"got one {type(params).__name__}"
            )
        items = list(params)
        if not items:
            raise ValueError("optimizer got an empty parameter list")
        raw = items if isinstance(items[0], dict) else [{"params": items}]
        self.param_groups: list[dict[str, Any]] = []
        seen: set[int] = set()
        for g in raw:
            if not isinstance(g, dict) or "params" not in g:
                raise TypeError("parameter groups must all be dicts with a 'params' key")
            unknown = sorted(set(g) - set(defaults) - {"params"})
            if unknown:
                raise ValueError(f"unknown hyper-parameters in a parameter group: {unknown}")
            plist = [g["params"]] if isinstance(g["params"], Value) else list(g["params"])
            if not plist:
                raise ValueError("optimizer got an empty parameter group")
            for p in plist:
                if not isinstance(p, Value):
                    raise TypeError(f"optimizer parameters must be Values, got {type(p).__name__}")
                if id(p) in seen:  # torch refuses it too: the parameter would step twice
                    raise ValueError("a parameter appears more than once in the optimizer")
                seen.add(id(p))
            group = {**defaults, **{k: v for k, v in g.items() if k != "params"}}
            self.check_group(group)
            self.param_groups.append({"params": plist, **group})
        self.state: dict[Value, dict[str, Any]] = {}

    # --- what a subclass defines --------------------------------------------------------
    def check_group(self, group: Mapping[str, Any]) -> None:
        """Raise ValueError/TypeError naming a bad hyper-parameter of `group`."""
        check_number("lr", group["lr"])

    def update(self, p: Value, group: dict[str, Any], state: dict[str, Any]) -> None:
        """Change `p.data` from `p.grad` with the group's hyper-parameters."""
        raise NotImplementedError

    # --- the loop -----------------------------------------------------------------------
    @staticmethod
    def decayed_grad(p: Value, group: dict[str, Any]) -> float:
        """The gradient with the group's weight decay λ applied: coupled (L2, as torch's
        SGD and Adam) it is g + λ·w; decoupled (AdamW, the lecture's weight decay) the
        weight shrinks first, w ← (1 - lr·λ)·w, and the gradient is left as it is."""
        lr, wd, d = group["lr"], group["weight_decay"], p.grad
        if wd != 0.0:
            if group["decoupled_weight_decay"]:
                p.data *= 1.0 - lr * wd
            else:
                d = d + wd * p.data
        return d  # type: ignore[no-any-return]

    def step(self) -> None:
        """One update of every parameter, group by group."""
        for group in self.param_groups:
            for p in group["params"]:
                self.update(p, group, self.state.setdefault(p, {}))

    def zero_grad(self) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = 0.0

    @property
    def params(self) -> list[Value]:
        """Every parameter, group after group."""
        return [p for g in self.param_groups for p in g["params"]]

    @property
    def lr(self) -> float:
        """The first group's learning rate (the only one, usually); setting it sets every
        group's (schedulers set each group's own)."""
        return self.param_groups[0]["lr"]

    @lr.setter
    def lr(self, value: float) -> None:
        for g in self.param_groups:
            self.check_group({**g, "lr": value})
        for g in self.param_groups:
            g["lr"] = value

    # --- state dicts --------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """A JSON-ready copy, laid out as torch's: `state` by parameter index (as a string,
        JSON's keys being strings), `param_groups` with each group's parameter indices."""
        index = {id(p): i for i, p in enumerate(self.params)}
        groups = [
            {
                **{k: copy.deepcopy(v) for k, v in g.items() if k != "params"},
                "params": [index[id(p)] for p in g["params"]],
            }
            for g in self.param_groups
        ]
        state = {str(index[id(p)]): copy.deepcopy(s) for p, s in self.state.items() if s}
        return {"state": state, "param_groups": groups}

    def check_state(self, state: Mapping[str, Any]) -> None:
        """Raise ValueError unless `state` is one parameter's valid buffers (subclasses)."""
        for key, v in state.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ValueError(f"optimizer state {key!r} holds {v!r}, not a finite number")

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Load a `state_dict()`; everything is checked first, so a bad one raises
        ValueError and changes nothing."""
        if not isinstance(state_dict, Mapping) or set(state_dict) != {"state", "param_groups"}:
            raise ValueError("optimizer state dict must have exactly 'state' and 'param_groups'")
        groups, entries = state_dict["param_groups"], state_dict["state"]
        if not isinstance(groups, list) or len(groups) != len(self.param_groups):
            raise ValueError("state dict has a different number of parameter groups")
        params = self.params
        new_groups = []
        for i, (mine, theirs) in enumerate(zip(self.param_groups, groups)):
            if not isinstance(theirs, Mapping) or set(theirs) != set(mine):
                raise ValueError(f"parameter group {i} has other keys than this optimizer's")
            if len(theirs["params"]) != len(mine["params"]):
                raise ValueError(f"parameter group {i} has a different number of parameters")
            hyper = {k: copy.deepcopy(v) for k, v in theirs.items() if k != "params"}
            try:
                self.check_group(hyper)
            except TypeError as e:
                raise ValueError(str(e)) from None
            new_groups.append(hyper)
        if not isinstance(entries, Mapping):
            raise ValueError("optimizer state dict's 'state' must be a mapping")
        new_state: dict[Value, dict[str, Any]] = {}
        for key, s in entries.items():
            index = _index(key)
            if index is None or not 0 <= index < len(params):
                raise ValueError(f"optimizer state refers to parameter {key!r}, which it lacks")
            if not isinstance(s, Mapping):
                raise ValueError(f"optimizer state of parameter {key!r} is not a mapping")
            self.check_state(s)
            new_state[params[index]] = copy.deepcopy(dict(s))
        for mine, hyper in zip(self.param_groups, new_groups):
            mine.update(hyper)
        self.state = new_state


def _index(key: object) -> int | None:
    """A state key: an int or its decimal string (as JSON stores it)."""
    if isinstance(key, bool):
        return None
    if isinstance(key, int):
        return key
    if isinstance(key, str) and key.isdigit() and len(key) < 10:
        return int(key)
    return None
