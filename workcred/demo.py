"""Demo data for `make run`: the hook each role uses to seed its database once.

A role that wants demo data defines, in `<package>/demo.py` (or in `<package>/app.py`),

    def seed_demo(app: flask.Flask) -> None: ...

It is called once per data directory, after every role is serving (so a role may call another over
HTTP, e.g. the issuer registering its departments with the registry), in the order registry,
issuer, wallet, verifier. It must be idempotent (safe to call again on a seeded database): the
stamp file `<data dir>/demo-<role>.done` only saves the work. A seed that raises is reported and
retried on the next start. Set WORKCRED_DEMO=0 to skip seeding.
"""

from __future__ import annotations

import importlib
import os
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from flask import Flask

SeedFn = Callable[[Flask], Any]


def find_seed(package: str) -> SeedFn | None:
    """The role's `seed_demo`, from `<package>.demo` first, then `<package>.app`; None if it has none."""
    for module_name in (f"{package}.demo", f"{package}.app"):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as e:
            if e.name == module_name:
                continue
            raise
        seed = getattr(module, "seed_demo", None)
        if callable(seed):
            return seed  # type: ignore[no-any-return]
    return None


def seed_all(apps: Iterable[tuple[str, str, Flask]], data_dir: Path, log: Callable[[str], None]) -> None:
    """Seed each `(role, package, app)` once; report failures through `log` and go on with the rest."""
    if os.environ.get("WORKCRED_DEMO", "1") in ("0", "false", "no"):
        return
    data_dir.mkdir(parents=True, exist_ok=True)
    for role, package, app in apps:
        stamp = data_dir / f"demo-{role}.done"
        if stamp.exists():
            continue
        try:
            seed = find_seed(package)
            if seed is None:
                continue
            with app.app_context():
                seed(app)
        except Exception as e:  # a broken seed must not stop the other roles from running
            log(f"{role}: demo data not seeded ({type(e).__name__}: {e})")
            if os.environ.get("WORKCRED_DEBUG"):
                traceback.print_exc()
            continue
        stamp.write_text("seeded\n", encoding="utf-8")
