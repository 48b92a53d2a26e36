"""Landing pages on a phone: what a first visit transfers, and how long it takes on a slow mobile network.

Each role app (registry with a published trust list, issuer, wallet, verifier) is served on loopback by
werkzeug, as in the browser tests; Debian's Chromium (Playwright, never a downloaded browser) opens its
landing page at 390x844 in a fresh context (nothing cached), in Korean and in English. Bytes are the
Resource Timing transfer sizes (document, styles, images, fonts, scripts; the dev server does not
compress); "next visit" is the same page opened again in the same browser (shared assets carry their
digest in the URL and are cached for a year, so only the page itself and role assets move). Times are the median of 5 fresh visits, on loopback and under Chromium's network emulation
of a slow phone connection (1.6 Mbit/s down, 750 kbit/s up, 150 ms round trip, DevTools' "Slow 4G").

    .venv/bin/python bench/bench_pages.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from holder_wallet.app import create_app as create_wallet  # noqa: E402
from issuer.app import create_app as create_issuer  # noqa: E402
from tests.helpers_city import serve, start_city  # noqa: E402
from web.config import RoleConfig  # noqa: E402
from web.envelope import MasterKey  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ROUNDS = 5
SLOW = {"offline": False, "latency": 150, "downloadThroughput": 1_600_000 / 8, "uploadThroughput": 750_000 / 8}

_TIMING = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const out = {html: nav.transferSize, css: 0, images: 0, fonts: 0, js: 0, other: 0};
  for (const e of performance.getEntriesByType('resource')) {
    const kind = e.initiatorType === 'css' && /\\.woff2(\\?|$)/.test(e.name) ? 'fonts'
      : e.initiatorType === 'link' || /\\.css(\\?|$)/.test(e.name) ? 'css'
      : e.initiatorType === 'img' || /\\.svg(\\?|$)/.test(e.name) ? 'images'
      : e.initiatorType === 'script' ? 'js' : 'other';
    out[kind] += e.transferSize;
  }
  const paint = performance.getEntriesByName('first-contentful-paint')[0];
  out.fcp = paint ? paint.startTime : null;
  out.load = nav.loadEventEnd;
  return out;
}"""


@contextmanager
def served(app: Any) -> Iterator[str]:
    server, _ = serve(app)
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def visit(browser: Any, url: str, slow: bool) -> dict[str, Any]:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        if slow:
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.emulateNetworkConditions", SLOW)
        page.goto(url, wait_until="load", timeout=120_000)
        page.evaluate("document.fonts.ready.then(() => true)")
        page.wait_for_timeout(50)  # let loadEventEnd settle
        first = dict(page.evaluate(_TIMING))
        # the next visit: versioned shared assets come from the browser's cache without asking
        page.goto(url, wait_until="load", timeout=120_000)
        page.evaluate("document.fonts.ready.then(() => true)")
        again = dict(page.evaluate(_TIMING))
        first["again"] = sum(again[k] for k in ("html", "css", "images", "fonts", "js", "other"))
        return first
    finally:
        context.close()


def main() -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, start_city(Path(tmp)) as city:
        city.department("seoul-jobs", "서울특별시 일자리정책과", "Job Policy Division, Seoul")

        def role(name: str) -> RoleConfig:
            return RoleConfig(name, database_url=f"sqlite:///{tmp}/{name}.sqlite3", secret_key="bench", dev=True,
                              extra={"departments": "seoul-jobs:서울특별시 일자리정책과|Job Policy Division, Seoul"})  # fmt: skip

        from verifier.app import create_app as create_verifier

        verifier = create_verifier(city.verifier_config(f"sqlite:///{tmp}/verifier.sqlite3"))
        apps = {
            "registry": None,
            "issuer": create_issuer(role("issuer")),
            "wallet": create_wallet(role("wallet"), master=MasterKey(b"\x22" * 32, "wallet")),
            "verifier": verifier,
        }
        rows = []
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"], headless=True)
            try:
                for name, app in apps.items():
                    with served(app) if app is not None else _existing(city.base_url) as base:
                        for lang in ("ko", "en"):
                            url = f"{base}/?lang={lang}"
                            first = visit(browser, url, slow=False)
                            fast = [visit(browser, url, slow=False)["load"] for _ in range(ROUNDS)]
                            slow = [visit(browser, url, slow=True) for _ in range(ROUNDS)]
                            total = sum(first[k] for k in ("html", "css", "images", "fonts", "js", "other"))
                            rows.append((name, lang, total, first, statistics.median(fast),
                                         statistics.median(s["fcp"] for s in slow), statistics.median(s["load"] for s in slow)))  # fmt: skip
            finally:
                browser.close()
        verifier.extensions["verifier.follower"].close()
        verifier.extensions["verifier"].close()

    print("## Landing pages on a phone (first visit, 390x844)\n")
    print(f"Chromium at 390x844, a fresh context per visit (nothing cached); median of {ROUNDS} visits. "
          "\"Slow 4G\": 1.6 Mbit/s down, 150 ms round trip (Chromium network emulation). "
          "Bytes as transferred (the development server does not compress; a reverse proxy with gzip "
          "shrinks the HTML and CSS, not the woff2 fonts).\n")  # fmt: skip
    print("| page | lang | total KB | html | css | images | fonts | js | next visit KB | load, loopback ms | first paint, slow 4G ms | load, slow 4G ms |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, lang, total, f, fast, fcp, load in rows:
        kb = lambda n: f"{n / 1024:.1f}"  # noqa: E731
        print(f"| {name} / | {lang} | {kb(total)} | {kb(f['html'])} | {kb(f['css'])} | {kb(f['images'])} | {kb(f['fonts'])} | "
              f"{kb(f['js'])} | {kb(f['again'])} | {fast:.0f} | {fcp:.0f} | {load:.0f} |")  # fmt: skip
    print()


@contextmanager
def _existing(url: str) -> Iterator[str]:
    yield url


if __name__ == "__main__":
    main()
