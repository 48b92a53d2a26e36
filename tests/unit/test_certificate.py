"""Certificate PDF layout v1: build, read back, render, decode the QR.

Also the builders other verifier tests reuse (`signed_presentation`, `sample_receipts`): a career
certificate signed by a did:key issuer and presented by the worker's did:key, all with agents/.
"""

from __future__ import annotations

import copy
import io
import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import schemas
from agents import certificate, dataintegrity, verify
from agents.errors import InvalidInput, ResourceLimit
from agents.keys import Ed25519KeyPair

AT = datetime(2027, 1, 15, 1, 30, tzinfo=UTC)
QR_URL = "https://wallet.workcred.seoul.go.kr/p/Xk3m9QpL2vRt"


def signed_credential(issuer: Ed25519KeyPair, holder: Ed25519KeyPair, *, name: str = "career-record", **subject: Any) -> dict[str, Any]:
    """A bundled example credential re-issued by `issuer` (did:key) about `holder`."""
    vc = schemas.example(name)
    vc["issuer"] = issuer.public.did_key
    vc.pop("credentialStatus", None)  # no status list without a registry
    vc["credentialSubject"]["id"] = holder.public.did_key
    vc["credentialSubject"]["employer"]["id"] = issuer.public.did_key
    vc["credentialSubject"].update(subject)
    return dataintegrity.sign(vc, issuer, at=AT)


def signed_presentation(
    issuer: Ed25519KeyPair | None = None,
    holder: Ed25519KeyPair | None = None,
    *,
    challenge: str = "certificate",
    domain: str = "https://wallet.workcred.seoul.go.kr",
    name: str = "career-record",
) -> dict[str, Any]:
    issuer = issuer or Ed25519KeyPair.from_seed(b"i" * 32)
    holder = holder or Ed25519KeyPair.from_seed(b"h" * 32)
    vc = signed_credential(issuer, holder, name=name)
    return verify.create_presentation([vc], holder, challenge=challenge, domain=domain, at=AT)


def sample_receipts(presentation: dict[str, Any]) -> dict[str, Any]:
    """Receipts in the registry's shape, keyed by credential id (values are not checked here)."""
    out = {}
    for i, vc in enumerate(presentation["verifiableCredential"]):
        out[vc["id"]] = {
            "origin": "registry.workcred.seoul.go.kr/log",
            "index": 41 + i,
            "type": "credential",
            "salt": "A" * 43,
            "inclusionProof": ["B" * 43, "C" * 43],
            "checkpoint": "registry.workcred.seoul.go.kr/log\n42\nAAAA\n\n— registry sig\n",
        }
    return out


@pytest.fixture(scope="module")
def presentation() -> dict[str, Any]:
    return signed_presentation()


@pytest.fixture(scope="module")
def pdf(presentation: dict[str, Any]) -> bytes:
    return certificate.build_certificate_pdf(presentation, sample_receipts(presentation), qr_url=QR_URL, qr_expires="2027-02-14T00:00:00Z", at=AT)


def test_round_trip_gives_the_same_presentation_and_receipts(presentation: dict[str, Any], pdf: bytes) -> None:
    got_vp, got_receipts = certificate.extract_from_pdf(pdf)
    assert got_vp == presentation
    assert got_receipts == sample_receipts(presentation)
    # the embedded presentation still verifies: the PDF carried the signed bytes faithfully
    report = verify.check_presentation(got_vp, resolve=_did_key_resolver(), challenge=None, domain=None, at=AT)
    assert report.verified, report.to_json()


def test_embedded_file_specs_name_media_type_and_relationship(pdf: bytes) -> None:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    names = reader.trailer["/Root"]["/Names"]["/EmbeddedFiles"]["/Names"]
    specs = {str(names[i]): names[i + 1].get_object() for i in range(0, len(names), 2)}
    assert set(specs) == {certificate.PRESENTATION_FILE, certificate.RECEIPTS_FILE}
    vp_spec, rc_spec = specs[certificate.PRESENTATION_FILE], specs[certificate.RECEIPTS_FILE]
    assert vp_spec["/AFRelationship"] == "/Data"
    assert rc_spec["/AFRelationship"] == "/Supplement"
    assert vp_spec["/EF"]["/F"].get_object()["/Subtype"] == "/application/vp+ld+json"
    assert rc_spec["/EF"]["/F"].get_object()["/Subtype"] == "/application/json"
    xmp = reader.xmp_metadata
    assert xmp is not None and xmp.pdf_keywords == certificate.LAYOUT_VERSION
    assert len(reader.pages) == 1


