"""Copy browser libraries from npm (node_modules) into the apps' static folders; never a CDN.

    .venv/bin/python scripts/bundle_js.py          # write every copy below
    .venv/bin/python scripts/bundle_js.py --check  # exit 1 if a committed copy is stale

- jsQR (the camera pages of the verifier and the wallet) -> web/static/jsQR.js
- @simplewebauthn/browser (passkeys for every role, used by web/static/passkeys.js)
  -> web/static/simplewebauthn-browser.js

The copies are committed so the apps run without node_modules; each header names the package,
version, licence and the SHA-256 of the original, which `--check` compares with node_modules.
Each is the package's UMD build unchanged (it defines a global: window.jsQR, window.SimpleWebAuthnBrowser).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Bundle:
    package: str  # npm name
    source: str  # path inside the package
    target: str  # path inside the repository
    home: str
    title: str = ""  # the name in the header, when it differs from the npm name

    def build(self) -> bytes:
        """The file to ship: a provenance header, then the original unchanged."""
        folder = ROOT / "node_modules" / self.package
        meta = json.loads((folder / "package.json").read_text(encoding="utf-8"))
        body = (folder / self.source).read_bytes()
        name = self.title or self.package
        header = (
            f"/*! {name} {meta['version']} (npm: {self.package}) | {meta['license']} licence | {self.home}\n"
            f" * copied by scripts/bundle_js.py from node_modules/{self.package}/{self.source}\n"
            f" * sha256 of the original: {hashlib.sha256(body).hexdigest()} */\n"
        )
        return header.encode("utf-8") + body


BUNDLES = (
    Bundle("jsqr", "dist/jsQR.js", "web/static/jsQR.js", "https://github.com/cozmo/jsQR", "jsQR"),
    Bundle(
        "@simplewebauthn/browser",
        "dist/bundle/index.umd.min.js",
        "web/static/simplewebauthn-browser.js",
        "https://github.com/MasterKale/SimpleWebAuthn",
    ),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="only compare the committed copies with node_modules"
    )
    args = parser.parse_args(argv)
    stale = 0
    for bundle in BUNDLES:
        source = ROOT / "node_modules" / bundle.package / bundle.source
        if not source.is_file():
            print(f"{source} is missing: run `npm ci` first", file=sys.stderr)
            return 2
        target = ROOT / bundle.target
        wanted = bundle.build()
        if args.check:
            if not target.is_file() or target.read_bytes() != wanted:
                print(f"{bundle.target} is stale: run scripts/bundle_js.py", file=sys.stderr)
                stale = 1
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(wanted)
        print(f"wrote {bundle.target} ({len(wanted)} bytes)")
    return stale


if __name__ == "__main__":
    sys.exit(main())
