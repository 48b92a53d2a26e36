"""A PDF rendering of a contract draft for the worker to read before signing (A4, Korean or English).

Only a rendering: what the worker signs is the draft JSON (its digest is printed at the bottom).
The sections and their order are the template's (the MOEL standard form's items 1-11), the labels
and enum values are `schemas.labels(lang)`; the Korean font is the one the certificate uses
(`agents.certificate.find_fonts`), subset to the characters on the page.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import schemas
from agents._pdffont import subset_font
from agents.certificate import find_fonts

TEXT = {
    "ko": {"draft": "서명 전 초안 미리보기", "parties": "당사자", "employer": "사용자", "employee": "근로자",
           "yes": "예", "no": "아니오", "hours": "시간", "break": "휴게", "minutes": "분", "won": "원",
           "footer": "이 문서는 전자지갑에서 서명할 계약서의 미리보기입니다. 서명 대상은 아래 요약값의 전자 문서입니다.",
           "digest": "초안 요약값(SHA-256)", "id": "계약 식별자"},
    "en": {"draft": "Draft preview, not signed", "parties": "Parties", "employer": "Employer", "employee": "Worker",
           "yes": "Yes", "no": "No", "hours": "h", "break": "break", "minutes": "min", "won": "KRW",
           "footer": "A preview of the contract you sign in your wallet. What you sign is the electronic document with the digest below.",
           "digest": "Draft digest (SHA-256)", "id": "Contract id"},
}  # fmt: skip
_PARTY_FIELDS = {
    "employer": ("employer.name", "employer.representative", "employer.businessNumber", "employer.address", "employer.phone"),
    "employee": ("employee.name", "employee.birthDate", "employee.address", "employee.phone"),
}


def _get(obj: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(part)
    return obj


def _value(path: str, value: Any, lab: Mapping[str, str], t: Mapping[str, str]) -> str:
    if isinstance(value, bool):
        return lab.get(f"{path}.{str(value).lower()}", t["yes"] if value else t["no"])
    if isinstance(value, list):
        sep = "\n" if any(isinstance(v, Mapping) for v in value) else ", "  # one line per day or allowance
        return sep.join(_value(path, v, lab, t) for v in value) or "-"
    if isinstance(value, Mapping):
        if path == "dailySchedule":
            day = lab.get(f"dailySchedule.day.{value.get('day')}", str(value.get("day", "")))
            return (f"{day} {value.get('startTime', '')}~{value.get('endTime', '')} "
                    f"({value.get('hours', '')}{t['hours']}, {t['break']} {value.get('breakMinutes', '')}{t['minutes']})")  # fmt: skip
        if "name" in value and "amount" in value:
            return f"{value['name']} {value['amount']:,}{t['won']}" if isinstance(value["amount"], int) else str(value["name"])
        return ", ".join(f"{lab.get(f'{path}.{k}', k)}: {_value(f'{path}.{k}', v, lab, t)}" for k, v in value.items())
    if isinstance(value, int) and path.endswith("amount"):
        return f"{value:,}{t['won']}"
    text = str(value)
    return lab.get(f"{path}.{text}", text)


def contract_preview_pdf(draft: Mapping[str, Any], variant: str, digest: str, *, lang: str = "ko") -> bytes:
    """The A4 PDF of `draft` laid out by the `variant` template's sections."""
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos
    from fpdf.fonts import FontFace

    lang = "en" if lang == "en" else "ko"
    t, lab, template = TEXT[lang], schemas.labels(lang), schemas.template(variant)
    subject = draft.get("credentialSubject") if isinstance(draft.get("credentialSubject"), Mapping) else {}
    blocks: list[tuple[str, list[tuple[str, str]]]] = []
    for party, fields in _PARTY_FIELDS.items():
        pairs = [(lab.get(f, f), _value(f, _get(subject, f), lab, t)) for f in fields if _get(subject, f) not in (None, "")]
        blocks.append((f"{t['parties']} · {t[party]}", pairs))
    for section in template["sections"]:
        pairs = []
        for f in section["fields"]:
            value = _get(subject, f)
            if value not in (None, "", []):
                pairs.append((lab.get(f, f), _value(f, value, lab, t)))
        if pairs:
            blocks.append((f"{section['number']}. {section['title'][lang]}", pairs))
    title = template["title"][lang]
    footer = [t["footer"], f"{t['id']}: {draft.get('id', '')}", f"{t['digest']}: {digest}"]
    chars = set("".join([title, t["draft"], *footer, *(h for h, _ in blocks), *(a + b for _, ps in blocks for a, b in ps)]))
    chars |= {chr(c) for c in range(0x20, 0x7F)}
    logging.getLogger("fontTools.subset").setLevel(logging.ERROR)
    regular, bold = find_fonts()
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_title(title)
    pdf.set_creator("workcred")
    pdf.set_lang("ko-KR" if lang == "ko" else "en")
    pdf.set_margins(18, 16, 18)
    pdf.set_auto_page_break(True, margin=16)
    with tempfile.TemporaryDirectory(prefix="workcred-font-") as tmp:
        for style, path in (("", regular), ("B", bold)):
            small = Path(tmp) / f"Nanum{style}.ttf"
            small.write_bytes(subset_font(path, chars, style="Bold" if style else "Regular"))
            pdf.add_font("Nanum", style, str(small))
        pdf.add_page()
        width = pdf.epw
        line: dict[str, Any] = {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT}
        pdf.set_font("Nanum", "B", 18)
        pdf.cell(width, 11, title, align="C", **line)
        pdf.set_font("Nanum", "", 10)
        pdf.set_text_color(170, 40, 40)
        pdf.cell(width, 6, t["draft"], align="C", **line)
        pdf.set_text_color(20, 20, 20)
        pdf.ln(3)
        label_style = FontFace(fill_color=(238, 242, 248), color=(0, 40, 90))
        for heading, pairs in blocks:
            pdf.set_font("Nanum", "B", 11)
            pdf.set_text_color(0, 55, 123)
            pdf.cell(width, 7, heading, **line)
            pdf.set_text_color(20, 20, 20)
            pdf.set_font("Nanum", "", 9.5)
            pdf.set_draw_color(170, 178, 190)
            with pdf.table(col_widths=(42, width - 42), first_row_as_headings=False, line_height=5.5,
                           padding=(1.2, 2), text_align=("LEFT", "LEFT")) as table:  # fmt: skip
                for label, value in pairs:
                    row = table.row()
                    row.cell(label, style=label_style)
                    row.cell(value)
            pdf.ln(2)
        pdf.ln(2)
        pdf.set_font("Nanum", "", 8.5)
        for text in footer:
            pdf.multi_cell(width, 4.5, text, **line)
        return bytes(pdf.output())
