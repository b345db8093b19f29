"""The site's own Sphinx extension: what turns chainrule's lessons and docstrings into pages.

- Lessons (`course/NN_name.ipynb`, read as committed): a line of links under the title
  (download the notebook, its `.py` source, open it in Colab); solutions (cells tagged
  `solution`) collapsed behind "Show the solution"; an ipywidgets output, which a static
  page cannot run, replaced by the frame it showed when saved and a link to the live stepper
  pages.
- Docstrings: chainrule writes them in a plain style (backticks for code, an indented block
  for an example). `autodoc-process-docstring` makes each indented block after a blank line
  a literal block; the default role `chainrule-ref` links a backticked public name to its
  page and shows anything else (`d(out)/d(parent)`, `engine/value.py`) as code.
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
import sys
from types import ModuleType
from typing import Any

from docutils import nodes
from docutils.nodes import Node, system_message
from docutils.parsers.rst.states import Inliner
from sphinx.addnodes import pending_xref
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.pycode import ModuleAnalyzer

LESSON = re.compile(r"course/(\d\d_\w+)$")
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*(\(\))?$")
LIST_OR_DIRECTIVE = re.compile(r"^(\.\. |[-*+] |\d+[.)] |:\w)")
CODE_SPAN = re.compile(r"(``.+?``|`[^`]+`)", re.S)
COLLAPSED = {"solution": "Show the solution", "setup": "Show the setup cell (installs chainrule)"}
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = (
    "<p class='widget-note'>In Jupyter, a slider steps through these frames (an ipywidgets "
    "widget, which a static page cannot run): here is the frame it showed when the notebook "
    "was saved. The same stepping, live in this site: "
    "<a href='../interactive.html'>the stepper pages</a>.</p>"
)


# -- lessons -------------------------------------------------------------------------------


def lesson_links(name: str, repo: str, branch: str) -> str:
    """The HTML line of links shown under a lesson's title (relative to `course/`)."""
    colab = f"https://colab.research.google.com/github/{repo}/blob/{branch}/notebooks/{name}.ipynb"
    return (
        "<p class='lesson-links'>"
        f"<a class='reference download' href='../notebooks/{name}.ipynb' download>"
        "Download the notebook</a> · "
        f"<a class='reference download' href='../notebooks/{name}.py' download>"
        "its source (.py, jupytext)</a> · "
        f"<a class='reference external' href='{colab}'>Open in Colab</a></p>"
    )


def _widget_outputs(state: dict[str, Any], model_id: str) -> list[dict[str, Any]]:
    """The outputs saved in the widget `model_id` and its children (Output widgets)."""
    model = state.get(model_id, {}).get("state", {})
    found = list(model.get("outputs", []))
    for child in model.get("children", []):
        if isinstance(child, str) and child.startswith("IPY_MODEL_"):
            found += _widget_outputs(state, child.removeprefix("IPY_MODEL_"))
    return found


def _replace_widget(output: dict[str, Any], state: dict[str, Any]) -> list[dict[str, Any]]:
    """A widget output becomes the outputs it held when saved, then a note."""
    model_id = output["data"][WIDGET_VIEW]["model_id"]
    note = {"output_type": "display_data", "metadata": {}, "data": {"text/html": WIDGET_NOTE}}
    return [*_widget_outputs(state, model_id), note]


def prepare_lesson(source: str, name: str, repo: str, branch: str) -> str:
    """The notebook JSON `source` as the site shows it (see the module's docstring)."""
    nb = json.loads(source)
    state = (
        nb["metadata"]
        .pop("widgets", {})
        .get("application/vnd.jupyter.widget-state+json", {})
        .get("state", {})
    )
    for i, cell in enumerate(nb["cells"]):
        if i == 0 and cell["cell_type"] == "markdown":
            text = "".join(cell["source"])
            title, _, rest = text.partition("\n")
            cell["source"] = f"{title}\n\n{lesson_links(name, repo, branch)}\n{rest}"
        tags = cell["metadata"].get("tags", [])
        for tag, prompt in COLLAPSED.items():
            if tag in tags:
                cell["metadata"]["tags"] = [*tags, "hide-input"]
                cell["metadata"]["mystnb"] = dict(code_prompt_show=prompt, code_prompt_hide="Hide")
        outputs: list[dict[str, Any]] = []
        for out in cell.get("outputs", []):
            if WIDGET_VIEW in out.get("data", {}):
                outputs += _replace_widget(out, state)
            else:
                outputs.append(out)
        if "outputs" in cell:
            cell["outputs"] = outputs
    return json.dumps(nb)


def on_source_read(app: Sphinx, docname: str, source: list[str]) -> None:
    match = LESSON.match(docname)
    if match:
        cfg = app.config
        source[0] = prepare_lesson(
            source[0], match.group(1), cfg.chainrule_repo, cfg.chainrule_branch
        )


# -- docstrings ----------------------------------------------------------------------------


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _escape(prose: str) -> str:
    """reST for plain text with backticked code: `*`, `|`, `_` and `\\` outside the code
    spans read as themselves (not emphasis, substitutions or links), and a code span may
    touch a word (`Value`s)."""
    out = []
    for k, part in enumerate(CODE_SPAN.split(prose)):
        if k % 2:  # a code span; `\ ` (an escaped space) separates it from a touching word
            before = out[-1][-1:] if out and out[-1] else " "
            out.append(("\\ " if before.isalnum() else "") + part)
        else:
            part = re.sub(r"([\\*|_])", r"\\\1", part)
            out.append(("\\ " if part[:1].isalnum() and k else "") + part)
    return "".join(out)


