"""Rosters: encodings, Excel shapes, per-row checks, re-import, refusals and safe exports."""

from __future__ import annotations

import codecs
import datetime as dt
import io
import struct
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import schemas
from issuer import roster
from issuer.roster import RosterRefused, RosterTooLarge, read_roster

DATA = Path(__file__).parent.parent / "data"
KEY = b"k" * 32
TODAY = dt.date(2026, 12, 6)
PART_TIME = schemas.template("part-time")


def read(data: bytes, template=PART_TIME, **kw):
    kw.setdefault("today", TODAY)
    return read_roster(data, template, key=KEY, **kw)


def codes(report, row):
    return sorted(i.code for i in report.issues_for(row))


def test_cp949_file_with_title_row_reads_every_shape() -> None:
    report = read((DATA / "roster_cp949.csv").read_bytes(), filename="명단.csv")
    assert (report.format, report.encoding, report.header_row) == ("csv", "cp949", 2)
    by_row = {r.row: r.values for r in report.rows}
    assert by_row[3] == {
        "employee.name": "김민준",
        "employee.birthDate": "1998-04-12",
        "employee.phone": "010-1234-5678",
        "employee.email": "minjun@example.kr",
        "employee.address": "서울특별시 중구 세종대로 110",
    }
    assert by_row[4]["employee.birthDate"] == "1999-04-03"
    assert by_row[5]["employee.phone"] == "010-3333-4444"  # Excel dropped the leading 0
    assert codes(report, 5) == ["phone-leading-zero"]
    assert by_row[7]["employee.birthDate"] == "1998-04-12"  # Excel serial 35897
    assert by_row[7]["employee.phone"] == "010-2222-3333"
    assert 8 not in by_row and codes(report, 8) == ["ambiguous-date", "bad-email"]
    assert report.summary() == {
        "format": "csv",
        "encoding": "cp949",
        "headerRow": 2,
        "totalRows": 6,
        "validRows": 4,
        "errorRows": 1,
        "emptyRows": 1,
        "alreadyImported": 0,
        "ignoredHeaders": [],
    }
    [bad_email] = [i for i in report.issues_for(8) if i.code == "bad-email"]
    assert bad_email.message("ko") == "전자우편 주소 형식이 아닙니다: 'not-an-email'"
    assert bad_email.message("en") == "not an e-mail address: 'not-an-email'"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "euc-kr", "cp949", "utf-16"])
def test_same_roster_in_every_encoding_reads_the_same(encoding: str) -> None:
    text = (DATA / "roster_cp949.csv").read_bytes().decode("cp949")
    expected = read((DATA / "roster_cp949.csv").read_bytes())
    report = read(text.encode(encoding))
    assert [r.values for r in report.rows] == [r.values for r in expected.rows]
    assert [r.row_hash for r in report.rows] == [r.row_hash for r in expected.rows]


hangul = st.text(alphabet=st.characters(min_codepoint=0xAC00, max_codepoint=0xD7A3), min_size=2, max_size=5)


@settings(max_examples=60, deadline=None)
@given(names=st.lists(hangul, min_size=1, max_size=8, unique=True), bom=st.booleans(), cp949=st.booleans())
def test_korean_names_never_come_back_as_mojibake(names: list[str], bom: bool, cp949: bool) -> None:
    lines = ["성명,생년월일,연락처"] + [
        f"{n},2000-01-{i + 1:02d},010-1000-{i:04d}" for i, n in enumerate(names)
    ]
    text = "\r\n".join(lines)
    data = text.encode("cp949") if cp949 else (codecs.BOM_UTF8 if bom else b"") + text.encode()
    report = read(data)
    assert [r.values["employee.name"] for r in report.rows] == names
    assert report.encoding == ("cp949" if cp949 else "utf-8")


def test_english_headers_tab_separated_and_spelling_variants() -> None:
    data = (
        "Name\tBirth Date\tPHONE\tE-mail\tT-shirt size\nKim\t1990/1/2\t+82 10-1111-2222\tKim@Example.KR\tL\n"
    )
    report = read(data.encode())
    [row] = report.rows
    assert row.values == {
        "employee.name": "Kim",
        "employee.birthDate": "1990-01-02",
        "employee.phone": "010-1111-2222",
        "employee.email": "Kim@example.kr",
    }
    assert report.ignored_headers == ("T-shirt size",)


