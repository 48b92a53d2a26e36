"""The WORKCRED_REQUIRE_<TOOL> flags CI sets: a missing didkit or Chromium fails its tests instead of
skipping them. Each case runs pytest in a child process with the tool made missing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _pytest(target: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("WORKCRED_REQUIRE_") and k not in ("CI", "PYTEST_XDIST_WORKER")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", "-rs", target],
        cwd=ROOT, env={**base, **env}, capture_output=True, text=True, timeout=240,
    )  # fmt: skip


@pytest.fixture
def no_didkit(tmp_path: Path) -> dict[str, str]:
    """A PYTHONPATH whose `didkit` cannot be imported (as where the wheel is not installed)."""
    (tmp_path / "didkit.py").write_text("raise ImportError('no didkit here')\n")
    return {"PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"}


def test_missing_didkit_skips_or_fails_when_required(no_didkit: dict[str, str]) -> None:
    target = "tests/integration/test_didkit_interop.py"
    skipped = _pytest(target, no_didkit)
    assert skipped.returncode == 0 and " skipped" in skipped.stdout and "openedx-didkit is not usable" in skipped.stdout, skipped.stdout[-1500:]
    failed = _pytest(target, {**no_didkit, "WORKCRED_REQUIRE_DIDKIT": "1"})
    assert failed.returncode == 1 and "WORKCRED_REQUIRE_DIDKIT=1 but openedx-didkit is not usable" in failed.stdout, failed.stdout[-1500:]
    assert " passed" not in failed.stdout and " skipped" not in failed.stdout


def test_missing_chromium_skips_or_fails_when_required(tmp_path: Path) -> None:
    target = "tests/e2e/test_pages.py"
    missing = {"WORKCRED_CHROMIUM": str(tmp_path / "no-chromium")}
    skipped = _pytest(target, missing)
    assert skipped.returncode == 0 and " skipped" in skipped.stdout and "no-chromium is missing" in skipped.stdout, skipped.stdout[-1500:]
    failed = _pytest(target, {**missing, "WORKCRED_REQUIRE_BROWSER": "1"})
    assert failed.returncode == 1 and "WORKCRED_REQUIRE_BROWSER=1 but" in failed.stdout, failed.stdout[-1500:]
    ci = _pytest(target, {**missing, "CI": "true"})  # CI=true still implies it
    assert ci.returncode == 1 and "CI=true but" in ci.stdout, ci.stdout[-1500:]
