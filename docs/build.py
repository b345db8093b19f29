"""Build chainrule's documentation site into `site/` (what `make docs` runs).

    .venv/bin/python docs/build.py              # writes site/ (site/index.html is the home)
    .venv/bin/python docs/build.py --out DIR    # somewhere else

It gathers the sources in `build/docs-src/`, then runs Sphinx there with warnings as
errors:

- `docs/pages/` (the home, the course's and the interactive pages' text), `docs/conf.py`
  and the site's extension `docs/chainrule_sphinx.py`;
- every lesson notebook `notebooks/NN_name.ipynb` as committed (found by glob, rendered
  with its outputs, never executed) into `course/`, and with its `.py` source into
  `notebooks/` for download;
- one API page per subpackage, listing the names in its `__all__` (each gets its own page
  from its docstring);
- the stepper pages (`viz.stepper.stepper_html`, drawn with the real `dot`) and the
  images the pages show;
- MathJax 3 (its SVG renderer and the TeX extensions it may load), copied from the
  django-static-mathjax package, so the site loads nothing from outside.

Files are copied with their times kept, so a second build only rereads what changed.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import os
import shutil
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
STAGE = ROOT / "build" / "docs-src"
# The modules each API page documents: the subpackage (its `__all__`), then the modules the
# README and the lessons import from.
API_MODULES = {
    "engine": ["chainrule.engine"],
    "nn": [
        "chainrule.nn",
        "chainrule.nn.data",
        "chainrule.nn.analysis",
        "chainrule.nn.symmetry",
        "chainrule.nn.regularization",
    ],
    "viz": [
        "chainrule.viz",
        "chainrule.viz.stepper",
        "chainrule.viz.plots",
        "chainrule.viz.architecture",
        "chainrule.viz.playground",
    ],
}
IMAGES = ("neuron.svg", "decision_boundary.png", "playground.png")
MATHJAX_PARTS = ("tex-svg.js", "input/tex/extensions", "output/svg", "ui", "a11y", "adaptors")


def lessons() -> list[Path]:
    """The committed lesson notebooks, in course order."""
    return sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def sync(src: Path, dst: Path) -> None:
    """Copy `src` (a file or a folder) to `dst`, keeping times; files already identical in
    size and time are not rewritten, so Sphinx sees them unchanged."""
    if src.is_dir():
        for f in src.rglob("*"):
            if f.is_file() and "__pycache__" not in f.parts:
                sync(f, dst / f.relative_to(src))
        return
    same = dst.exists() and dst.stat().st_size == src.stat().st_size
    if same and dst.stat().st_mtime == src.stat().st_mtime:
        return
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dst)


def write(path: Path, text: str) -> None:
    """Write `text` unless the file already holds it (its time then stays as it was)."""
    if not path.exists() or path.read_text() != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def public_names(module: ModuleType) -> list[str]:
    """A module's public names: its `__all__`, or else the functions and classes it defines
    whose names do not start with `_`."""
    names = getattr(module, "__all__", None)
    if names is None:
        names = [
            n
            for n, obj in vars(module).items()
            if not n.startswith("_")
            and (inspect.isfunction(obj) or inspect.isclass(obj))
            and obj.__module__ == module.__name__
        ]
    return sorted(names, key=str.lower)


def api_page(sub: str) -> tuple[str, set[str]]:
    """The MyST page of `chainrule.<sub>` and the full names it documents: for the package and
    each of its modules in API_MODULES, the module's docstring and a table of its public
    names (those not already listed above), each name with a page of its own (autosummary)."""
    parts = [f"# chainrule.{sub}\n"]
    seen: set[int] = set()
    documented: set[str] = set()
    for k, modname in enumerate(API_MODULES[sub]):
        module = importlib.import_module(modname)
        names = [n for n in public_names(module) if id(getattr(module, n)) not in seen]
        seen |= {id(getattr(module, n)) for n in names}
        documented |= {f"{modname}.{n}" for n in names}
        title = "" if k == 0 else f"## {modname}\n\n"
        table = "".join(f"   {n}\n" for n in names)
        parts.append(
            f"{title}```{{eval-rst}}\n.. automodule:: {modname}\n   :no-members:\n\n"
            f".. currentmodule:: {modname}\n\n"
            f".. autosummary::\n   :toctree: generated\n   :nosignatures:\n\n{table}```\n"
        )
    return "\n".join(parts), documented


def stepper_pages(out: Path) -> None:
    """The stepper pages the interactive page embeds (see docs/pages/interactive.md)."""
    from chainrule.engine import Value
    from chainrule.viz.demo import lecture_neuron
    from chainrule.viz.stepper import stepper_html

    stepper_html(lecture_neuron(), out / "neuron.html", title="Backprop through one neuron")
    a, c = Value(3.0, label="a"), Value(-2.0, label="c")
    e = a * c
    e.label = "e"
    d = e + a  # `a` is used twice: its gradient is the sum of both paths
    d.label = "d"
    f = d * d
    f.label = "f"
    stepper_html(f, out / "shared.html", title="A shared input: gradients add")


def stage() -> None:
    """Gather every source of the site in STAGE (see the module's docstring)."""
    sync(DOCS / "pages", STAGE)
    for name in ("conf.py", "chainrule_sphinx.py"):
        sync(DOCS / name, STAGE / name)
    wanted = {p.name for p in lessons()}
    for old in (STAGE / "course").glob("*.ipynb"):  # a lesson renamed or removed
        if old.name not in wanted:
            old.unlink()
    for nb in lessons():
        sync(nb, STAGE / "course" / nb.name)
        sync(nb, STAGE / "_extra" / "notebooks" / nb.name)
        sync(nb.with_suffix(".py"), STAGE / "_extra" / "notebooks" / nb.with_suffix(".py").name)
    public: set[str] = set()
    for sub in API_MODULES:
        page, documented = api_page(sub)
        write(STAGE / "api" / f"{sub}.md", page)
        public |= documented
    for stub in (STAGE / "api" / "generated").glob("*.rst"):  # a name no longer public
        if stub.stem not in public:
            stub.unlink()
    for image in IMAGES:
        sync(DOCS / image, STAGE / "images" / image)
    stepper_pages(STAGE / "_extra" / "steppers")
    import mathjax  # django-static-mathjax: MathJax's files, no code

    es5 = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    for part in MATHJAX_PARTS:
        sync(es5 / part, STAGE / "_static" / "mathjax" / part)
    sync(es5.parent / "LICENSE", STAGE / "_static" / "mathjax" / "LICENSE")


def build(out: Path) -> int:
    """Stage the sources and run Sphinx (HTML, warnings as errors); Sphinx's exit status."""
    from sphinx.cmd.build import build_main

    stage()
    # Sphinx writes into build/docs-html/html (MyST-NB puts its image files beside, in
    # build/docs-html/jupyter_execute), then the finished site replaces `out`.
    html = ROOT / "build" / "docs-html" / "html"
    doctrees = ROOT / "build" / "docs-doctrees"
    # -E: read every source again, so that every warning shows on every build
    flags = ["-b", "html", "-E", "-W", "--keep-going", "-q"]
    status = build_main([*flags, "-d", str(doctrees), str(STAGE), str(html)])
    if status == 0:
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(html, out)
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "site", help="default: site/")
    args = parser.parse_args(argv)
    os.environ.setdefault("MPLBACKEND", "Agg")
    status = build(args.out.resolve())
    if status == 0:
        print(f"site written to {args.out}/ (open {args.out}/index.html)")
    return status


if __name__ == "__main__":
    sys.exit(main())