def docstring_to_rest(lines: list[str]) -> list[str]:
    """chainrule's plain docstring style as reST. An indented run of lines under an
    unindented line that is not a list item is an example or a formula: it becomes a
    literal block (the line above ends with `::`: a trailing `:` becomes `::`, which shows
    one colon; otherwise ` ::` is added, which shows nothing; blank lines around it).
    Everything else is prose, escaped by `_escape`."""
    out: list[str] = []
    prose: list[str] = []
    in_block = False
    for line in [*lines, ""]:
        if line.strip() and _indent(line) > 0 and not in_block:
            head = next((x for x in reversed(prose) if x.strip()), "")
            if head and _indent(head) == 0 and not LIST_OR_DIRECTIVE.match(head):
                while prose and not prose[-1].strip():
                    prose.pop()
                text = prose.pop().rstrip()
                if not text.endswith("::"):
                    text += ":" if text.endswith(":") else " ::"
                out += [*_escape("\n".join([*prose, text])).split("\n"), ""]
                prose, in_block = [], True
        elif line.strip() and _indent(line) == 0 and in_block:
            if out and out[-1].strip():
                out.append("")
            in_block = False
        (out if in_block else prose).append(line)
    out += _escape("\n".join(prose)).split("\n")
    return out[: len(out) - 1]


def own_docstring(module: ModuleType, name: str) -> str | None:
    """The docstring of the public name `module.name`, not inherited: a module's, a class's
    or a function's own `__doc__`; for data (a dict, a string), the string literal after
    its assignment in the module that defines it (Python's attribute docstring)."""
    obj = getattr(module, name)
    if inspect.ismodule(obj) or inspect.isclass(obj) or inspect.isroutine(obj):
        return obj.__doc__ or None
    root = module.__name__.split(".")[0]
    for modname, mod in sorted(sys.modules.items()):
        if modname.split(".")[0] == root and getattr(mod, name, None) is obj:
            docs = ModuleAnalyzer.for_module(modname).find_attr_docs()
            if ("", name) in docs:
                return "\n".join(docs[("", name)]).strip() or None
    return None


def on_docstring(
    app: Sphinx, what: str, name: str, obj: Any, options: Any, lines: list[str]
) -> None:
    if what == "data":  # an imported constant: its docstring is where it is defined
        modname, _, attr = name.rpartition(".")
        doc = own_docstring(importlib.import_module(modname), attr)
        lines[:] = doc.split("\n") if doc else []
    lines[:] = docstring_to_rest(lines)


def chainrule_ref(
    role: str,
    rawtext: str,
    text: str,
    lineno: int,
    inliner: Inliner,
    options: dict[str, Any] | None = None,
    content: list[str] | None = None,
) -> tuple[list[Node], list[system_message]]:
    """`text`: a link to the Python object of that name when there is one, else code."""
    literal = nodes.literal(rawtext, text, classes=["xref", "py"])
    if not NAME.match(text):
        return [literal], []
    env = inliner.document.settings.env
    ref = pending_xref(
        rawtext,
        refdomain="py",
        reftype="obj",
        reftarget=text.removesuffix("()"),
        refexplicit=False,
        refwarn=False,
        chainrule_ref=True,
    )
    ref["py:module"] = env.ref_context.get("py:module")
    ref["py:class"] = env.ref_context.get("py:class")
    ref += literal
    return [ref], []


def on_missing_reference(
    app: Sphinx, env: BuildEnvironment, node: pending_xref, contnode: Node
) -> Node | None:
    """A backticked name the Python domain did not find in its context: link it when exactly
    one documented object has that (dotted) name as its tail (`Value`, `Value.backward`) and
    is a class or lives in the same subpackage (in viz, `dot` is graphviz's program, not
    `engine.dot`)."""
    if not node.get("chainrule_ref"):
        return None
    target = node["reftarget"]
    here = ".".join((node.get("py:module") or "").split(".")[:2])
    domain = env.get_domain("py")
    hits = [
        (name, obj)
        for name, obj in domain.objects.items()  # type: ignore[attr-defined]
        if (name == target or name.endswith("." + target))
        and not obj.aliased  # `chainrule.engine.value.Value`, the canonical name's entry
        and (obj.objtype in ("class", "exception") or name.startswith(here + "."))
    ]
    if len(hits) != 1:
        return None
    name, obj = hits[0]
    builder = app.builder
    ref = nodes.reference("", "", internal=True, reftitle=name)
    ref["refuri"] = builder.get_relative_uri(node["refdoc"], obj.docname) + "#" + obj.node_id
    ref += contnode
    return ref


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("chainrule_repo", "chainrule/chainrule", "env")
    app.add_config_value("chainrule_branch", "main", "env")
    app.add_role("chainrule-ref", chainrule_ref)
    app.connect("source-read", on_source_read)
    app.connect("autodoc-process-docstring", on_docstring)
    app.connect("missing-reference", on_missing_reference)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
