"""Launching the Debian Chromium for the page tests, headless and quiet (no sandbox in
containers, no GPU, no background network traffic of its own)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def launch(playwright: Any) -> Any:
    """A headless Chromium browser; fails (never skips) when it is not installed."""
    if not CHROMIUM.exists():
        pytest.fail("chromium is needed for the page tests: apt-get install chromium")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
