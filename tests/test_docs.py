"""The documentation site (`make docs`, which `make test` runs first): every public name has a
docstring; every lesson has its page; no internal link, image, script or frame is broken
and none points outside the site; in Chromium, the home page, a lesson and `Value`'s API
page load with nothing fetched from outside, their mathematics typeset, hidden cells collapsed
and the embedded stepper stepping (screenshots in tests/_out/docs/)."""

from __future__ import annotations

import functools
import importlib
import importlib.util
import json
import os
import pkgutil
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "site"
SHOTS = Path(__file__).parent / "_out" / "docs"
sys.path.insert(0, str(ROOT / "docs"))
import chainrule_sphinx  # noqa: E402  (docs/chainrule_sphinx.py)


def _load(path: Path, name: str) -> ModuleType:
    """Import the file `path` as module `name`: docs/build.py must not take the name `build`,
    which tests/test_notebooks.py imports (notebooks/build.py) in the same process."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


docs_build = _load(ROOT / "docs" / "build.py", "chainrule_docs_build")

LESSONS = docs_build.lessons()
SOURCES = [ROOT / d for d in ("docs", "notebooks", "engine", "nn", "viz", "chainrule")]


# -- docstrings ----------------------------------------------------------------------------


def modules_with_all() -> Iterator[ModuleType]:
    """Every module of the installed package that declares `__all__`."""
    for top in ("chainrule", "chainrule.engine", "chainrule.nn", "chainrule.viz"):
        package = importlib.import_module(top)
        yield package
        for info in pkgutil.walk_packages(package.__path__, top + "."):
            if info.name.endswith("__main__"):  # a program, not a module to import
                continue
            module = importlib.import_module(info.name)
            if hasattr(module, "__all__"):
                yield module


def test_every_public_name_has_a_docstring() -> None:
    missing, count = [], 0
    for module in modules_with_all():
        for name in module.__all__:
            count += 1
            if not chainrule_sphinx.own_docstring(module, name):
                missing.append(f"{module.__name__}.{name}")
    for modules in docs_build.API_MODULES.values():  # the site documents these too
        for modname in modules:
            module = importlib.import_module(modname)
            for name in docs_build.public_names(module):
                if not chainrule_sphinx.own_docstring(module, name):
                    missing.append(f"{modname}.{name}")
    assert count > 60
    assert not missing, f"public names without a docstring: {sorted(set(missing))}"


def test_the_docstring_check_can_fail() -> None:
    module = ModuleType("chainrule.fake")
    exec("def f():\n    pass\nclass C(ValueError):\n    pass\nX = {}\n", module.__dict__)
    assert [chainrule_sphinx.own_docstring(module, n) for n in "fCX"] == [None, None, None]
    # an attribute docstring counts for data, a class's inherited docstring does not
    from chainrule import engine

    assert chainrule_sphinx.own_docstring(engine, "ACTIVATIONS")
    assert chainrule_sphinx.own_docstring(engine, "GradcheckError")


def test_docstrings_become_rest() -> None:
    to_rest = chainrule_sphinx.docstring_to_rest
    assert to_rest(["Sum |w_i| of `Value`s, a*b:", "", "    x = Value(2.0)", "", "End."]) == [
        r"Sum \|w\_i\| of `Value`\ s, a\*b::",
        "",
        "    x = Value(2.0)",
        "",
        "End.",
    ]
    assert to_rest(["Penalties:", "    L1(w) = Σ|w|", "Add them."]) == [
        "Penalties::",
        "",
        "    L1(w) = Σ|w|",
        "",
        "Add them.",
    ]
    assert to_rest(["- a list item", "  continued"]) == ["- a list item", "  continued"]


# -- the built site ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site() -> Path:
    """The site `make docs` built; fails (never skips) when it is missing or older than a
    source file."""
    index = SITE / "index.html"
    if not index.exists():
        pytest.fail("site/ is not built: run `make docs` (make test does)")
    built = index.stat().st_mtime
    newer = [
        p
        for d in SOURCES
        for p in d.rglob("*")
        if p.is_file()
        and p.suffix in {".py", ".md", ".ipynb", ".css", ".rst"}
        and p.stat().st_mtime > built
    ]
    if newer:
        pytest.fail(f"site/ is older than {newer[0].relative_to(ROOT)}: run `make docs`")
    return SITE


class Page(HTMLParser):
    """The links (`href`, `src`) and element ids of one HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []  # (tag, url)
        self.ids: set[str] = set()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if a.get("id"):
            self.ids.add(str(a["id"]))
        for key in ("href", "src"):
            if a.get(key) and not (tag == "link" and a.get("rel") in ("preconnect",)):
                self.links.append((tag, str(a[key])))


@functools.cache
def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(errors="replace"))
    return page


def _path(url: str) -> str:
    return unquote(urlsplit(url).path)


