"""pytest plugin: no personal data in any log of the test run.

Every log record of the run (all loggers, INFO and up, in this process) is kept, and so are the log
files of the servers tests start in subprocesses (`watch(path)`). When the session ends, they are
searched for the personal values of the test rosters (every roster file under tests/data/: names,
phone numbers and e-mail addresses, in the forms a roster writes them) and of the demo worker
(schemas/examples); a match fails the run and says which value was logged where, so it can be
removed from the log call.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
_PHONE = re.compile(r"^0\d{1,2}-?\d{3,4}-?\d{4}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_HANGUL_NAME = re.compile(r"^[가-힣]{2,5}$")

_records: list[str] = []
_files: list[Path] = []


class _Keep(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a broken format string is not this plugin's to report
            text = str(record.msg)
        if record.exc_text or record.exc_info:
            text += "\n" + (record.exc_text or logging.Formatter().formatException(record.exc_info))  # type: ignore[arg-type]
        _records.append(f"{record.name}: {text}")


def watch(path: Path | str) -> None:
    """Search this server log file too when the session ends."""
    _files.append(Path(path))


def _cells(path: Path) -> list[str]:
    if path.suffix.lower() == ".csv":
        raw = path.read_bytes()
        for encoding in ("utf-8-sig", "cp949"):
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            return []
        return [cell.strip() for row in csv.reader(io.StringIO(text)) for cell in row]
    if path.suffix.lower() == ".xlsx":
        try:
            from python_calamine import CalamineWorkbook

            book = CalamineWorkbook.from_path(str(path))
            return [str(c).strip() for name in book.sheet_names for row in book.get_sheet_by_name(name).to_python() for c in row]
        except Exception:  # a deliberately broken test file (e.g. a zip bomb) holds no roster values
            return []
    return []


def personal_values() -> set[str]:
    """The values that must never be logged."""
    values: set[str] = set()
    files = sorted(DATA.rglob("*.csv")) + sorted(DATA.rglob("*.xlsx")) if DATA.exists() else []
    for path in files:
        for cell in _cells(path):
            if _HANGUL_NAME.match(cell) or _EMAIL.match(cell):
                values.add(cell)
            elif _PHONE.match(cell):
                values.add(cell)
                values.add(cell.replace("-", ""))
    # the demo worker of the examples (make run's sample data)
    import schemas

    employee = schemas.example("labor-contract-part-time")["credentialSubject"]["employee"]
    values.update({employee["name"], employee["phone"], employee["phone"].replace("-", "")})
    return values


def find_leaks(texts: list[tuple[str, str]], values: set[str]) -> list[str]:
    """`where: value` for each personal value found in `(where, text)` pairs."""
    found = []
    for where, text in texts:
        for value in values:
            if value in text:
                found.append(f"{where}: {value!r}")
    return found


def pytest_sessionstart(session: pytest.Session) -> None:
    root = logging.getLogger()
    root.addHandler(_Keep(logging.INFO))
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    texts = [(f"log record {i}", text) for i, text in enumerate(_records)]
    for path in _files:
        if path.exists():
            texts.append((str(path), path.read_text(encoding="utf-8", errors="replace")))
    leaks = find_leaks(texts, personal_values())
    if leaks:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        lines = ["personal data in the logs of this run (remove it from the log call):", *leaks[:20]]
        if reporter is not None:
            reporter.write_line("\n".join(lines), red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
