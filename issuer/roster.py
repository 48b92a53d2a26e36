"""Rosters: read a clerk's CSV or XLSX into validated participant rows, and write safe work lists.

Pure functions, no Flask and no database: the console's import page and `workcred issuer
import-roster` call `read_roster`, show its `RosterReport`, and create drafts from `report.rows`.

* CSV in UTF-8 (with or without BOM), UTF-16 with BOM (Excel's "Unicode text"), or CP949/EUC-KR
  (Korean Excel's default); comma, tab or semicolon separated.
* XLSX read with python-calamine after the zip is checked (declared and actual uncompressed sizes,
  compression ratio), so a zip bomb is refused before anything is inflated by the parser.
* Columns named by the template's `participantFields` (Korean or English header), plus 이메일/email;
  a title line above the header is allowed (the header is looked for in the first rows).
* Every refusal of the whole file raises `RosterRefused` (ko/en); everything wrong with a row is a
  `RowIssue` carrying the row number the clerk sees in Excel.
* `row_hash` is a keyed hash of the normalised row: the issuer stores it, passes the hashes it
  already has as `known_hashes`, and importing the same file twice creates nothing twice.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import hmac
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agents.errors import InvalidInput, ResourceLimit

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 100_000
MAX_COLUMNS = 200
#: how far down a title block may push the header row
HEADER_SEARCH_ROWS = 10
#: XLSX zip limits: a real 10 MB roster inflates to well under this; a bomb declares (or reaches) more
MAX_UNZIPPED_BYTES = 200 * 1024 * 1024
MAX_RATIO = 150
MAX_ZIP_MEMBERS = 1000
MAX_CELL_CHARS = 1000

#: the e-mail column every template accepts although none lists it (the outbox sends invitations to it)
EMAIL_FIELD = {"path": "employee.email", "column": "이메일", "columnEn": "email", "required": False}
_EXTRA_HEADERS = {"employee.email": ("e-mail", "전자우편", "메일", "이메일주소", "emailaddress")}


class RosterRefused(InvalidInput):
    """A roster file refused as a whole (too large, a zip bomb, unreadable, columns missing)."""

    code = "roster-refused"


class RosterTooLarge(RosterRefused, ResourceLimit):
    code = "roster-too-large"
    http_status = 413


# ---------------------------------------------------------------------------------------------
# columns


@dataclass(frozen=True)
class Column:
    """One participant field the roster fills: where it goes in the contract and how it is checked."""

    path: str
    header_ko: str
    header_en: str
    required: bool
    kind: str  # text | date | phone | email | bool

    def label(self, lang: str) -> str:
        return self.header_en if lang == "en" else self.header_ko


def _kind(f: Mapping[str, Any]) -> str:
    path = str(f["path"])
    if f.get("format") == "YYYY-MM-DD" or path.endswith(("Date", "birthDate")):
        return "date"
    if path.endswith("phone"):
        return "phone"
    if path.endswith("email"):
        return "email"
    if path.endswith(("Kept", "Consent")):
        return "bool"
    return "text"


def columns_for(template: Mapping[str, Any]) -> tuple[Column, ...]:
    """The roster columns of a template (`schemas.template(variant)` or a project's edited copy)."""
    fields = list(template.get("participantFields", ()))
    if not any(f.get("path") == EMAIL_FIELD["path"] for f in fields):
        fields.append(EMAIL_FIELD)
    return tuple(
        Column(str(f["path"]), str(f["column"]), str(f["columnEn"]), bool(f.get("required")), _kind(f))
        for f in fields
    )


def _norm_header(h: Any) -> str:
    s = unicodedata.normalize("NFKC", str(h or "")).strip().lower()
    # "성명*", "성 명", "birth date", "birth-date" all name the same column
    return re.sub(r"[\s*_\-.:()\[\]()]+", "", s)


def _aliases(c: Column) -> set[str]:
    names = {c.header_ko, c.header_en, c.path, c.path.rsplit(".", 1)[-1], *_EXTRA_HEADERS.get(c.path, ())}
    return {_norm_header(n) for n in names}


# ---------------------------------------------------------------------------------------------
# the report


@dataclass(frozen=True)
class RowIssue:
    """Something wrong with one row (or one cell), worded for the clerk in Korean and English."""

    row: int  # as the clerk sees it in Excel (header row included, 1-based)
    column: str | None  # the field path, None for the whole row
    code: str
    message_ko: str
    message_en: str
    severity: str = "error"  # error: the row is not imported; warning: imported as corrected

    def message(self, lang: str) -> str:
        return self.message_en if lang == "en" else self.message_ko


@dataclass(frozen=True)
class RosterRow:
    """A valid participant row: values by field path, normalised (dates ISO, phones 010-1234-5678)."""

    row: int
    values: Mapping[str, str]
    row_hash: str
    person_hash: str


@dataclass(frozen=True)
class RosterReport:
    """What `read_roster` found: rows ready to draft, issues per row, and the counts the page shows."""

    format: str  # csv | xlsx
    encoding: str | None
    header_row: int
    columns: tuple[Column, ...]
    rows: tuple[RosterRow, ...]
    issues: tuple[RowIssue, ...]
    total_rows: int  # data rows below the header, empty ones included
    empty_rows: int
    already_imported: int
    ignored_headers: tuple[str, ...] = ()

    @property
    def error_rows(self) -> int:
        return len({i.row for i in self.issues if i.severity == "error"})

    def issues_for(self, row: int) -> list[RowIssue]:
        return [i for i in self.issues if i.row == row]

    def summary(self) -> dict[str, Any]:
        """The counts as JSON (the console's poll and `import-roster --json`)."""
        return {
            "format": self.format,
            "encoding": self.encoding,
            "headerRow": self.header_row,
            "totalRows": self.total_rows,
            "validRows": len(self.rows),
            "errorRows": self.error_rows,
            "emptyRows": self.empty_rows,
            "alreadyImported": self.already_imported,
            "ignoredHeaders": list(self.ignored_headers),
        }


# ---------------------------------------------------------------------------------------------
# cell parsers: each returns (normalised value, warning or None) or raises _CellError


class _CellError(Exception):
    def __init__(self, code: str, ko: str, en: str) -> None:
        super().__init__(en)
        self.code, self.ko, self.en = code, ko, en


# Excel's day 0 is 1899-12-30 (the 1900 leap-year bug shifts serials below 61; no birth date is there)
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_DATE_SHAPES = (
    re.compile(r"(\d{4})\s*[-./]\s*(\d{1,2})\s*[-./]\s*(\d{1,2})\.?"),  # 1998-04-12, 1998.4.12, 1998. 4. 12.
    re.compile(r"(\d{4})\s*년\s*(\d{1,2})\s*월\s*(\d{1,2})\s*일?"),  # 1998년 4월 12일
    re.compile(r"(\d{4})(\d{2})(\d{2})"),  # 19980412
)


def _parse_date(value: Any, *, birth: bool, today: dt.date) -> str:
    if isinstance(value, dt.datetime):
        d = value.date()
    elif isinstance(value, dt.date):
        d = value
    else:
        s = _text(value)
        d = _date_from_text(s)
    if not dt.date(1900, 1, 1) <= d <= (today if birth else dt.date(2100, 12, 31)):
        raise _CellError(
            "date-out-of-range",
            f"날짜가 범위를 벗어났습니다: {d.isoformat()}",
            f"date out of range: {d.isoformat()}",
        )
    return d.isoformat()


def _date_from_text(s: str) -> dt.date:
    bad = _CellError(
        "bad-date",
        f"날짜를 읽을 수 없습니다: '{s}' (예: 1998-04-12, 1998.04.12, 19980412)",
        f"unreadable date: '{s}' (e.g. 1998-04-12, 1998.04.12, 19980412)",
    )
    # an Excel serial that reached a CSV as a number ("35897" or "35897.0")
    if re.fullmatch(r"\d{5}(\.0+)?", s):
        serial = int(float(s))
        if 1 <= serial <= 2958465:
            return _EXCEL_EPOCH + dt.timedelta(days=serial)
    for shape in _DATE_SHAPES:
        m = shape.fullmatch(s)
        if m:
            try:
                return dt.date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                raise bad from None
    if re.fullmatch(r"\d{2}\s*[-./]\s*\d{1,2}\s*[-./]\s*\d{1,2}\.?|\d{6}", s):
        raise _CellError(
            "ambiguous-date",
            f"연도가 두 자리라 세기를 알 수 없습니다: '{s}' (네 자리로 적어 주세요)",
            f"two-digit year, the century is unknown: '{s}' (write four digits)",
        )
    raise bad


_MOBILE = re.compile(r"01[016789]\d{7,8}")
_LANDLINE = re.compile(r"0(2\d{7,8}|[3-6][1-5]\d{7,8}|70\d{8})")


def _parse_phone(value: Any) -> tuple[str, RowIssueText | None]:
    raw = _text(value)
    digits = re.sub(r"[\s\-.()]", "", raw)
    warning = None
    if digits.startswith("+82"):
        digits = "0" + digits[3:].lstrip("0")
    elif digits.startswith("82") and len(digits) in (11, 12):
        digits = "0" + digits[2:]
    if re.fullmatch(r"1[016789]\d{7,8}", digits):
        # Excel stored the number as a number and dropped the leading 0
        digits = "0" + digits
        warning = RowIssueText(
            "phone-leading-zero",
            f"맨 앞의 0이 빠진 번호를 {_format_phone(digits)}(으)로 읽었습니다",
            f"the leading 0 was missing; read as {_format_phone(digits)}",
        )
    if not digits.isdigit() or not (_MOBILE.fullmatch(digits) or _LANDLINE.fullmatch(digits)):
        raise _CellError(
            "bad-phone",
            f"전화번호 형식이 아닙니다: '{raw}' (예: 010-1234-5678)",
            f"not a phone number: '{raw}' (e.g. 010-1234-5678)",
        )
    return _format_phone(digits), warning


def _format_phone(d: str) -> str:
    if d.startswith("02"):
        return f"02-{d[2:-4]}-{d[-4:]}"
    return f"{d[:3]}-{d[3:-4]}-{d[-4:]}"


_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
)


