"""The workcred certificate PDF (경력증명서 / 사용증명서, LSA art. 39): build it and read it back.

Layout version 1 (the wallet renders it, the verifier reads it; README "Certificate PDF layout"):

* one A4 portrait page: title, the worker, one block per career record with only the items the
  credentials carry (project, period, duties, position, wage), the issuer, a QR code and a note
  on how to verify;
* the QR holds a short HTTPS URL of the signed presentation that the holder published for a
  limited time (a multi-proof presentation does not fit a printable QR);
* two embedded files (PDF file specifications in the catalog's /EmbeddedFiles name tree and /AF):
  ``workcred-presentation.json`` (``application/vp+ld+json``, AFRelationship /Data): the signed
  VerifiablePresentation; ``workcred-receipts.json`` (``application/json``, AFRelationship
  /Supplement): the registry receipts as ``{"<credential id>": <receipt>, ...}``, so the
  certificate can be checked without asking the city about whom.

What is printed is only a rendering: a verifier trusts the embedded presentation, never the text.
"""

from __future__ import annotations

import io
import json
import logging
import os
import tempfile
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from . import loader
from ._pdffont import subset_font
from .errors import Error, InvalidInput, ResourceLimit
from .korean import josa

__all__ = [
    "LAYOUT_VERSION",
    "MAX_EMBEDDED_BYTES",
    "MAX_PDF_BYTES",
    "PRESENTATION_FILE",
    "PRESENTATION_MEDIA_TYPE",
    "RECEIPTS_FILE",
    "RECEIPTS_MEDIA_TYPE",
    "FontMissing",
    "build_certificate_pdf",
    "credential_items",
    "embedded_files",
    "extract_from_pdf",
    "issuer_name",
]

LAYOUT_VERSION = "workcred-certificate-1"
PRESENTATION_FILE = "workcred-presentation.json"
PRESENTATION_MEDIA_TYPE = "application/vp+ld+json"
RECEIPTS_FILE = "workcred-receipts.json"
RECEIPTS_MEDIA_TYPE = "application/json"
MAX_PDF_BYTES = 5 * 1024 * 1024
MAX_EMBEDDED_BYTES = 1024 * 1024
_PRINTABLE_ASCII = "".join(chr(c) for c in range(0x20, 0x7F))
MAX_QR_URL = 256  # a printable QR stays small and scannable from paper

FONT_DIRS = ("/usr/share/fonts/truetype/nanum", "/usr/share/fonts/nanum", "/usr/local/share/fonts/nanum")
FONT_REGULAR = "NanumGothic.ttf"
FONT_BOLD = "NanumGothicBold.ttf"

#: the LSA art. 39 items a certificate may show, in print order (only present ones are printed)
ITEMS = ("project", "employmentPeriod", "duties", "position", "wage")
_PRINTED_LABELS = frozenset({"employee.name", "employee.birthDate", "employer.name", "project.name", "records", *ITEMS})

TEXT = {
    "ko": {
        "city": "서울특별시",
        "title": "경력증명서",
        "subtitle": "(사용증명서 · 근로기준법 제39조)",
        "worker": "근로자",
        "purpose": "용도",
        "record": "경력 {n}",
        "issuer": "발급기관",
        "issued": "발급일",
        "statement": "위와 같이 경력을 증명합니다.",
        "signed": "전자 서명됨 (W3C 검증 가능한 증명)",
        "verify_title": "진위 확인 방법",
        "verify_note": (
            "이 증명서에는 서울시가 전자 서명한 경력 증명과 등록소 영수증이 파일로 들어 있습니다. "
            "고용주는 QR 코드를 스캔하거나 이 PDF 파일을 서울시 경력 확인 서비스에 올려 위·변조, 폐기 여부와 "
            "발급기관을 확인할 수 있습니다. 종이에 인쇄된 글자만으로는 진위를 보장하지 않습니다."
        ),
        "qr_until": "QR 주소 유효기간: {until}까지",
        "attached": "첨부 파일: {files}",
        "none": "-",
    },
    "en": {
        "city": "Seoul Metropolitan Government",
        "title": "Certificate of Employment",
        "subtitle": "(Labor Standards Act, Article 39)",
        "worker": "Worker",
        "purpose": "Purpose",
        "record": "Record {n}",
        "issuer": "Issued by",
        "issued": "Date of issue",
        "statement": "This is to certify the employment described above.",
        "signed": "Digitally signed (W3C Verifiable Credential)",
        "verify_title": "How to verify",
        "verify_note": (
            "This certificate carries the career credential signed by the City of Seoul and the registry "
            "receipts as attached files. An employer can scan the QR code or upload this PDF to the "
            "City's verification service to check for tampering, revocation and the issuer. The printed "
            "text alone proves nothing."
        ),
        "qr_until": "QR link valid until {until}",
        "attached": "Attached files: {files}",
        "none": "-",
    },
}