def broken_links(root: Path) -> list[str]:
    """Every internal link, image, script, stylesheet or frame of the HTML pages under `root`
    whose file (or `#anchor`) does not exist, and every resource a page would load from
    outside (a link *to* another site is fine; loading from one is not)."""
    problems = []
    for page_path in sorted(root.rglob("*.html")):
        for tag, url in parse(page_path).links:
            parts = urlsplit(url)
            where = f"{page_path.relative_to(root)}: {tag} {url}"
            if parts.scheme or url.startswith("//"):
                if tag != "a" and parts.scheme != "data":
                    problems.append(f"{where} (loaded from outside)")
                continue
            target = (page_path.parent / unquote(parts.path)).resolve() if parts.path else page_path
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                problems.append(f"{where} (no such file)")
            elif parts.fragment and unquote(parts.fragment) not in parse(target).ids:
                problems.append(f"{where} (no such anchor)")
    for css in root.rglob("*.css"):
        for url in re.findall(r"url\(\s*['\"]?([^'\")]+)", css.read_text(errors="replace")):
            if re.match(r"^[a-z]+://|^//", url):
                problems.append(f"{css.relative_to(root)}: url({url}) (loaded from outside)")
            elif not url.startswith(("data:", "#")) and not (css.parent / _path(url)).exists():
                problems.append(f"{css.relative_to(root)}: url({url}) (no such file)")
    return problems


def test_the_link_checker_finds_broken_links(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text(
        '<p id="here"><a href="b.html#there">b</a> <a href="a.html#here">a</a>'
        '<img src="missing.png"><script src="https://cdn.example/x.js"></script>'
        '<a href="https://example.org/">out is fine</a> <a href="gone.html">x</a></p>'
    )
    (tmp_path / "b.html").write_text("<p id='elsewhere'></p>")
    (tmp_path / "s.css").write_text("@font-face { src: url(https://fonts.example/f.woff2) }")
    found = broken_links(tmp_path)
    assert len(found) == 5, found
    assert any("b.html#there (no such anchor)" in p for p in found)
    assert any("missing.png (no such file)" in p for p in found)
    assert any("gone.html (no such file)" in p for p in found)
    assert sum("loaded from outside" in p for p in found) == 2


def test_no_broken_internal_link_no_missing_image_nothing_loaded_from_outside(
    site: Path,
) -> None:
    problems = broken_links(site)
    assert not problems, "\n".join(problems[:40])


def _image_outputs(nb: dict) -> int:
    """How many pictures a notebook's outputs hold (a widget's saved ones included)."""
    mimes = ("image/png", "image/svg+xml", "image/jpeg")
    text = json.dumps([c.get("outputs", []) for c in nb["cells"]])
    widgets = json.dumps(nb["metadata"].get("widgets", {}))
    return sum(text.count(f'"{m}"') + widgets.count(f'"{m}"') for m in mimes)


@pytest.mark.parametrize("nb_path", LESSONS, ids=lambda p: p.stem)
def test_every_lesson_has_its_page_with_figures_links_and_collapsed_solutions(
    site: Path, nb_path: Path
) -> None:
    nb = json.loads(nb_path.read_text())
    page_path = site / "course" / f"{nb_path.stem}.html"
    assert page_path.exists(), f"no page for {nb_path.name}"
    html = page_path.read_text()
    title = "".join(nb["cells"][0]["source"]).split("\n")[0].removeprefix("# ")
    assert f"<h1>{title}" in html
    page = parse(page_path)
    images = [a for tag, a in page.tags if tag == "img"]
    assert len(images) >= _image_outputs(nb) > 0 or _image_outputs(nb) == 0
    hrefs = [url for tag, url in page.links if tag == "a"]
    for suffix in (".ipynb", ".py"):
        assert f"../notebooks/{nb_path.stem}{suffix}" in hrefs
        assert (site / "notebooks" / f"{nb_path.stem}{suffix}").read_bytes() == (
            nb_path.with_suffix(suffix).read_bytes()
        )
    colab = f"https://colab.research.google.com/github/.*/notebooks/{nb_path.stem}.ipynb"
    assert any(re.fullmatch(colab, u) for u in hrefs)
    # solutions (if a lesson holds any: the course now gives them only on request, with
    # `show_solution`) and the setup cell are collapsed
    solutions = sum("solution" in c["metadata"].get("tags", []) for c in nb["cells"])
    setup = sum("setup" in c["metadata"].get("tags", []) for c in nb["cells"])
    details = [a for tag, a in page.tags if tag == "details"]
    assert html.count("Show the solution") == solutions
    assert html.count("Show the setup cell") == setup
    assert len(details) == solutions + setup
    assert all("open" not in a for a in details)


def test_the_course_page_lists_every_lesson_in_order(site: Path) -> None:
    page = parse(site / "course.html")
    listed = [u for tag, u in page.links if tag == "a" and u.startswith("course/")]
    expected = [f"course/{p.stem}.html" for p in LESSONS]
    assert [u for u in dict.fromkeys(listed) if u in expected] == expected


def test_every_public_name_has_its_api_page(site: Path) -> None:
    for sub in ("engine", "nn", "viz"):
        module = importlib.import_module(f"chainrule.{sub}")
        for name in module.__all__:
            page = site / "api" / "generated" / f"chainrule.{sub}.{name}.html"
            assert page.exists(), f"no API page for chainrule.{sub}.{name}"
    value = (site / "api" / "generated" / "chainrule.engine.Value.html").read_text()
    assert 'id="chainrule.engine.Value.backward"' in value
    # backticked names in docstrings link to their pages
    assert 'href="chainrule.engine.Function.html#chainrule.engine.Function"' in value
    # across subpackages, classes link (nn's `Value`); other names only within their own
    # (viz's `dot` is graphviz's program, not `engine.dot`)
    parameter = (site / "api" / "generated" / "chainrule.nn.Parameter.html").read_text()
    assert 'href="chainrule.engine.Value.html#chainrule.engine.Value"' in parameter
    has_dot = (site / "api" / "generated" / "chainrule.viz.has_dot.html").read_text()
    assert 'href="chainrule.engine.dot.html#chainrule.engine.dot"' not in has_dot


# -- in Chromium ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[str]:
    """The site served on loopback, as any static host would serve it."""

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=site))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}/"
    httpd.shutdown()
    httpd.server_close()


