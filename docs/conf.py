"""Sphinx configuration of chainrule's documentation site (built by `make docs`).

`docs/build.py` gathers the sources into `build/docs-src/` (the pages in `docs/pages/`, the
committed lesson notebooks, the stepper pages, MathJax) and runs Sphinx on them with this
file, warnings as errors. The lessons are rendered from their committed outputs: nothing is
executed (`nb_execution_mode = "off"`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the site's own extension, docs/chainrule_sphinx.py

from chainrule import __version__  # noqa: E402

project = "chainrule"
author = "The chainrule developers"
copyright = "the chainrule developers, MIT licence"
release = version = __version__

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "chainrule_sphinx",
]

# Where the lessons' "Open in Colab" links point (a GitHub repository and branch); set
# CHAINRULE_REPO=owner/name and CHAINRULE_BRANCH=... when publishing from a fork.
chainrule_repo = os.environ.get("CHAINRULE_REPO", "chainrule/chainrule")
chainrule_branch = os.environ.get("CHAINRULE_BRANCH", "main")

root_doc = "index"
exclude_patterns: list[str] = []
templates_path = ["_templates"]
html_static_path = ["_static"]
html_extra_path = ["_extra"]  # notebooks to download, stepper pages: copied as they are
html_theme = "furo"
html_title = f"chainrule {release}"
html_css_files = ["chainrule.css"]
html_favicon = "_static/favicon.svg"
html_copy_source = False
html_show_sourcelink = False
html_permalinks_icon = "#"
pygments_style = "sphinx"
pygments_dark_style = "monokai"

# Math: MathJax 3's SVG renderer, copied into _static by docs/build.py (from the
# django-static-mathjax package, which ships MathJax as files): no CDN and no web fonts.
mathjax_path = "mathjax/tex-svg.js"
mathjax3_config = {"svg": {"fontCache": "global"}}

# The notebooks are rendered as committed (outputs included), never run.
nb_execution_mode = "off"
nb_merge_streams = True
nb_ipywidgets_js: dict[str, dict[str, str]] = {}  # widget outputs become a note (see ext)
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
# A lesson may go from its title straight to "### Exercise": its author's choice, and the page
# renders the same, so heading levels that skip one are not an error.
suppress_warnings = ["mystnb.unknown_mime_type", "myst.header"]

# The API reference: autodoc reads the docstrings (written in the library's own plain style;
# chainrule_sphinx turns its indented examples into code blocks), autosummary makes one page
# per public name.
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True
python_use_unqualified_type_names = True
add_module_names = False
default_role = "chainrule-ref"  # `name` in a docstring links to it when it is a public name