class FontMissing(Error):
    """The Korean font (Debian fonts-nanum) is not installed."""

    code = "font-missing"
    http_status = 500


def _invalid(en: str, ko: str) -> InvalidInput:
    return InvalidInput(en, message_ko=ko)


# --- fonts -----------------------------------------------------------------------------------------


def find_fonts() -> tuple[Path, Path]:
    """The NanumGothic regular and bold TTF files, looked up at run time."""
    dirs = [os.environ["WORKCRED_FONT_DIR"]] if os.environ.get("WORKCRED_FONT_DIR") else []
    for folder in [*dirs, *FONT_DIRS]:
        regular, bold = Path(folder) / FONT_REGULAR, Path(folder) / FONT_BOLD
        if regular.is_file():
            return regular, bold if bold.is_file() else regular
    raise FontMissing(
        f"the Korean font {FONT_REGULAR} was not found in {', '.join(FONT_DIRS)}: install the Debian "
        "package fonts-nanum or set WORKCRED_FONT_DIR",
        message_ko=f"한글 글꼴({FONT_REGULAR})이 없습니다. fonts-nanum 패키지를 설치하거나 WORKCRED_FONT_DIR을 설정하세요",
    )


# --- what to print ---------------------------------------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _credentials(presentation: Mapping[str, Any]) -> list[dict[str, Any]]:
    vcs = [v for v in _as_list(presentation.get("verifiableCredential")) if isinstance(v, dict)]
    if not vcs:
        raise _invalid("the presentation holds no credential", "제출(presentation)에 자격증명이 없습니다")
    return vcs


def _subject(vc: Mapping[str, Any]) -> dict[str, Any]:
    subs = [s for s in _as_list(vc.get("credentialSubject")) if isinstance(s, dict)]
    return subs[0] if subs else {}