def test_same_inputs_same_bytes(presentation: dict[str, Any], pdf: bytes) -> None:
    again = certificate.build_certificate_pdf(presentation, sample_receipts(presentation), qr_url=QR_URL, qr_expires="2027-02-14T00:00:00Z", at=AT)
    assert again == pdf


def _page_text(pdf: bytes) -> str:
    from pypdf import PdfReader

    return PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


def test_prints_only_the_items_the_credential_carries(presentation: dict[str, Any], pdf: bytes) -> None:
    text = _page_text(pdf).replace(" ", "")
    assert "경력증명서" in text and "홍길동" in text
    assert "시급12,121원" in text
    assert "2026.3.2.~2026.11.30." in text
    assert "서울특별시디지털정책과" in text
    assert "생년월일1998.4.12." in text  # the career record carries a birth date
    # a certificate credential without position or wage prints neither
    cert = signed_presentation(name="career-certificate")
    text2 = _page_text(certificate.build_certificate_pdf(cert, {}, qr_url=QR_URL, at=AT)).replace(" ", "")
    assert "업무의내용" in text2 and "직위" not in text2 and "임금" not in text2 and "생년월일" not in text2


def test_english_layout(presentation: dict[str, Any]) -> None:
    out = certificate.build_certificate_pdf(presentation, {}, qr_url=QR_URL, lang="en", at=AT)
    text = _page_text(out)
    assert "Certificate of Employment" in text and "Hourly 12,121 KRW" in text


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils (pdftoppm) is not installed")
def test_the_printed_qr_decodes_to_the_url(pdf: bytes, tmp_path: Path) -> None:
    import zxingcpp
    from PIL import Image

    (tmp_path / "cert.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "150", str(tmp_path / "cert.pdf"), str(tmp_path / "page")], check=True, timeout=60)
    page = next(tmp_path.glob("page*.png"))
    found = zxingcpp.read_barcodes(Image.open(page))
    assert [b.text for b in found] == [QR_URL]


def test_a_pdf_without_the_files_is_refused_clearly() -> None:
    from fpdf import FPDF

    plain = FPDF()
    plain.add_page()
    with pytest.raises(InvalidInput, match="not a workcred certificate"):
        certificate.extract_from_pdf(bytes(plain.output()))


@pytest.mark.parametrize(
    "data, match",
    [
        (b"hello, not a pdf", "not a PDF"),
        (b"%PDF-1.7\n1 0 obj <<>> endobj trailer <</Root 9 0 R>>\n%%EOF", "damaged|not a workcred"),
        (b"", "not a PDF"),
    ],
)
def test_broken_input_is_a_clear_error(data: bytes, match: str) -> None:
    with pytest.raises(InvalidInput, match=match):
        certificate.extract_from_pdf(data)


def test_truncated_pdf_is_a_clear_error(pdf: bytes) -> None:
    with pytest.raises(InvalidInput):
        certificate.extract_from_pdf(pdf[: len(pdf) // 3])


def test_oversized_pdf_is_refused() -> None:
    with pytest.raises(ResourceLimit):
        certificate.extract_from_pdf(b"%PDF-1.7\n" + b"0" * (certificate.MAX_PDF_BYTES + 1))


def test_embedded_presentation_that_is_not_one_is_refused(presentation: dict[str, Any]) -> None:
    from fpdf import FPDF

    fake = FPDF()
    fake.add_page()
    fake.embed_file(bytes=json.dumps({"type": ["VerifiableCredential"]}).encode(), basename=certificate.PRESENTATION_FILE)
    fake.embed_file(bytes=b"{}", basename=certificate.RECEIPTS_FILE)
    with pytest.raises(InvalidInput, match="not a VerifiablePresentation"):
        certificate.extract_from_pdf(bytes(fake.output()))


def test_build_refuses_a_non_https_qr_and_a_credential(presentation: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput, match="https"):
        certificate.build_certificate_pdf(presentation, {}, qr_url="ftp://x.example/p", at=AT)
    with pytest.raises(InvalidInput, match="VerifiablePresentation"):
        certificate.build_certificate_pdf(copy.deepcopy(presentation["verifiableCredential"][0]), {}, qr_url=QR_URL, at=AT)


def test_missing_font_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, presentation: dict[str, Any]) -> None:
    monkeypatch.setattr(certificate, "FONT_DIRS", ("/nonexistent",))
    monkeypatch.delenv("WORKCRED_FONT_DIR", raising=False)
    with pytest.raises(certificate.FontMissing, match="fonts-nanum"):
        certificate.build_certificate_pdf(presentation, {}, qr_url=QR_URL, at=AT)


def _did_key_resolver() -> Any:
    from agents.did import Resolver

    return Resolver(methods=("key",))


# --- PDF/A-3, the embedded font subset, what tools read off the page ------------------------------------


def test_pdfa3u_identification_output_intent_and_associated_files(pdf: bytes) -> None:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    root = reader.trailer["/Root"]
    assert reader.pdf_header == "%PDF-1.7"
    xmp = reader.xmp_metadata
    assert xmp is not None
    pdfaid = "http://www.aiim.org/pdfa/ns/id/"
    assert [e.firstChild.data for e in xmp.get_element("", pdfaid, "part")] == ["3"]
    assert [e.firstChild.data for e in xmp.get_element("", pdfaid, "conformance")] == ["U"]
    assert xmp.dc_title == {"x-default": "경력증명서"}
    assert xmp.xmp_create_date == xmp.xmp_modify_date == AT.replace(tzinfo=None)  # pypdf gives naive UTC
    intent = root["/OutputIntents"][0].get_object()
    assert intent["/S"] == "/GTS_PDFA1" and len(intent["/DestOutputProfile"].get_object().get_data()) > 0
    # PDF/A-3 associated files: the catalog's /AF lists both file specifications
    af = {spec.get_object()["/F"]: spec.get_object()["/AFRelationship"] for spec in root["/AF"]}
    assert af == {certificate.PRESENTATION_FILE: "/Data", certificate.RECEIPTS_FILE: "/Supplement"}
    assert "/Info" not in reader.trailer  # PDF/A-3 keeps the metadata in XMP only


def _embedded_fonts(pdf: bytes) -> dict[str, bytes]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(pdf))
    out = {}
    for font in reader.pages[0]["/Resources"]["/Font"].values():
        descendant = font.get_object()["/DescendantFonts"][0].get_object()
        out[str(descendant["/BaseFont"])] = descendant["/FontDescriptor"]["/FontFile2"].get_object().get_data()
    return out


def test_korean_text_is_an_embedded_subset_of_nanum_gothic(pdf: bytes) -> None:
    from fontTools.ttLib import TTFont

    fonts = _embedded_fonts(pdf)
    assert sorted(name.split("+", 1)[1] for name in fonts) == ["NanumGothic", "NanumGothicBold"]
    for name, data in fonts.items():
        assert name.startswith("/MPDFAA+")  # the subset tag
        font = TTFont(io.BytesIO(data))
        # a few hundred glyphs, not NanumGothic's 20,138: only what this page draws
        assert 20 < font["maxp"].numGlyphs < 400, name
        assert len(data) < 80_000
    regular = TTFont(io.BytesIO(next(d for n, d in fonts.items() if n.endswith("NanumGothic"))))
    assert {ord(c) for c in "홍길동경력"} <= set(regular.getBestCmap())
    assert len(pdf) <= 150 * 1024


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) is not installed")
def test_pdftotext_reads_the_korean_text(pdf: bytes, tmp_path: Path) -> None:
    (tmp_path / "cert.pdf").write_bytes(pdf)
    out = subprocess.run(["pdftotext", "-layout", str(tmp_path / "cert.pdf"), "-"], check=True, timeout=60, capture_output=True, text=True).stdout
    for expected in ("경력증명서", "홍길동", "2026 서울 데이터 서포터즈", "시급 12,121원", "위와 같이 경력을 증명합니다.", QR_URL):
        assert expected in out, expected