def test_xlsx_with_date_cells_numbers_and_serials() -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["참여자 명단"])
    sheet.append([])
    sheet.append(["성명", "생년월일", "연락처", "근무장소"])
    sheet.append(["김민준", dt.datetime(1998, 4, 12), 1012345678, "서울시청"])
    sheet.append(["이서연", 35897, "02-123-4567", None])
    sheet.append([None, None, None])
    sheet.append(["박지호", "1997년 1월 1일", "010-9999-0000"])
    sheet.append(["최수아", "2030-01-01", "010-9999-0001"])  # a birth date after today
    sheet.append(["정예준", "1990-02-30", "010-12"])
    buf = io.BytesIO()
    book.save(buf)
    report = read(buf.getvalue(), filename="roster.xlsx")
    assert (report.format, report.header_row, report.empty_rows) == ("xlsx", 3, 1)
    by_row = {r.row: r.values for r in report.rows}
    assert by_row[4] == {
        "employee.name": "김민준",
        "employee.birthDate": "1998-04-12",
        "employee.phone": "010-1234-5678",
        "workplace": "서울시청",
    }
    assert by_row[5] == {
        "employee.name": "이서연",
        "employee.birthDate": "1998-04-12",
        "employee.phone": "02-123-4567",
    }
    assert by_row[7]["employee.birthDate"] == "1997-01-01"
    assert codes(report, 8) == ["date-out-of-range"]
    assert codes(report, 9) == ["bad-date", "bad-phone"]


def test_missing_fields_and_duplicates_within_the_file() -> None:
    data = (
        "성명,생년월일,연락처\n"
        "김민준,1998-04-12,010-1234-5678\n"
        ",1998-04-12,\n"
        "김민준,1998.04.12,01012345678\n"  # the same row written differently: created once
        "김민준,1998-04-12,010-0000-0000\n"  # the same person with another phone: an error
    ).encode()
    report = read(data)
    assert [r.row for r in report.rows] == [2]
    assert codes(report, 3) == ["missing", "missing"]
    assert codes(report, 4) == ["duplicate-row"]
    assert codes(report, 5) == ["duplicate-person"]
    assert report.issues_for(4)[0].message("ko") == "2행과 똑같은 행입니다(한 번만 만듭니다)"
    assert report.error_rows == 2


def test_importing_the_same_file_again_creates_nothing_twice() -> None:
    data = (DATA / "roster_cp949.csv").read_bytes()
    first = read(data)
    again = read(
        data, known_hashes={r.row_hash for r in first.rows}, known_people={r.person_hash for r in first.rows}
    )
    assert again.rows == () and again.already_imported == len(first.rows)
    # a corrected row for someone already imported is flagged, not created as a second contract
    changed = data.decode("cp949").replace("010-1234-5678", "010-1234-0000").encode("cp949")
    third = read(
        changed,
        known_hashes={r.row_hash for r in first.rows},
        known_people={r.person_hash for r in first.rows},
    )
    assert third.rows == () and codes(third, 3) == ["duplicate-person"]
    # the hash is keyed: another issuer key gives other hashes
    other = read_roster(data, PART_TIME, key=b"x" * 32, today=TODAY)
    assert {r.row_hash for r in other.rows}.isdisjoint(r.row_hash for r in first.rows)


def test_minor_template_reads_guardian_columns() -> None:
    data = (
        "성명,생년월일,연락처,친권자(후견인) 성명,관계,동의일,가족관계증명서 제출\n"
        "김하윤,2010-05-05,010-1234-5678,김철수,부,2026.11.30,예\n"
        "이도윤,2010-06-06,010-1234-5679,이영희,모,2026-11-30,글쎄\n"
    ).encode("cp949")
    report = read(data, schemas.template("minor"))
    [row] = report.rows
    assert row.values["guardianConsent.familyCertificateKept"] == "true"
    assert row.values["guardianConsent.consentDate"] == "2026-11-30"
    assert codes(report, 3) == ["bad-yes-no"]