def _records(vc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One dict per career record: a certificate may list `records`, a career record is one."""
    subject = _subject(vc)
    listed = [r for r in _as_list(subject.get("records")) if isinstance(r, dict)]
    own = {k: subject[k] for k in (*ITEMS, "employer") if k in subject}
    if listed:
        # items on the subject apply to every record unless a record says otherwise
        return [{**own, **r} for r in listed]
    if any(k in own for k in ITEMS):
        return [own]
    return []


def _format_date(value: Any, lang: str) -> str:
    try:
        d = date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    return f"{d.year}. {d.month}. {d.day}." if lang == "ko" else d.strftime("%-d %b %Y")


def _format_value(key: str, value: Any, lang: str, labels: Mapping[str, str]) -> str:
    if key == "employmentPeriod" and isinstance(value, dict):
        return f"{_format_date(value.get('startDate', ''), lang)} ~ {_format_date(value.get('endDate', ''), lang)}"
    if key == "wage" and isinstance(value, dict):
        basis = labels.get(f"wage.type.{value.get('type')}", str(value.get("type", "")))
        amount = value.get("amount")
        shown = f"{amount:,}" if isinstance(amount, int) else str(amount)
        currency = str(value.get("currency", "KRW"))
        unit = labels.get(f"wage.currency.{currency}", currency)
        return f"{basis} {shown}{unit}" if lang == "ko" else f"{basis} {shown} {unit}"
    if key == "project" and isinstance(value, dict):
        return str(value.get("name", ""))
    if key == "employer" and isinstance(value, dict):
        return str(value.get("name", value.get("id", "")))
    return str(value)


def issuer_name(vc: Mapping[str, Any]) -> str:
    """The issuer's printable name: `issuer.name`, else the employer's name, else the issuer's id."""
    issuer = vc.get("issuer")
    if isinstance(issuer, dict) and isinstance(issuer.get("name"), str):
        return str(issuer["name"])
    employer = _subject(vc).get("employer")
    if isinstance(employer, dict) and isinstance(employer.get("name"), str):
        return str(employer["name"])
    return issuer if isinstance(issuer, str) else str((issuer or {}).get("id", ""))


def _issued_on(vc: Mapping[str, Any]) -> str:
    value = vc.get("validFrom") or vc.get("issuanceDate") or ""
    return str(value)


def credential_items(vc: Mapping[str, Any], lang: str = "ko", labels: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """What a person reads of one credential: (label, value) pairs, only for the items it carries."""
    import schemas

    lab: Mapping[str, str] = labels if labels is not None else schemas.labels(lang)
    subject = _subject(vc)
    out: list[tuple[str, str]] = []
    employee = subject.get("employee")
    if isinstance(employee, dict):
        if employee.get("name"):
            out.append((lab.get("employee.name", "name"), str(employee["name"])))
        if employee.get("birthDate"):
            out.append((lab.get("employee.birthDate", "birthDate"), _format_date(employee["birthDate"], lang)))
    records = _records(vc)
    if not records and isinstance(subject.get("contractPeriod"), dict):
        records = [{"employmentPeriod": subject["contractPeriod"], **{k: subject[k] for k in ITEMS if k in subject}}]
    for record in records:
        if isinstance(record.get("employer"), dict):
            out.append((lab.get("employer.name", "employer"), _format_value("employer", record["employer"], lang, lab)))
        for key in ITEMS:
            if key in record:
                out.append((lab.get("project.name" if key == "project" else key, key), _format_value(key, record[key], lang, lab)))
    return out


# --- build -----------------------------------------------------------------------------------------


def _compact(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


def _xmp(title: str, subject: str, lang: str, when: datetime) -> str:
    """PDF/A-3U identification and the document's metadata (PDF/A keeps them in XMP, not /Info).

    fpdf2 would stamp the modification date with the clock; ours is `when`, so the same inputs
    give the same bytes.
    """
    from html import escape

    stamp = when.isoformat(timespec="seconds")
    return "\n".join(
        [
            '<x:xmpmeta xmlns:x="adobe:ns:meta/">',
            ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">',
            '  <rdf:Description rdf:about=""',
            '    xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:xmp="http://ns.adobe.com/xap/1.0/"',
            '    xmlns:pdf="http://ns.adobe.com/pdf/1.3/" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"',
            f'    xmp:CreatorTool="workcred" xmp:CreateDate="{stamp}" xmp:ModifyDate="{stamp}" xmp:MetadataDate="{stamp}"',
            f'    pdf:Keywords="{LAYOUT_VERSION}" pdf:Producer="workcred (fpdf2)">',
            "   <pdfaid:part>3</pdfaid:part>",
            "   <pdfaid:conformance>U</pdfaid:conformance>",
            f'   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{escape(title)}</rdf:li></rdf:Alt></dc:title>',
            f'   <dc:description><rdf:Alt><rdf:li xml:lang="x-default">{escape(subject)}</rdf:li></rdf:Alt></dc:description>',
            f"   <dc:language><rdf:Bag><rdf:li>{lang}</rdf:li></rdf:Bag></dc:language>",
            "  </rdf:Description>",
            " </rdf:RDF>",
            "</x:xmpmeta>",
        ]
    )


def build_certificate_pdf(
    presentation: dict[str, Any],
    receipts: dict[str, Any],
    *,
    qr_url: str,
    lang: str = "ko",
    labels: Mapping[str, str] | None = None,
    qr_expires: str | None = None,
    at: datetime | None = None,
) -> bytes:
    """Render the A4 certificate of `presentation` and embed it and `receipts` as files.

    `qr_url` is the short HTTPS URL of the published presentation; `qr_expires` (ISO date-time)
    is printed under the QR; `labels` default to the workcred labels for `lang`; `at` fixes the
    PDF dates so the same inputs give the same bytes.
    """
    import segno
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos
    from fpdf.fonts import FontFace, TTFFont

    import schemas

    if lang not in TEXT:
        raise _invalid(f"unsupported language {lang!r}", f"지원하지 않는 언어입니다: {lang!r}")
    if not isinstance(presentation, dict) or "VerifiablePresentation" not in _as_list(presentation.get("type")):
        raise _invalid("a certificate embeds a VerifiablePresentation", "증명서에는 VerifiablePresentation이 들어가야 합니다")
    if not isinstance(receipts, dict):
        raise _invalid("receipts must be a JSON object keyed by credential id", "영수증은 자격증명 id를 키로 하는 JSON 객체여야 합니다")
    # plain http only for a wallet on this machine (development): 127.0.0.1 or localhost
    if not isinstance(qr_url, str) or not qr_url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise _invalid("the QR must hold an https URL", "QR에는 https 주소가 들어가야 합니다")
    if len(qr_url) > MAX_QR_URL:
        raise _invalid(f"the QR URL is longer than {MAX_QR_URL} characters", f"QR 주소가 {MAX_QR_URL}자보다 깁니다")
    text = TEXT[lang]
    lab: Mapping[str, str] = labels if labels is not None else schemas.labels(lang)
    vcs = _credentials(presentation)
    vp_bytes, receipts_bytes = _compact(presentation), _compact(receipts)
    if max(len(vp_bytes), len(receipts_bytes)) > MAX_EMBEDDED_BYTES:
        raise ResourceLimit("the presentation or receipts are too large to embed", message_ko="첨부할 제출 또는 영수증이 너무 큽니다")
    when = (at or datetime.now(UTC)).astimezone(UTC)
    # fontTools reports each NanumGothic hinting table it drops while subsetting: expected, not news
    logging.getLogger("fontTools.subset").setLevel(logging.ERROR)
    regular, bold = find_fonts()
    # every character the page can print: the fixed texts, the labels, the credentials' strings
    used_labels = [v for k, v in lab.items() if k in _PRINTED_LABELS or k.startswith("wage.")]
    chars = set(_PRINTABLE_ASCII).union(*text.values(), *used_labels, _compact(vcs).decode("utf-8"), qr_url)
    # bold sets only the title, the section heads and the issuer: a much smaller font
    headings = (text["title"], text["worker"], text["record"], text["verify_title"], lab.get("records", ""))
    bold_chars = set("0123456789 ").union(*headings, issuer_name(vcs[0]))

    pdf = FPDF(orientation="P", unit="mm", format="A4", enforce_compliance="PDF/A-3U")
    pdf.set_creation_date(when)
    pdf.set_title(text["title"])
    pdf.set_subject(text["subtitle"])
    pdf.set_creator("workcred")
    pdf.set_keywords(LAYOUT_VERSION)
    pdf.set_lang("ko-KR" if lang == "ko" else "en")
    pdf.set_xmp_metadata(_xmp(text["title"], text["subtitle"], "ko-KR" if lang == "ko" else "en", when))
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(True, margin=18)
    with tempfile.TemporaryDirectory(prefix="workcred-font-") as tmp:
        for style, path, used in (("", regular, chars), ("B", bold, bold_chars)):
            # fpdf2 reads fonts from files: hand it a subset of just this page's characters
            small = Path(tmp) / f"Nanum{style}.ttf"
            small.write_bytes(subset_font(path, used, style="Bold" if style else "Regular"))
            pdf.add_font("Nanum", style, str(small))
            # fpdf2 subsets it again on output; the outlines are unchanged, so skip re-measuring each
            added = pdf.fonts[f"nanum{style}"]
            if isinstance(added, TTFFont):
                added.ttfont.recalcBBoxes = False
    pdf.add_page()
    width = pdf.epw
    line: dict[str, Any] = {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT}

    # header: city, title, legal basis
    pdf.set_draw_color(0, 55, 123)
    pdf.set_font("Nanum", "", 10)
    pdf.set_text_color(0, 55, 123)
    pdf.cell(width, 6, text["city"], align="C", **line)
    pdf.set_text_color(20, 20, 20)
    pdf.set_font("Nanum", "B", 24)
    pdf.cell(width, 13, text["title"], align="C", **line)
    pdf.set_font("Nanum", "", 10)
    pdf.cell(width, 6, text["subtitle"], align="C", **line)
    pdf.set_line_width(0.6)
    pdf.line(20, pdf.get_y() + 3, 20 + width, pdf.get_y() + 3)
    pdf.ln(8)

    label_style = FontFace(fill_color=(238, 242, 248), color=(0, 40, 90))

    def section(title: str) -> None:
        pdf.set_font("Nanum", "B", 12)
        pdf.set_text_color(0, 55, 123)
        pdf.cell(width, 8, title, **line)
        pdf.set_text_color(20, 20, 20)

    def rows(pairs: Sequence[tuple[str, str]]) -> None:
        pdf.set_font("Nanum", "", 10.5)
        pdf.set_line_width(0.2)
        pdf.set_draw_color(170, 178, 190)
        with pdf.table(
            col_widths=(38, width - 38),
            first_row_as_headings=False,
            line_height=6.5,
            padding=(1.8, 2.5),
            text_align=("LEFT", "LEFT"),
        ) as table:
            for label, value in pairs:
                row = table.row()
                row.cell(label, style=label_style)
                row.cell(value)
        pdf.ln(4)

    # the worker: name, and birth date only when the credential carries it
    subject = _subject(vcs[0])
    employee: dict[str, Any] = subject["employee"] if isinstance(subject.get("employee"), dict) else {}
    worker: list[tuple[str, str]] = []
    if employee.get("name"):
        worker.append((lab.get("employee.name", "성명"), str(employee["name"])))
    if employee.get("birthDate"):
        worker.append((lab.get("employee.birthDate", "생년월일"), _format_date(employee["birthDate"], lang)))
    if isinstance(subject.get("purpose"), str) and subject["purpose"].strip():
        worker.append((text["purpose"], subject["purpose"].strip()))  # what the worker asked it for
    if worker:
        section(text["worker"])
        rows(worker)

    records = [r for vc in vcs for r in _records(vc)]
    for n, record in enumerate(records, 1):
        section(text["record"].format(n=n) if len(records) > 1 else lab.get("records", text["record"].format(n=n)))
        pairs = []
        if isinstance(record.get("employer"), dict):
            pairs.append((lab.get("employer.name", "employer"), _format_value("employer", record["employer"], lang, lab)))
        for key in ITEMS:
            if key in record:
                label = lab.get("project.name" if key == "project" else key, key)
                pairs.append((label, _format_value(key, record[key], lang, lab)))
        rows(pairs)

    # statement, date and issuer
    pdf.ln(2)
    pdf.set_font("Nanum", "", 11)
    pdf.cell(width, 7, text["statement"], align="C", **line)
    issued = _issued_on(vcs[0])
    pdf.cell(width, 7, _format_date(issued, lang) if issued else "", align="C", **line)
    pdf.ln(2)
    pdf.set_font("Nanum", "B", 13)
    pdf.cell(width, 8, issuer_name(vcs[0]), align="C", **line)
    pdf.set_font("Nanum", "", 9)
    pdf.set_text_color(70, 70, 70)
    pdf.cell(width, 5, text["signed"], align="C", **line)
    pdf.set_text_color(20, 20, 20)

    # the QR and how to verify, kept together at the bottom of the page
    qr_size = 38.0
    box_h = qr_size + 14
    top = max(pdf.get_y() + 6, pdf.h - 18 - box_h)
    if top + box_h > pdf.h - 10:
        pdf.add_page()
        top = pdf.get_y()
    pdf.set_line_width(0.3)
    pdf.set_draw_color(0, 55, 123)
    pdf.rect(20, top, width, box_h)
    png = io.BytesIO()
    # 3 px a module: sharp when a viewer smooths the scaled image, and quick to write
    segno.make_qr(qr_url, error="m").save(png, kind="png", scale=3, border=4)
    pdf.image(png, x=24, y=top + 4, w=qr_size, h=qr_size, alt_text="QR")
    note_x = 24 + qr_size + 5
    pdf.set_xy(note_x, top + 4)
    pdf.set_font("Nanum", "B", 11)
    pdf.set_text_color(0, 55, 123)
    pdf.cell(width - qr_size - 13, 6, text["verify_title"], new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_text_color(20, 20, 20)
    pdf.set_font("Nanum", "", 8.8)
    note_w = width - qr_size - 13
    pdf.multi_cell(note_w, 4.6, text["verify_note"], align="L", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_xy(note_x, pdf.get_y() + 1.5)
    pdf.set_font("Nanum", "", 8)
    pdf.set_text_color(70, 70, 70)
    if qr_expires:
        until = text["qr_until"].format(until=_format_date(qr_expires, lang))
        pdf.multi_cell(note_w, 4.2, until, align="L", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.multi_cell(note_w, 4.2, qr_url, align="L", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_xy(24, top + qr_size + 6)
    pdf.cell(width - 8, 5, text["attached"].format(files=f"{PRESENTATION_FILE}, {RECEIPTS_FILE}"))

    # the machine-readable part: what a verifier actually checks
    pdf.embed_file(
        bytes=vp_bytes,
        basename=PRESENTATION_FILE,
        mime_type=PRESENTATION_MEDIA_TYPE,
        associated_file_relationship="Data",
        modification_date=when,
        desc="Signed VerifiablePresentation (W3C VCDM 2.0)",
    )
    pdf.embed_file(
        bytes=receipts_bytes,
        basename=RECEIPTS_FILE,
        mime_type=RECEIPTS_MEDIA_TYPE,
        associated_file_relationship="Supplement",
        modification_date=when,
        desc="workcred registry receipts keyed by credential id",
    )
    return bytes(pdf.output())


# --- read back -------------------------------------------------------------------------------------


def _reader(data: bytes) -> Any:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    if not isinstance(data, bytes | bytearray):
        raise _invalid("a PDF is bytes", "PDF 파일이 아닙니다")
    if len(data) > MAX_PDF_BYTES:
        raise ResourceLimit(
            f"the PDF is larger than {MAX_PDF_BYTES // (1024 * 1024)} MB",
            message_ko=f"PDF 파일이 {MAX_PDF_BYTES // (1024 * 1024)}MB보다 큽니다",
        )
    if not bytes(data[:1024]).lstrip().startswith(b"%PDF-"):
        raise _invalid("not a PDF file", "PDF 파일이 아닙니다")
    try:
        return PdfReader(io.BytesIO(bytes(data)), strict=False)
    # pypdf raises many kinds on hostile input; this is the parsing boundary
    except (PyPdfError, ValueError, KeyError, TypeError, IndexError, AttributeError, OSError, RecursionError):
        raise _invalid("the PDF is damaged and cannot be read", "PDF 파일이 손상되어 읽을 수 없습니다") from None


def embedded_files(data: bytes) -> dict[str, bytes]:
    """The embedded files of a PDF by name (the first of each name), size-capped."""
    from pypdf.errors import PyPdfError

    reader = _reader(data)
    out: dict[str, bytes] = {}
    try:
        attachments = reader.attachments
        names = list(attachments.keys())[:32]
        for name in names:
            if name not in (PRESENTATION_FILE, RECEIPTS_FILE):
                continue
            contents = attachments[name]
            if contents:
                body = contents[0]
                if len(body) > MAX_EMBEDDED_BYTES:
                    raise ResourceLimit(f"the embedded file {name} is too large", message_ko=f"첨부 파일 {josa(name, '이')} 너무 큽니다")
                out[name] = body
    except (PyPdfError, ValueError, KeyError, TypeError, IndexError, AttributeError, OSError, RecursionError):
        raise _invalid("the PDF is damaged and its attached files cannot be read", "PDF 파일이 손상되어 첨부 파일을 읽을 수 없습니다") from None
    return out


def extract_from_pdf(data: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """The embedded presentation and receipts of a workcred certificate PDF; clear errors otherwise."""
    files = embedded_files(data)
    if PRESENTATION_FILE not in files:
        raise _invalid(
            f"this PDF is not a workcred certificate: it has no attached {PRESENTATION_FILE}",
            f"workcred 경력증명서가 아닙니다: 첨부 파일 {josa(PRESENTATION_FILE, '이')} 없습니다",
        )
    if RECEIPTS_FILE not in files:
        raise _invalid(
            f"the certificate has no attached {RECEIPTS_FILE}",
            f"경력증명서에 등록소 영수증 파일 {josa(RECEIPTS_FILE, '이')} 없습니다",
        )
    presentation = loader.parse_json(files[PRESENTATION_FILE])
    if not isinstance(presentation, dict) or "VerifiablePresentation" not in _as_list(presentation.get("type")):
        raise _invalid("the attached presentation is not a VerifiablePresentation", "첨부된 제출 파일이 VerifiablePresentation이 아닙니다")
    receipts = loader.parse_json(files[RECEIPTS_FILE])
    if not isinstance(receipts, dict) or not all(isinstance(k, str) and isinstance(v, dict) for k, v in receipts.items()):
        raise _invalid("the attached receipts are not an object of receipts by credential id", "첨부된 영수증 파일 형식이 잘못되었습니다")
    return presentation, receipts