def _parse_email(value: Any) -> str:
    s = _text(value)
    if len(s) > 254 or not _EMAIL.fullmatch(s) or ".." in s:
        raise _CellError(
            "bad-email", f"전자우편 주소 형식이 아닙니다: '{s}'", f"not an e-mail address: '{s}'"
        )
    local, _, domain = s.rpartition("@")
    return f"{local}@{domain.lower()}"


_TRUE = {"y", "yes", "true", "1", "o", "예", "네", "제출", "있음", "√", "v", "✓"}
_FALSE = {"n", "no", "false", "0", "x", "아니오", "아니요", "미제출", "없음"}


def _parse_bool(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    s = _text(value).lower()
    if s in _TRUE:
        return "true"
    if s in _FALSE:
        return "false"
    raise _CellError("bad-yes-no", f"예/아니오로 적어 주세요: '{s}'", f"write yes or no: '{s}'")


@dataclass(frozen=True)
class RowIssueText:
    code: str
    ko: str
    en: str


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # calamine gives every number as float: 1012345678.0
    elif isinstance(value, (dt.datetime, dt.date)):
        value = value.isoformat()
    s = unicodedata.normalize("NFC", str(value)).replace("\u00a0", " ").replace("\ufeff", "")
    return re.sub(r"\s+", " ", s).strip()


# ---------------------------------------------------------------------------------------------
# reading files


def _check_size(data: bytes) -> None:
    if len(data) > MAX_BYTES:
        raise RosterTooLarge(
            f"The file is {len(data) / 1048576:.1f} MB; a roster may be at most 10 MB. Split it into several files.",
            message_ko=f"파일이 {len(data) / 1048576:.1f}MB입니다. 명단 파일은 10MB까지 올릴 수 있습니다. 여러 파일로 나눠 주세요.",
        )


def _too_many_rows() -> RosterTooLarge:
    return RosterTooLarge(
        f"The roster has more than {MAX_ROWS:,} rows. Split it into several files.",
        message_ko=f"명단이 {MAX_ROWS:,}행을 넘습니다. 여러 파일로 나눠 주세요.",
    )


def _decode_csv(data: bytes) -> tuple[str, str]:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    else:
        # UTF-8 first: a CP949 file almost never decodes as UTF-8, the reverse often does (mojibake)
        for encoding in ("utf-8-sig", "cp949"):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                continue
            return text, ("utf-8" if encoding == "utf-8-sig" else encoding)
    raise RosterRefused(
        "The file's text encoding is not UTF-8 or CP949/EUC-KR. In Excel choose 'Save as' > 'CSV UTF-8'.",
        message_ko="파일의 글자 인코딩을 알 수 없습니다(UTF-8, CP949/EUC-KR이 아님). 엑셀에서 '다른 이름으로 저장' > 'CSV UTF-8'로 저장해 주세요.",
    )


def _csv_rows(text: str) -> Iterator[list[Any]]:
    first = text[:4096].split("\n", 1)[0]
    delimiter = max(",\t;", key=first.count)
    csv.field_size_limit(MAX_CELL_CHARS * 10)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        yield from reader
    except csv.Error as e:
        raise RosterRefused(
            f"The CSV cannot be read near line {reader.line_num}: {e}",
            message_ko=f"CSV 파일을 {reader.line_num}번째 줄 근처에서 읽을 수 없습니다: {e}",
        ) from None


def _bomb(detail_en: str, detail_ko: str) -> RosterTooLarge:
    return RosterTooLarge(
        f"This XLSX file is refused: {detail_en}. Save the sheet again from Excel, or as CSV.",
        message_ko=f"이 XLSX 파일은 받을 수 없습니다: {detail_ko}. 엑셀에서 다시 저장하거나 CSV로 저장해 주세요.",
    )


def check_xlsx_zip(data: bytes) -> None:
    """Refuse a zip bomb: declared sizes, compression ratios, then the real inflated sizes (bounded)."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise RosterRefused(
            "The file is not a readable XLSX workbook.", message_ko="읽을 수 있는 XLSX 통합 문서가 아닙니다."
        ) from None
    if len(infos) > MAX_ZIP_MEMBERS:
        raise _bomb(f"{len(infos)} parts inside", f"내부 파일이 {len(infos)}개입니다")
    declared = sum(i.file_size for i in infos)
    if declared > MAX_UNZIPPED_BYTES:
        raise _bomb(f"it unpacks to {declared // 1048576} MB", f"압축을 풀면 {declared // 1048576}MB입니다")
    for i in infos:
        if i.file_size > 1024 * 1024 and i.file_size > MAX_RATIO * max(i.compress_size, 1):
            raise _bomb("compressed beyond any real sheet", "실제 시트로 볼 수 없을 만큼 압축되어 있습니다")
    # the declared sizes are the zip's own claim: inflate each part, never past its claim
    with zf:
        for i in infos:
            try:
                with zf.open(i) as member:
                    seen = 0
                    while chunk := member.read(1 << 20):
                        seen += len(chunk)
                        if seen > i.file_size:
                            raise _bomb(
                                "a part is larger than the zip says", "압축 정보와 실제 크기가 다릅니다"
                            )
            except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError):
                raise RosterRefused(
                    "The XLSX workbook is damaged or encrypted.",
                    message_ko="XLSX 통합 문서가 손상되었거나 암호가 걸려 있습니다.",
                ) from None


def _xlsx_rows(data: bytes) -> Iterator[list[Any]]:
    import python_calamine

    check_xlsx_zip(data)
    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = book.get_sheet_by_index(0)
    except Exception as e:  # calamine's errors have no common root; all of them mean "unreadable"
        raise RosterRefused(
            f"The XLSX workbook cannot be read ({type(e).__name__}).",
            message_ko=f"XLSX 통합 문서를 읽을 수 없습니다({type(e).__name__}).",
        ) from None
    if sheet.total_height > MAX_ROWS + HEADER_SEARCH_ROWS + 1:
        # the sheet's own dimension, before any row is turned into Python objects
        raise _too_many_rows()
    for row in sheet.iter_rows():
        yield list(row)


# ---------------------------------------------------------------------------------------------
# the reader


def row_hash(values: Mapping[str, str], key: bytes) -> str:
    """Keyed hash of a normalised row: equal rows hash equal, and the hash alone reveals no one."""
    canonical = "\x1f".join(f"{k}\x1e{values[k]}" for k in sorted(values) if values[k])
    return hmac.new(key, b"roster-row\x00" + canonical.encode(), hashlib.sha256).hexdigest()


def person_hash(values: Mapping[str, str], key: bytes) -> str:
    """Keyed hash of who the row is (name and birth date), to catch the same person twice."""
    who = f"{values.get('employee.name', '')}\x1e{values.get('employee.birthDate', '')}"
    return hmac.new(key, b"roster-person\x00" + who.encode(), hashlib.sha256).hexdigest()


def _find_header(
    rows: Iterator[list[Any]], columns: Sequence[Column]
) -> tuple[int, list[Any], dict[int, Column], list[str]]:
    aliases = [(c, _aliases(c)) for c in columns]
    best: tuple[int, int, list[Any], dict[int, Column], list[str]] | None = None
    for number, row in enumerate(rows, start=1):
        mapping: dict[int, Column] = {}
        ignored: list[str] = []
        for index, cell in enumerate(row[:MAX_COLUMNS]):
            name = _norm_header(cell)
            if not name:
                continue
            match = next((c for c, names in aliases if name in names and c not in mapping.values()), None)
            if match:
                mapping[index] = match
            else:
                ignored.append(_text(cell))
        if mapping and (best is None or len(mapping) > best[1]):
            best = (number, len(mapping), row, mapping, ignored)
        if best and all(c in best[3].values() for c in columns if c.required):
            break
        if number >= HEADER_SEARCH_ROWS:
            break
    if best is None:
        raise _missing(columns, [c for c in columns if c.required])
    missing = [c for c in columns if c.required and c not in best[3].values()]
    if missing:
        raise _missing(columns, missing)
    return best[0], best[2], best[3], best[4]


def _missing(columns: Sequence[Column], missing: Sequence[Column]) -> RosterRefused:
    need_ko = ", ".join(c.header_ko for c in missing)
    need_en = ", ".join(c.header_en for c in missing)
    return RosterRefused(
        f"Required columns not found: {need_en}. The first row of the sheet (or one of the first "
        f"{HEADER_SEARCH_ROWS}) must name the columns; download the template to see them.",
        message_ko=f"필수 열을 찾지 못했습니다: {need_ko}. 시트의 첫 줄(또는 처음 {HEADER_SEARCH_ROWS}줄 중 한 줄)에 "
        "열 이름이 있어야 합니다. 양식 파일을 내려받아 확인해 주세요.",
        missing=[c.path for c in missing],
    )


def read_roster(
    data: bytes,
    template: Mapping[str, Any] | Sequence[Column],
    *,
    key: bytes,
    filename: str = "",
    known_hashes: Collection[str] = frozenset(),
    known_people: Collection[str] = frozenset(),
    today: dt.date | None = None,
) -> RosterReport:
    """Read and check a roster file; raises `RosterRefused` for the file, reports the rows' problems.

    `key` keys `row_hash`/`person_hash` (the issuer's blind-index key); `known_hashes` are the row
    hashes already imported for the project (those rows are counted and skipped, not re-created),
    `known_people` their person hashes (another row for the same person is an error).
    """
    _check_size(data)
    columns = columns_for(template) if isinstance(template, Mapping) else tuple(template)
    today = today or dt.date.today()
    if data.startswith(b"PK\x03\x04") or filename.lower().endswith((".xlsx", ".xlsm")):
        fmt, encoding, rows = "xlsx", None, _xlsx_rows(data)
    elif data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise RosterRefused(
            "This is an old Excel (.xls) file. Save it as .xlsx or CSV.",
            message_ko="예전 엑셀(.xls) 파일입니다. .xlsx 또는 CSV로 저장해 주세요.",
        )
    else:
        text, encoding = _decode_csv(data)
        fmt, rows = "csv", _csv_rows(text)
    header_row, _, mapping, ignored = _find_header(rows, columns)
    return _validate(
        rows, fmt, encoding, header_row, columns, mapping, ignored, key, known_hashes, known_people, today
    )


def _validate(
    rows: Iterator[list[Any]],
    fmt: str,
    encoding: str | None,
    header_row: int,
    columns: tuple[Column, ...],
    mapping: dict[int, Column],
    ignored: list[str],
    key: bytes,
    known_hashes: Collection[str],
    known_people: Collection[str],
    today: dt.date,
) -> RosterReport:
    issues: list[RowIssue] = []
    good: list[RosterRow] = []
    seen_rows: dict[str, int] = {}
    seen_people: dict[str, int] = {}
    total = empty = already = 0
    parsers: dict[str, Callable[[Any, Column], tuple[str, RowIssueText | None]]] = {
        "date": lambda v, c: (_parse_date(v, birth=c.path.endswith("birthDate"), today=today), None),
        "phone": lambda v, c: _parse_phone(v),
        "email": lambda v, c: (_parse_email(v), None),
        "bool": lambda v, c: (_parse_bool(v), None),
        "text": lambda v, c: (_text(v), None),
    }
    for number, row in enumerate(rows, start=header_row + 1):
        total += 1
        if total > MAX_ROWS:
            raise _too_many_rows()
        cells = {c: row[i] if i < len(row) else "" for i, c in mapping.items()}
        if all(_text(v) == "" for v in row[:MAX_COLUMNS]):
            empty += 1
            continue
        values: dict[str, str] = {}
        row_issues: list[RowIssue] = []
        for column, cell in cells.items():
            if _text(cell) == "":
                if column.required:
                    row_issues.append(
                        RowIssue(
                            number,
                            column.path,
                            "missing",
                            f"'{column.header_ko}' 칸이 비어 있습니다",
                            f"'{column.header_en}' is empty",
                        )
                    )
                continue
            if isinstance(cell, str) and len(cell) > MAX_CELL_CHARS:
                row_issues.append(
                    RowIssue(
                        number,
                        column.path,
                        "too-long",
                        f"'{column.header_ko}' 칸이 {MAX_CELL_CHARS}자를 넘습니다",
                        f"'{column.header_en}' is longer than {MAX_CELL_CHARS} characters",
                    )
                )
                continue
            try:
                value, warning = parsers[column.kind](cell, column)
            except _CellError as e:
                row_issues.append(RowIssue(number, column.path, e.code, e.ko, e.en))
                continue
            if warning:
                row_issues.append(
                    RowIssue(number, column.path, warning.code, warning.ko, warning.en, "warning")
                )
            values[column.path] = value
        if any(i.severity == "error" for i in row_issues):
            issues.extend(row_issues)
            continue
        rh, ph = row_hash(values, key), person_hash(values, key)
        if rh in known_hashes:
            already += 1
            continue
        if rh in seen_rows:
            issues.append(
                RowIssue(
                    number,
                    None,
                    "duplicate-row",
                    f"{seen_rows[rh]}행과 똑같은 행입니다(한 번만 만듭니다)",
                    f"the same as row {seen_rows[rh]} (created once)",
                    "warning",
                )
            )
            continue
        if ph in seen_people or ph in known_people:
            where_ko = f"{seen_people[ph]}행" if ph in seen_people else "이미 가져온 명단"
            where_en = f"row {seen_people[ph]}" if ph in seen_people else "a roster already imported"
            issues.append(
                RowIssue(
                    number,
                    None,
                    "duplicate-person",
                    f"같은 사람(성명·생년월일)이 {where_ko}에 있습니다",
                    f"the same person (name, birth date) is in {where_en}",
                )
            )
            continue
        seen_rows[rh], seen_people[ph] = number, number
        issues.extend(row_issues)
        good.append(RosterRow(number, values, rh, ph))
    return RosterReport(
        fmt, encoding, header_row, columns, tuple(good), tuple(issues), total, empty, already, tuple(ignored)
    )


# ---------------------------------------------------------------------------------------------
# exports

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A cell a spreadsheet will not run: text starting with = + - @ tab or CR gets a leading '."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def export_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """A work list as CSV in UTF-8 with BOM (so Korean Excel opens it without mojibake)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise(_cell_text(h)) for h in header])
    for row in rows:
        writer.writerow([neutralise(_cell_text(v)) for v in row])
    return codecs.BOM_UTF8 + out.getvalue().encode("utf-8")


def export_xlsx(header: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str = "work list") -> bytes:
    """A work list as XLSX; every cell is written as text or number, never as a formula."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=re.sub(r"[\[\]:*?/\\]", " ", title)[:31] or "sheet")

    def cells(values: Iterable[Any]) -> list[Any]:
        out = []
        for v in values:
            v = v if isinstance(v, (int, float)) and not isinstance(v, bool) else neutralise(_cell_text(v))
            cell = WriteOnlyCell(sheet, value=v)
            if isinstance(v, str):
                cell.data_type = "s"  # openpyxl would otherwise store a leading "=" as a formula
            out.append(cell)
        return out

    sheet.append(cells(header))
    for row in rows:
        sheet.append(cells(row))
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _cell_text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    # control characters other than tab/newline break XLSX and confuse CSV readers
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", str(v))


def template_csv(template: Mapping[str, Any]) -> bytes:
    """An empty roster for a template: the header row in Korean (what the import expects)."""
    return export_csv([c.header_ko for c in columns_for(template)], [])
