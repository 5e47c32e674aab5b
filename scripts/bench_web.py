"""Measure the web page's initial load: bytes transferred and every origin contacted.

`kass serve` runs on an empty temporary home; Debian's Chromium (headless, through Playwright,
tests/browser/harness.py) opens the page in a fresh context, with an empty cache, until the page
is ready (config.json read, conversation list loaded). The bytes are Chromium's own count of
what crossed the network per request (DevTools `Network.loadingFinished` encodedDataLength:
headers and body, compressed as sent). Target (issue 6): <= 100 KB, no third-party origin.

    .venv/bin/python scripts/bench_web.py
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
TARGET_BYTES = 100 * 1024


def load_once(browser: Any, url: str) -> dict[str, tuple[int, int]]:
    """One cold load: {request url: (status, bytes transferred)}."""
    from playwright.sync_api import expect

    context = browser.new_context()
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    urls: dict[str, str] = {}
    statuses: dict[str, int] = {}
    sizes: dict[str, int] = {}
    cdp.on(
        "Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"])
    )
    cdp.on(
        "Network.responseReceived",
        lambda e: statuses.__setitem__(e["requestId"], e["response"]["status"]),
    )
    cdp.on(
        "Network.loadingFinished",
        lambda e: sizes.__setitem__(e["requestId"], int(e["encodedDataLength"])),
    )
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    page.goto(url, wait_until="networkidle")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    context.close()
    return {urls[rid]: (statuses.get(rid, 0), sizes.get(rid, 0)) for rid in urls}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="cold loads, each in a new context")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    from playwright.sync_api import sync_playwright
    from tests.browser.harness import CHROMIUM, kass_env, launch_chromium, start_kass_serve, stop

    if not CHROMIUM.exists():
        sys.exit(f"bench_web: no Chromium at {CHROMIUM}: run `make browser`")
    home = Path(tempfile.mkdtemp(prefix="kass-bench-web-"))
    served = start_kass_serve(home, kass_env(home))
    try:
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            loads = [load_once(browser, served.url + "/") for _ in range(args.runs)]
            browser.close()
    finally:
        stop(served)

    own = urlsplit(served.url).netloc
    print(f"Web page initial load, {args.runs} cold loads (Chromium {CHROMIUM}), bytes transferred")
    print(f"{'request':40} {'status':>6} {'bytes':>8}")
    for request, (status, size) in loads[0].items():
        print(f"{urlsplit(request).path or '/':40} {status:>6} {size:>8}")
    totals = [sum(size for _, size in load.values()) for load in loads]
    origins = sorted(
        {urlsplit(r).scheme + "://" + urlsplit(r).netloc for load in loads for r in load}
    )
    third_party = [o for o in origins if urlsplit(o).netloc != own]
    print(f"requests per load: {len(loads[0])}")
    print(f"total per load: {', '.join(f'{t / 1024:.1f} KB' for t in totals)} (target <= 100 KB)")
    print(f"origins contacted: {', '.join(origins)}; third-party: {len(third_party)}")
    verdict = max(totals) <= TARGET_BYTES and not third_party
    print(f"target met: {'yes' if verdict else 'NO'}")
    print(f"command: .venv/bin/python scripts/bench_web.py --runs {args.runs}")
    if not verdict:
        sys.exit(1)


if __name__ == "__main__":
    main()
