"""The web page in headless Chromium (Playwright) against a real `kass serve`.

One `kass serve` subprocess per session, on a workspace holding the ingested sample workspace
(ingested once: embedding takes seconds), with Backlog pointed at the Backlog API double; one
browser per session. Each test gets a fresh browser context and leaves a screenshot in
build/test-artifacts/browser/ (CI uploads the folder).

Chromium is Debian's (`make browser` installs it); without it every test here skips, saying so.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from tests.browser.harness import (
    ARTIFACTS,
    CHROMIUM,
    KASS,
    ROOT,
    Served,
    kass_env,
    launch_chromium,
    start_kass_serve,
    stop,
)
from tests.doubles.backlog_api import BacklogDouble

# Waits, not timing assertions: the first answer loads the embedder in the server (seconds).
expect.set_options(timeout=60_000)


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.exists():
        reason = f"no Chromium at {CHROMIUM}: `make browser` installs Debian's chromium"
        if os.environ.get("KASS_REQUIRE_BROWSER"):  # CI: a browser test that skips proves nothing
            pytest.fail(reason)
        pytest.skip(reason)
    return CHROMIUM


@pytest.fixture(scope="session")
def backlog() -> Iterator[BacklogDouble]:
    double = BacklogDouble().start()
    double.add_project("TSB", "Tsubame")
    yield double
    double.stop()


@pytest.fixture(scope="session")
def served(tmp_path_factory, chromium, backlog) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("browser-home")
    env = kass_env(
        home,
        KASS_BACKLOG_SPACE_URL=backlog.url,
        KASS_BACKLOG_API_KEY=backlog.api_key,
        KASS_BACKLOG_PROJECTS='["TSB"]',
    )
    ingest = subprocess.run(
        [str(KASS), "ingest", str(ROOT / "samples" / "workspace")],
        env=env,
        cwd=home,
        capture_output=True,
        text=True,
    )
    assert ingest.returncode == 0, ingest.stdout + ingest.stderr
    server = start_kass_serve(home, env)
    yield server
    stop(server)


@pytest.fixture(scope="session")
def browser(chromium) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = launch_chromium(playwright)
        yield launched
        launched.close()


@pytest.fixture()
def viewport() -> dict[str, int]:
    return {"width": 1280, "height": 800}


@pytest.fixture()
def page(browser, viewport, request) -> Iterator[Page]:
    """A fresh context's page; its screenshot lands in build/test-artifacts/browser/."""
    context = browser.new_context(viewport=viewport)
    context.set_default_timeout(60_000)
    opened = context.new_page()
    yield opened
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    opened.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
