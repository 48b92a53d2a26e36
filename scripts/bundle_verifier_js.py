"""Copy the QR decoder (jsQR, from npm) into verifier/static/ for the camera page; never a CDN.

    .venv/bin/python scripts/bundle_verifier_js.py          # write verifier/static/jsQR.js
    .venv/bin/python scripts/bundle_verifier_js.py --check  # exit 1 if the committed copy is stale

The copy is committed so the verifier runs without node_modules; its header names the package,
version, licence and the SHA-256 of the original, which `--check` compares with node_modules.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "node_modules" / "jsqr"
SOURCE = PACKAGE / "dist" / "jsQR.js"
TARGET = ROOT / "verifier" / "static" / "jsQR.js"


def bundle() -> bytes:
    """The file to ship: a provenance header, then jsQR's UMD build unchanged (it defines window.jsQR)."""
    meta = json.loads((PACKAGE / "package.json").read_text(encoding="utf-8"))
    body = SOURCE.read_bytes()
    header = (
        f"/*! jsQR {meta['version']} (npm: jsqr) | {meta['license']} licence | https://github.com/cozmo/jsQR\n"
        f" * copied by scripts/bundle_verifier_js.py from node_modules/jsqr/dist/jsQR.js\n"
        f" * sha256 of the original: {hashlib.sha256(body).hexdigest()} */\n"
    )
    return header.encode("utf-8") + body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare the committed copy with node_modules")
    args = parser.parse_args(argv)
    if not SOURCE.is_file():
        print(f"{SOURCE} is missing: run `npm ci` first", file=sys.stderr)
        return 2
    wanted = bundle()
    if args.check:
        if not TARGET.is_file() or TARGET.read_bytes() != wanted:
            print(f"{TARGET.relative_to(ROOT)} is stale: run scripts/bundle_verifier_js.py", file=sys.stderr)
            return 1
        return 0
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_bytes(wanted)
    print(f"wrote {TARGET.relative_to(ROOT)} ({len(wanted)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