def test_refusals_are_worded_in_korean_and_english() -> None:
    with pytest.raises(RosterRefused, match="Required columns not found: birth_date, phone") as e:
        read("성명,주소\n김,서울\n".encode())
    assert e.value.diagnostics("ko").startswith("필수 열을 찾지 못했습니다: 생년월일, 연락처")
    assert e.value.details["missing"] == ["employee.birthDate", "employee.phone"]
    with pytest.raises(RosterRefused, match="not UTF-8 or CP949"):
        read(b"\xff\xfe\xfd\x80\x81" * 10 + b"\x00\xd8")
    with pytest.raises(RosterRefused, match=r"old Excel \(.xls\)"):
        read(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    with pytest.raises(RosterRefused, match="not a readable XLSX"):
        read(b"PK\x03\x04 broken", filename="a.xlsx")


def test_a_file_over_10_mb_is_refused_before_reading() -> None:
    data = b"a" * (roster.MAX_BYTES + 1)
    start = time.process_time()
    with pytest.raises(RosterTooLarge, match="at most 10 MB") as e:
        read(data)
    assert e.value.http_status == 413 and "10MB까지" in e.value.diagnostics("ko")
    assert time.process_time() - start < 1


def test_more_than_100000_rows_is_refused() -> None:
    row = "김,2000-01-01,010-1234-5678\n"
    with pytest.raises(RosterTooLarge, match="more than 100,000 rows"):
        read(("성명,생년월일,연락처\n" + row * (roster.MAX_ROWS + 1)).encode())


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, body in members.items():
            zf.writestr(name, body)
    return buf.getvalue()


def test_xlsx_zip_bomb_refused_by_ratio_before_parsing() -> None:
    bomb = _zip({"[Content_Types].xml": b"<x/>", "xl/worksheets/sheet1.xml": b"<row>" + b"0" * 50_000_000})
    assert len(bomb) < 100_000
    with pytest.raises(RosterTooLarge, match="compressed beyond any real sheet") as e:
        read(bomb, filename="bomb.xlsx")
    assert "XLSX 파일은 받을 수 없습니다" in e.value.diagnostics("ko")


def test_xlsx_zip_bomb_refused_by_declared_total() -> None:
    # many parts, each under the ratio alarm, together over the bound
    parts = {f"xl/worksheets/sheet{i}.xml": bytes(range(256)) * 4096 for i in range(250)}
    data = _zip(parts)
    with pytest.raises(RosterTooLarge, match="unpacks to 250 MB"):
        read(data, filename="many.xlsx")


def test_xlsx_whose_sizes_lie_is_refused() -> None:
    # a part that declares 1 KB in the central directory but inflates to 5 MB
    data = bytearray(_zip({"xl/worksheets/sheet1.xml": b"<r>" + bytes(range(256)) * 20480}))
    for sig in (b"PK\x01\x02", b"PK\x03\x04"):
        at = data.find(sig)
        offset = at + (24 if sig == b"PK\x01\x02" else 22)
        data[offset : offset + 4] = struct.pack("<I", 1024)
    with pytest.raises(RosterRefused, match="(damaged|larger than the zip says)"):
        read(bytes(data), filename="liar.xlsx")


def test_xlsx_over_the_row_limit_is_refused_from_its_dimension(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(roster, "MAX_ROWS", 50)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["성명", "생년월일", "연락처"])
    for i in range(100):
        sheet.append(["김", "2000-01-01", f"010-1234-{i:04d}"])
    buf = io.BytesIO()
    book.save(buf)
    with pytest.raises(RosterTooLarge, match="more than 50 rows"):
        read(buf.getvalue())


def test_exports_neutralise_formulas() -> None:
    rows = [['=HYPERLINK("http://evil")', "+1", "-2", "@SUM(A1)", "\tx", "\rx", "safe", 3, None]]
    csv_bytes = roster.export_csv(["a", "b", "c", "d", "e", "f", "g", "h", "i"], rows)
    assert csv_bytes.startswith(codecs.BOM_UTF8)
    line = csv_bytes.decode("utf-8-sig").split("\r\n")[1]
    assert line.startswith('"\'=HYPERLINK(""http://evil"")",\'+1,\'-2,\'@SUM(A1),\'\tx,"\'\rx",safe,3,')
    xlsx = roster.export_xlsx(["이름", "=bad"], rows, title="근무자 목록")
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx)).active
    values = [[c.value for c in r] for r in sheet.iter_rows()]
    assert values[0][:2] == ["이름", "'=bad"]
    assert values[1][:8] == [
        '\'=HYPERLINK("http://evil")',
        "'+1",
        "'-2",
        "'@SUM(A1)",
        "'\tx",
        "'\rx",
        "safe",
        3,
    ]
    assert all(c.data_type != "f" for r in sheet.iter_rows() for c in r)


def test_template_csv_round_trips_into_an_empty_roster() -> None:
    report = read(roster.template_csv(PART_TIME))
    assert report.rows == () and report.total_rows == 0
    assert [c.header_ko for c in report.columns] == [
        "성명",
        "생년월일",
        "주소",
        "연락처",
        "근무장소",
        "업무내용",
        "이메일",
    ]
