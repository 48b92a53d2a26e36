"""Run one openedx-didkit call in a child process and print its answer as JSON.

didkit's Rust runtime can crash while the interpreter exits, so tests never import it: they run
`python -m tests.didkit_runner` with a JSON request on stdin and read one JSON object from stdout.
The child leaves with `os._exit` right after printing, before any interpreter teardown.

Requests: {"op": "key"} -> {"jwk", "did", "verificationMethod"};
{"op": "issue", "credential", "options", "jwk"} -> {"credential"};
{"op": "verify", "credential", "options"} -> {"result": {"checks", "warnings", "errors"}};
{"op": "version"} -> {"version"}. A didkit exception gives {"exception": "..."}.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from typing import Any


def _serve(request: dict[str, Any]) -> dict[str, Any]:
    return asyncio.run(_serve_async(request))


async def _serve_async(request: dict[str, Any]) -> dict[str, Any]:
    import didkit  # type: ignore[import-untyped]  # its coroutines need a running loop

    op = request["op"]
    try:
        if op == "version":
            return {"version": didkit.get_version()}
        if op == "key":
            jwk = didkit.generate_ed25519_key()
            vm = await didkit.key_to_verification_method("key", jwk)
            return {"jwk": json.loads(jwk), "did": didkit.key_to_did("key", jwk), "verificationMethod": vm}
        if op == "issue":
            out = await didkit.issue_credential(
                json.dumps(request["credential"]), json.dumps(request.get("options", {})), json.dumps(request["jwk"])
            )
            return {"credential": json.loads(out)}
        if op == "verify":
            out = await didkit.verify_credential(json.dumps(request["credential"]), json.dumps(request.get("options", {})))
            return {"result": json.loads(out)}
    except Exception as e:  # didkit raises DIDKitException and ValueError alike: report, do not crash
        return {"exception": f"{type(e).__name__}: {e}"}
    raise SystemExit(f"unknown op {op!r}")


def call(request: dict[str, Any], timeout: float = 60.0) -> dict[str, Any]:
    """Run one request in a fresh child process (the caller's interpreter never loads didkit)."""
    proc = subprocess.run(
        [sys.executable, "-m", "tests.didkit_runner"],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    line = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
    if not line:
        raise RuntimeError(f"didkit runner gave no answer (exit {proc.returncode}): {proc.stderr[-2000:]}")
    answer: dict[str, Any] = json.loads(line)
    return answer


def available() -> str | None:
    """None when didkit runs here, else why not."""
    try:
        call({"op": "version"})
    except Exception as e:  # any failure means "skip, and say why"
        return f"openedx-didkit is not usable: {type(e).__name__}: {e}"
    return None


if __name__ == "__main__":
    answer = _serve(json.loads(sys.stdin.read()))
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown, where didkit may crash
