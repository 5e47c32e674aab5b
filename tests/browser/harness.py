"""What the browser tests and scripts/bench_web.py share: Debian's Chromium launched headless
through Playwright, and a `kass serve` subprocess on a workspace of its own.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, Playwright

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "build" / "test-artifacts" / "browser"
CHROMIUM = Path(os.environ.get("KASS_TEST_CHROMIUM", "/usr/bin/chromium"))
# Without the background-networking flags Chromium keeps calling Google's services, which on a
# machine with no network only floods it with failing requests.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
KASS = Path(sys.executable).parent / "kass"  # the installed console script
START_TIMEOUT = 120.0


@dataclass
class Served:
    url: str
    home: Path
    process: subprocess.Popen[bytes]


def launch_chromium(playwright: Playwright) -> Browser:
    """Debian's Chromium, headless (Playwright's own browsers are never downloaded here). Each
    launch runs on a fresh temporary profile that Playwright creates and deletes."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def kass_env(home: Path, **extra: str) -> dict[str, str]:
    """The offline local profile on `home`: none of the developer's KASS_* settings leak in."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("KASS_")}
    return {**env, "KASS_HOME": str(home), "POWERTOOLS_METRICS_NAMESPACE": "kass-test", **extra}


def start_kass_serve(home: Path, env: dict[str, str]) -> Served:
    """`kass serve` on a free port; its output goes to home/serve.log (a pipe could fill up)."""
    log = home / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(KASS), "serve", "--no-watch", "--port", "0"],
            env=env,
            cwd=home,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        text = log.read_text("utf-8", errors="replace")
        if "Web page: " in text:  # printed after the URL and the routes
            url = text.split("listening on ", 1)[1].split()[0]
            return Served(url, home, process)
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"kass serve did not start:\n{log.read_text('utf-8', errors='replace')}")


def stop(served: Served) -> None:
    served.process.send_signal(signal.SIGINT)
    try:
        served.process.wait(30)
    except subprocess.TimeoutExpired:
        served.process.kill()


def record_frames(page: Page) -> list[dict[str, Any]]:
    """Every WebSocket frame the page receives, parsed, in arrival order."""
    frames: list[dict[str, Any]] = []

    def on_socket(socket: Any) -> None:
        socket.on("framereceived", lambda payload: frames.append(json.loads(payload)))

    page.on("websocket", on_socket)
    return frames
