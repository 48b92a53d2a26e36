"""Copy the JSON-LD contexts workcred needs from node_modules into agents/contexts/.

The document loader in agents/ never fetches a context: it reads these files through
agents/contexts/index.json, which maps every context URL (and its known aliases) to a file and
the file's SHA-256. The copies are committed so an installed package works without npm.

    python scripts/vendor_contexts.py          # (re)write agents/contexts/
    python scripts/vendor_contexts.py --check  # fail if the committed copies differ from node_modules
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
TARGET = ROOT / "agents" / "contexts"


@dataclass(frozen=True)
class Context:
    """One vendored context: where it comes from, the file it becomes, the URLs it answers."""

    file: str
    source: str | None  # path under node_modules; None when the script writes the content itself
    urls: tuple[str, ...]


# The examples context is tiny and published by the W3C only as a web page; VCDM 2.0 §C.3 gives its content.
EXAMPLES_V2 = {"@context": {"@vocab": "https://www.w3.org/ns/credentials/examples#"}}

CONTEXTS: tuple[Context, ...] = (
    Context(
        "credentials-v1.jsonld",
        "@digitalbazaar/credentials-context/contexts/v1.jsonld",
        ("https://www.w3.org/2018/credentials/v1",),
    ),
    Context(
        "credentials-v2.jsonld",
        "@digitalbazaar/credentials-context/contexts/v2.jsonld",
        ("https://www.w3.org/ns/credentials/v2",),
    ),
    Context(
        "credentials-undefined-terms-v2.jsonld",
        "@digitalbazaar/credentials-context/contexts/undefined-terms-v2.jsonld",
        ("https://www.w3.org/ns/credentials/undefined-terms/v2",),
    ),
    Context(
        "credentials-examples-v2.jsonld",
        None,
        ("https://www.w3.org/ns/credentials/examples/v2",),
    ),
    Context(
        "data-integrity-v1.jsonld",
        "@digitalbazaar/data-integrity-context/contexts/data-integrity-v1.jsonld",
        ("https://w3id.org/security/data-integrity/v1",),
    ),
    Context(
        "data-integrity-v2.jsonld",
        "@digitalbazaar/data-integrity-context/contexts/data-integrity-v2.jsonld",
        ("https://w3id.org/security/data-integrity/v2",),
    ),
    Context(
        "multikey-v1.jsonld",
        "@digitalbazaar/multikey-context/contexts/multikey-v1.jsonld",
        ("https://w3id.org/security/multikey/v1",),
    ),
    Context(
        "did-v1.jsonld",
        "did-context/contexts/did-v1.jsonld",
        ("https://www.w3.org/ns/did/v1",),
    ),
    Context(
        "ed25519-signature-2020-v1.jsonld",
        "ed25519-signature-2020-context/contexts/ed25519-signature-2020-v1.jsonld",
        ("https://w3id.org/security/suites/ed25519-2020/v1",),
    ),
    Context(
        "bitstring-status-list-v1.jsonld",
        "@digitalbazaar/vc-bitstring-status-list-context/contexts/vc-bitstring-status-list-v1.jsonld",
        ("https://www.w3.org/ns/credentials/status/v1",),
    ),
)


def content_of(ctx: Context, node_modules: Path) -> bytes:
    """The bytes the vendored file must hold: the package file verbatim, or the written examples context."""
    if ctx.source is None:
        return (json.dumps(EXAMPLES_V2, indent=2) + "\n").encode()
    path = node_modules / ctx.source
    if not path.is_file():
        raise SystemExit(f"vendor_contexts: {path} is missing; run `npm ci` first")
    data = path.read_bytes()
    json.loads(data)  # a corrupt package must not be vendored silently
    return data


def build_index(files: dict[str, bytes]) -> bytes:
    """index.json: {url: {"file": name, "sha256": hex}}, sorted so the file is stable."""
    index: dict[str, dict[str, str]] = {}
    for ctx in CONTEXTS:
        digest = hashlib.sha256(files[ctx.file]).hexdigest()
        for url in ctx.urls:
            index[url] = {"file": ctx.file, "sha256": digest}
    return (json.dumps(dict(sorted(index.items())), indent=2) + "\n").encode()


def expected(node_modules: Path) -> dict[str, bytes]:
    files = {ctx.file: content_of(ctx, node_modules) for ctx in CONTEXTS}
    files["index.json"] = build_index(files)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="verify agents/contexts/ instead of writing it")
    parser.add_argument("--node-modules", type=Path, default=NODE_MODULES)
    parser.add_argument("--target", type=Path, default=TARGET)
    args = parser.parse_args(argv)
    files = expected(args.node_modules)
    if args.check:
        stale = [
            name for name, data in files.items()
            if not (args.target / name).is_file() or (args.target / name).read_bytes() != data
        ]
        if stale:
            print("vendor_contexts: out of date: " + ", ".join(stale), file=sys.stderr)
            return 1
        print(f"vendor_contexts: {len(files)} files in {args.target} match node_modules")
        return 0
    args.target.mkdir(parents=True, exist_ok=True)
    changed = 0
    for name, data in files.items():
        path = args.target / name
        if not path.is_file() or path.read_bytes() != data:
            path.write_bytes(data)
            changed += 1
    print(f"vendor_contexts: {len(files)} files in {args.target} ({changed} written)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
