"""Copying and pickling graphs: `copy.copy`, `copy.deepcopy` and `pickle` of a `Value`.

A node is saved as its fields, with its parents by reference (so shared nodes stay
shared and `a + a` keeps one `a`). Saving a node saves its parents first, which pickle
would do by recursion, one level per node (a graph 100 ops deep would exceed Python's
recursion limit). Instead the first node saved lists every node it depends on, parents
before children, so each is saved when its own parents already are: those are saved
plainly.

How a listed node knows it is listed: the list ends with a `_Session`, and the marks (the
listed nodes' ids) live in this thread's table only as long as that session object does.
The pickler (or deepcopy's memo) holds the session until it finishes or fails, so no mark
outlives its copy, and two threads copying one graph never see each other's marks.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

_new = object.__new__


class _Session:
    """One graph being saved: saved last in its root's list, so the copier holds it (and
    with it, the marks) exactly as long as the copy is being made."""

    __slots__ = ("__weakref__", "ids")

    def __init__(self, ids: list[int]) -> None:
        self.ids = ids

    def __reduce__(self) -> tuple[Any, ...]:
        # saved after every listed node: the marks of those already saved before (shared
        # with an earlier object of the same copy), never reduced, go now
        marks = _marks()
        for i in self.ids:
            if marks.get(i) is self:
                del marks[i]
        return type(None), ()


class _Local(threading.local):
    marks: weakref.WeakValueDictionary[int, _Session] | None = None


_local = _Local()


def _marks() -> weakref.WeakValueDictionary[int, _Session]:
    marks = _local.marks
    if marks is None:
        marks = _local.marks = weakref.WeakValueDictionary()
    return marks


def reduce_node(node: Any, protocol: Any = None) -> tuple[Any, ...]:
    """`node.__reduce_ex__`: plainly if it is listed in a graph being saved, else the
    list of its ancestors first."""
    marks = _marks()
    me = id(node)
    if marks.pop(me, None) is not None:
        return new_value, (type(node),), get_state(node)
    ancestors = ancestors_of(node)
    ids = [id(v) for v in ancestors]
    session = _Session(ids)
    for i in ids:
        marks[i] = session
    return new_value, (type(node), [*ancestors, session]), get_state(node)


def get_state(node: Any) -> tuple[Any, ...]:
    """A node's fields, and a subclass's own attributes."""
    extra = getattr(node, "__dict__", None)
    return (node.data, node.grad, node.label, node._op, node._a, node._da, node._b, node._db, extra)


def set_state(node: Any, state: tuple[Any, ...]) -> None:
    *fields, extra = state
    node.data, node.grad, node.label, node._op, node._a, node._da, node._b, node._db = fields
    if extra:
        node.__dict__.update(extra)


def shallow_copy(node: Any) -> Any:
    """`copy.copy`: a new node with the same parents (and the same op)."""
    out = new_value(type(node))
    set_state(out, get_state(node))
    return out


def new_value(cls: type, ancestors: object = None) -> Any:
    """An empty node for `pickle`/`copy` to fill in (`ancestors` were restored first)."""
    return _new(cls)


def ancestors_of(root: Any) -> list[Any]:
    """Every node `root` depends on (not root), each after its parents: an iterative
    depth-first post-order over `parents` (which also reads hand-made nodes whose
    derivative is unknown, unlike backprop's traversal)."""
    post: list[Any] = []
    seen = {root}
    stack = [(root, iter(root.parents))]
    while stack:
        v, todo = stack[-1]
        for p in todo:
            if p not in seen:
                seen.add(p)
                stack.append((p, iter(p.parents)))
                break
        else:
            stack.pop()
            post.append(v)
    post.pop()  # root itself
    return post


def marked() -> int:
    """How many nodes of this thread are marked now (0 when no copy is under way)."""
    return len(_marks())