def test_rare_syllables_and_missing_glyphs(presentation: dict[str, Any]) -> None:
    # 똠 and 햏 are outside KS X 1001 but in NanumGothic; 𠀀 (CJK Ext. B) is in no font we ship
    issuer, holder = Ed25519KeyPair.from_seed(b"i" * 32), Ed25519KeyPair.from_seed(b"h" * 32)
    vc = signed_credential(issuer, holder)
    vc_unsigned = {k: v for k, v in vc.items() if k != "proof"}
    vc_unsigned["credentialSubject"]["employee"]["name"] = "김똠햏𠀀"
    vp = verify.create_presentation([dataintegrity.sign(vc_unsigned, issuer, at=AT)], holder, challenge="c", domain="d", at=AT)
    out = certificate.build_certificate_pdf(vp, {}, qr_url=QR_URL, at=AT)
    assert "김똠햏" in _page_text(out)
    assert certificate.extract_from_pdf(out)[0] == vp


def test_the_purpose_the_worker_gave_is_printed() -> None:
    cert = signed_presentation(name="career-certificate")  # the example asks "취업 지원서 제출용"
    text = _page_text(certificate.build_certificate_pdf(cert, {}, qr_url=QR_URL, at=AT)).replace(" ", "")
    assert "용도취업지원서제출용" in text
    english = _page_text(certificate.build_certificate_pdf(cert, {}, qr_url=QR_URL, lang="en", at=AT))
    assert "Purpose" in english
