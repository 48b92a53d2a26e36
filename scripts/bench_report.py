"""`make bench`: run every bench/bench_*.py and write BENCHMARKS.md (machine first, then each section).

Each benchmark is a plain script that prints its own Markdown section on stdout.
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
LIBRARIES = ("cryptography", "pyld", "rfc8785", "sqlalchemy", "psycopg", "flask", "web3", "fpdf2", "segno")


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
            f"- Libraries: {', '.join(versions)}",
            f"- Run: {time.strftime('%Y-%m-%d %H:%M %Z')}",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args(argv)
    parts = ["# Benchmarks", "", "Written by `make bench`; each section comes from its `bench/bench_*.py`.", ""]
    parts.append(machine_section())
    failed = []
    for script in sorted((ROOT / "bench").glob("bench_*.py")):
        print(f"bench: {script.name} ...", file=sys.stderr, flush=True)
        started = time.monotonic()
        proc = subprocess.run([sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True)
        elapsed = time.monotonic() - started
        if proc.returncode != 0:
            failed.append(script.name)
            parts += [f"## {script.name}", "", f"Failed (exit {proc.returncode}):", "", "```", proc.stderr[-3000:], "```", ""]
            continue
        parts += [proc.stdout.strip(), "", f"<sub>{script.name}: {elapsed:.1f} s wall time</sub>", ""]
    args.output.write_text("\n".join(parts), encoding="utf-8")
    print(f"bench: wrote {args.output}" + (f"; failed: {', '.join(failed)}" if failed else ""), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