def test_in_chromium_home_lesson_and_value_page_load_everything_from_the_site(
    server: str,
) -> None:
    from browser import launch
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    outside: list[str] = []
    failed: list[str] = []
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1280, "height": 900})

        def route(r: object) -> None:  # refuse anything not from the site
            request = r.request  # type: ignore[attr-defined]
            if request.url.startswith((server, "data:")):
                r.continue_()  # type: ignore[attr-defined]
            else:
                outside.append(request.url)
                r.abort()  # type: ignore[attr-defined]

        page.route("**/*", route)
        page.on("response", lambda r: r.status >= 400 and failed.append(f"{r.status} {r.url}"))
        page.on("requestfailed", lambda r: r.url.startswith(server) and failed.append(r.url))

        page.goto(server + "index.html", wait_until="networkidle")
        assert page.locator("h1").first.inner_text().startswith("chainrule")
        page.wait_for_selector("mjx-container svg")  # the home page's formula, typeset
        assert page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth)")
        page.screenshot(path=str(SHOTS / "home.png"))

        page.goto(server + "course/02_stepping_through_backprop.html", wait_until="networkidle")
        page.wait_for_selector("mjx-container svg")
        assert page.locator("mjx-container").count() > 3
        assert page.locator("text=merror").count() == 0  # no TeX error
        hidden = page.locator("details:has-text('Show the setup cell')").first
        assert hidden.get_attribute("open") is None
        assert not hidden.locator("pre").first.is_visible()  # collapsed
        hidden.locator("summary").click()
        assert hidden.locator("pre").first.is_visible()
        assert page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth)")
        page.screenshot(path=str(SHOTS / "lesson.png"))

        page.goto(server + "api/generated/chainrule.engine.Value.html", wait_until="networkidle")
        assert page.locator("h1").first.inner_text().startswith("Value")
        assert page.locator("dt#chainrule\\.engine\\.Value\\.backward").count() == 1
        page.screenshot(path=str(SHOTS / "value.png"))

        page.goto(server + "interactive.html", wait_until="networkidle")
        frame = page.frame_locator("iframe.stepper").first
        frame.locator("text=next").first.click()
        assert "step 1/" in frame.locator("body").inner_text()
        page.screenshot(path=str(SHOTS / "interactive.png"))
        browser.close()
    assert not outside, f"requests outside the site: {outside}"
    assert not failed, f"failed requests: {failed}"


def test_the_site_pages_python_examples_run(tmp_path: Path) -> None:
    from test_readme import python_blocks

    blocks = [
        b
        for p in sorted((ROOT / "docs" / "pages").rglob("*.md"))
        for b in python_blocks(p.read_text())
    ]
    assert len(blocks) >= 2
    for block in blocks:
        if "import" not in block.split("\n")[0] or "from chainrule.engine" not in block:
            continue  # an import listing, not an example
        result = subprocess.run(
            [sys.executable, "-c", block],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env=dict(os.environ, MPLBACKEND="Agg"),
            timeout=300,
        )
        assert result.returncode == 0, f"{block}\n{result.stderr[-2000:]}"
    assert (tmp_path / "neuron.svg").exists() and (tmp_path / "stepper.html").exists()
