"""`make bench`: run every bench/bench_*.py and write BENCHMARKS.md (machine first, then each section).

Each benchmark is a plain script that prints its own Markdown section on stdout. bench_verifier.py runs
with --acapy, so ACA-Py 1.7 is measured in the same run (bench_acapy_baseline.py is its helper module and is
not run on its own). The machine is usually shared: the load average before and after each script is
written next to its figures.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIBRARIES = (
    "cryptography", "pynacl", "orjson", "pyld", "pyoxigraph", "rfc8785", "jsonschema", "jsonschema-rs", "sqlalchemy",
    "flask", "werkzeug", "gunicorn", "uvicorn", "uvicorn-worker", "httptools", "uvloop", "a2wsgi", "httpx", "web3",
)  # fmt: skip
# extra arguments per script; None: not run on its own
SCRIPT_ARGS: dict[str, list[str] | None] = {"bench_verifier.py": ["--acapy"], "bench_acapy_baseline.py": None}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def os_name() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"') + f" (kernel {platform.release()})"
    except OSError:
        pass
    return platform.platform()


def load_average() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f} (1 / 5 / 15 min)"


def acapy_version() -> str:
    exe = ROOT / ".venv-acapy" / "bin" / "python"
    try:
        out = subprocess.run(
            [str(exe), "-c", "import importlib.metadata as m; print(m.version('acapy-agent'))"],
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "not installed"
    return out.stdout.strip()


def machine_section() -> str:
    versions = []
    for lib in LIBRARIES:
        try:
            versions.append(f"{lib} {metadata.version(lib)}")
        except metadata.PackageNotFoundError:
            continue
    sqlite = __import__("sqlite3").sqlite_version
    return "\n".join(
        [
            "## Machine",
            "",
            f"- CPU: {cpu_model()}, {os.cpu_count()} logical cores",
            f"- Memory: {memory()}",
            f"- OS: {os_name()}",
            f"- Python: {platform.python_version()} ({platform.python_implementation()}), SQLite {sqlite}",
            f"- Libraries: {', '.join(versions)}; ACA-Py (`.venv-acapy`): {acapy_version()}",
            f"- Run: {time.strftime('%Y-%m-%d %H:%M %Z')}; load average at the start: {load_average()} "
            "(the machine is shared with other work, so absolute figures move with its load; "
            "ratios are measured within one run)",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    parser.add_argument("--only", metavar="SCRIPT", help="run this one bench/bench_*.py and replace its section (and the machine's) in --output")
    args = parser.parse_args(argv)
    parts = ["# Benchmarks", "", "Written by `make bench`; each section comes from its `bench/bench_*.py`.", ""]
    parts.append(machine_section())
    failed = []
    kept = _sections(args.output) if args.only else {}
    for script in sorted((ROOT / "bench").glob("bench_*.py")):
        extra = SCRIPT_ARGS.get(script.name, [])
        if extra is None:
            continue
        if args.only and script.name != args.only:
            if script.name in kept:
                parts += [kept[script.name], ""]  # another script's figures, as they were
            continue
        print(f"bench: {script.name} {' '.join(extra)}...", file=sys.stderr, flush=True)
        load_before = load_average()
        started = time.monotonic()
        proc = subprocess.run([sys.executable, str(script), *extra], cwd=ROOT, capture_output=True, text=True)
        elapsed = time.monotonic() - started
        if proc.returncode != 0:
            failed.append(script.name)
            parts += [f"## {script.name}", "", f"Failed (exit {proc.returncode}):", "", "```", proc.stderr[-3000:], "```", ""]
            continue
        parts += [
            proc.stdout.strip(),
            "",
            f"<sub>{script.name} {' '.join(extra)}: {elapsed:.1f} s wall time; load average before {load_before}, "
            f"after {load_average()}</sub>",
            "",
        ]
    args.output.write_text("\n".join(parts), encoding="utf-8")
    print(f"bench: wrote {args.output}" + (f"; failed: {', '.join(failed)}" if failed else ""), file=sys.stderr)
    return 1 if failed else 0


def _sections(path: Path) -> dict[str, str]:
    """Each script's section of an existing report: from its `## ` heading to its `<sub>` footer."""
    if not path.exists():
        return {}
    out: dict[str, str] = {}
    chunk: list[str] | None = None
    for line in path.read_text(encoding="utf-8").split("\n"):
        if line.startswith("## ") and line != "## Machine":
            chunk = [line]
        elif chunk is not None:
            chunk.append(line)
            if line.startswith("<sub>bench_"):
                name = line[len("<sub>") :].split(" ", 1)[0].rstrip(":,")
                out[name] = "\n".join(chunk)
                chunk = None
    return out


if __name__ == "__main__":
    sys.exit(main())
