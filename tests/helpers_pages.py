"""Page checks for browser tests: what every page of the product must pass, phone and desktop.

    with checked_page(browser, base_url, "registry", lang="ko") as pc:
        pc.goto("/")                 # a page of the app's own origin
        pc.step("home")              # checks + screenshots at 390x844 and 1280x800
        pc.page.click(...)           # drive it like a user
        pc.step("after-click")
    # leaving the block fails the test on any console error, failed or foreign request seen meanwhile

`step()` fails on: an axe-core violation of serious or critical impact (axe injected from
node_modules/axe-core, never a CDN); at 390x844, a visible link, button or form control smaller than
44x44 px (a link inside a sentence is exempt, as in WCAG 2.5.8) and any sideways scrolling. The
context does not bypass the Content-Security-Policy: axe is evaluated through the DevTools protocol,
so a page that breaks its own CSP shows it as a console error. Screenshots go to
$WORKCRED_SCREENSHOTS (default /tmp/workcred-e2e), named `<name>-<step>-<lang>-<w>x<h>.png`.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
MIN_TAP = 44


def screenshots_dir() -> Path:
    folder = Path(os.environ.get("WORKCRED_SCREENSHOTS", "/tmp/workcred-e2e"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


#: the visible interactive elements smaller than 44x44, except links inside running text
_SMALL_TARGETS = """(min) => {
  const out = [];
  for (const el of document.querySelectorAll('a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button]')) {
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (el.closest('.skip-link')) continue;  // off-screen until focused, then large
    if (el.tagName === 'A' && style.display === 'inline') {
      const parent = el.parentElement;
      const text = parent ? parent.textContent.replace(el.textContent, '').trim() : '';
      if (text.length > 0) continue;  // inline in a sentence (WCAG 2.5.8 exception)
    }
    if (r.height < min - 0.5 || r.width < min - 0.5) {
      out.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''} "${(el.textContent || el.value || el.name || '').trim().slice(0, 40)}" ${Math.round(r.width)}x${Math.round(r.height)}`);
    }
  }
  return out;
}"""


def axe_violations(page: Any, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict[str, Any]]:
    """axe-core's violations of these impacts on the page as it is now.

    axe is evaluated through the DevTools protocol, not added as a <script>, so it runs under the
    page's own Content-Security-Policy (no `bypass_csp` needed).
    """
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;true")
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
        if v["impact"] in impacts
    ]


@dataclass
class CheckedPage:
    """A Playwright page on one app with its findings; `step()` checks and photographs it."""

    page: Any
    base_url: str
    name: str
    lang: str
    allow_origins: tuple[str, ...] = ()
    console_errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    shots: list[Path] = field(default_factory=list)
    expected_errors: set[str] = field(default_factory=set)  # documents that answered 4xx (tests assert the status)

    def __post_init__(self) -> None:
        own = _origin(self.base_url)
        allowed = {own, *self.allow_origins}

        def on_console(msg: Any) -> None:
            if msg.type != "error":
                return
            if msg.text.startswith("Failed to load resource") and (msg.location or {}).get("url") in self.expected_errors:
                return  # Chromium logs the 4xx of the page itself, which goto(status=...) asked for
            self.console_errors.append(msg.text)

        def on_request(req: Any) -> None:
            if req.url.startswith(("data:", "blob:", "about:")):
                return
            if _origin(req.url) not in allowed:
                self.foreign.append(req.url)

        def on_response(resp: Any) -> None:
            # a page may answer 4xx on purpose (an error page, a form sent back with its message);
            # Chromium logs that as a console error, which is not the page's fault; what it loads must not fail
            if resp.status >= 400:
                if resp.request.resource_type == "document":
                    self.expected_errors.add(resp.url)
                else:
                    self.failed.append(f"{resp.status} {resp.url}")

        self.page.on("console", on_console)
        self.page.on("pageerror", lambda e: self.console_errors.append(f"pageerror: {e}"))
        self.page.on("request", on_request)
        # a request the browser dropped because the page moved on (net::ERR_ABORTED: a favicon, a poll) is
        # not a failure of the app
        self.page.on("requestfailed", lambda r: None if "ERR_ABORTED" in str(r.failure) else self.failed.append(f"failed {r.url} ({r.failure})"))
        self.page.on("response", on_response)

    def goto(self, path: str, *, status: int = 200) -> Any:
        """Open a page of this app (in this checker's language) and wait for its fonts."""
        url = self.base_url + path
        if "lang=" not in path:
            url += ("&" if "?" in path else "?") + f"lang={self.lang}"
        resp = self.page.goto(url)
        assert resp is not None and resp.status == status, f"{url}: {resp.status if resp else None}"
        from playwright.sync_api import Error as PlaywrightError

        try:
            self.page.evaluate("document.fonts.ready.then(() => true)")
        except PlaywrightError as e:
            # a page that moves on by itself (the camera page submits the QR it read at once) may
            # navigate before its fonts are waited for: the next page is the one the test looks at
            if "context was destroyed" not in str(e):
                raise
        return resp

    # --- checks -------------------------------------------------------------------------------

    def axe(self) -> list[dict[str, Any]]:
        return axe_violations(self.page)

    def small_targets(self) -> list[str]:
        return list(self.page.evaluate(_SMALL_TARGETS, MIN_TAP))

    def scrolls_sideways(self) -> bool:
        return bool(self.page.evaluate("document.documentElement.scrollWidth > window.innerWidth"))

    def step(self, label: str, *, full_page: bool = True) -> None:
        """Check the page at the phone size, then photograph it at both sizes; fail on any finding."""
        original = self.page.viewport_size
        problems: list[str] = []
        folder = screenshots_dir()
        for size in (PHONE, DESKTOP):
            self.page.set_viewport_size(size)
            self.page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
            if size is PHONE:
                small = self.small_targets()
                if small:
                    problems.append(f"tap targets under {MIN_TAP}px at 390px: {small}")
                if self.scrolls_sideways():
                    width = self.page.evaluate("document.documentElement.scrollWidth")
                    problems.append(f"scrolls sideways at 390px (content {width}px wide)")
            violations = self.axe()
            if violations:
                problems.append(f"axe at {size['width']}px: {violations}")
            path = folder / f"{_slug(self.name)}-{_slug(label)}-{self.lang}-{size['width']}x{size['height']}.png"
            self.page.screenshot(path=str(path), full_page=full_page)
            self.shots.append(path)
        if original:
            self.page.set_viewport_size(original)
        assert not problems, f"{self.name} / {label} ({self.lang}): " + "; ".join(problems)

    def transferred(self) -> int:
        """Bytes this page's load moved over the network (document and every subresource)."""
        return int(
            self.page.evaluate(
                """() => performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))
                       .reduce((n, e) => n + (e.transferSize || 0), 0)"""
            )
        )

    def assert_clean(self) -> None:
        assert self.console_errors == [], f"{self.name}: console errors {self.console_errors}"
        assert self.failed == [], f"{self.name}: failed requests {self.failed}"
        assert self.foreign == [], f"{self.name}: requests to other origins {self.foreign}"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-") or "page"


@contextmanager
def checked_page(
    browser: Any, base_url: str, name: str, *, lang: str = "ko", viewport: dict[str, int] | None = None,
    allow_origins: tuple[str, ...] = (), **context_options: Any,
) -> Iterator[CheckedPage]:  # fmt: skip
    """A fresh browser context (no cache, no cookies) on `base_url`; fails on leftovers when it closes."""
    context = browser.new_context(viewport=viewport or PHONE, locale="ko-KR", **context_options)
    try:
        checked = CheckedPage(context.new_page(), base_url.rstrip("/"), name, lang, allow_origins)
        yield checked
        checked.assert_clean()
    finally:
        context.close()
