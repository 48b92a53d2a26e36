"""The verifier's ways in: QR photos, certificate PDFs, pasted JSON, and links to the city's hosts only."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import segno
from PIL import Image, ImageDraw, ImageFilter

from agents import certificate
from agents.errors import FetchError, InvalidInput, ResourceLimit
from tests.unit.test_certificate import AT, sample_receipts, signed_presentation
from verifier import intake


def qr_photo(text: str, *, angle: float = 0, scale: int = 6, size: tuple[int, int] = (900, 700), fmt: str = "PNG") -> bytes:
    """A QR on a grey desk, scaled, rotated and slightly blurred: what a phone photo roughly looks like."""
    buf = io.BytesIO()
    segno.make_qr(text, error="m").save(buf, kind="png", scale=scale, border=4)
    qr = Image.open(buf).convert("L").rotate(angle, expand=True, fillcolor=255)
    canvas = Image.new("L", size, 150)
    ImageDraw.Draw(canvas).rectangle((20, 20, size[0] - 20, size[1] - 20), fill=200)
    canvas.paste(qr, ((size[0] - qr.width) // 2, (size[1] - qr.height) // 2))
    out = io.BytesIO()
    canvas.convert("RGB").filter(ImageFilter.GaussianBlur(0.8)).save(out, fmt)
    return out.getvalue()


class _Published(BaseHTTPRequestHandler):
    body: bytes = b""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        if self.path != "/p/abc123":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/vp+ld+json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass


@pytest.fixture(scope="module")
def presentation() -> dict[str, Any]:
    return signed_presentation()


@pytest.fixture(scope="module")
def wallet(presentation: dict[str, Any]) -> Iterator[str]:
    """A stand-in for the wallet's publication host: serves the presentation envelope on 127.0.0.1."""
    handler = type("H", (_Published,), {"body": json.dumps({"verifiablePresentation": presentation, "receipts": sample_receipts(presentation)}).encode()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def follower(wallet: str) -> Iterator[intake.LinkFollower]:
    f = intake.LinkFollower([wallet], dev=True)
    yield f
    f.close()


@pytest.mark.parametrize("angle, scale, fmt", [(0, 6, "PNG"), (17, 4, "PNG"), (90, 8, "JPEG"), (-35, 5, "JPEG")])
def test_qr_in_a_photo_decodes(angle: float, scale: int, fmt: str) -> None:
    url = "https://wallet.workcred.seoul.go.kr/p/Xk3m9QpL2vRt"
    assert intake.decode_qr_image(qr_photo(url, angle=angle, scale=scale, fmt=fmt)) == url


def test_photo_upload_follows_the_city_link(wallet: str, follower: intake.LinkFollower, presentation: dict[str, Any]) -> None:
    url = f"http://{wallet}/p/abc123"
    got = intake.from_upload(qr_photo(url, angle=12), follower)
    assert got.kind == "presentation" and got.source == "image" and got.url == url
    assert got.document == presentation
    assert got.receipts == sample_receipts(presentation)


def test_qr_to_another_site_is_refused_before_any_request(follower: intake.LinkFollower) -> None:
    with pytest.raises(intake.UntrustedLink, match="another site") as err:
        intake.from_upload(qr_photo("https://evil.example/p/abc123"), follower)
    assert "다른 사이트" in err.value.diagnostics("ko")
    # same host, other port: still not the city's wallet
    with pytest.raises(intake.UntrustedLink):
        intake.from_qr_text("http://127.0.0.1:1/p/abc123", follower)


def test_expired_publication_is_a_clear_error(wallet: str, follower: intake.LinkFollower) -> None:
    with pytest.raises(FetchError, match="expired"):
        intake.from_qr_text(f"http://{wallet}/p/gone", follower)


def test_qr_without_a_link_is_refused(follower: intake.LinkFollower) -> None:
    with pytest.raises(InvalidInput, match="does not hold a link"):
        intake.from_upload(qr_photo("WIFI:S:office;T:WPA;P:secret;;"), follower)


def test_image_without_qr_is_a_clear_error(follower: intake.LinkFollower) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (400, 300), (200, 180, 160)).save(buf, "PNG")
    with pytest.raises(InvalidInput, match="no QR code"):
        intake.from_upload(buf.getvalue(), follower)


def test_certificate_pdf_gives_the_embedded_presentation(follower: intake.LinkFollower, presentation: dict[str, Any]) -> None:
    pdf = certificate.build_certificate_pdf(presentation, sample_receipts(presentation), qr_url="https://evil.example/p/x", at=AT)
    got = intake.from_upload(pdf, follower)  # the embedded files win: the QR is not even followed
    assert (got.kind, got.source, got.document, got.receipts) == ("presentation", "pdf", presentation, sample_receipts(presentation))


def test_pdf_with_only_a_qr_image_follows_it(wallet: str, follower: intake.LinkFollower, presentation: dict[str, Any]) -> None:
    from fpdf import FPDF

    scan = FPDF()
    scan.add_page()
    scan.image(io.BytesIO(qr_photo(f"http://{wallet}/p/abc123")), x=20, y=20, w=120)
    got = intake.from_upload(bytes(scan.output()), follower)
    assert got.kind == "presentation" and got.document == presentation


@pytest.mark.parametrize(
    "data, error, match",
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <</Type /Catalog>> endobj\ngarbage", InvalidInput, "damaged|no workcred"),
        (b"%PDF-", InvalidInput, "damaged|no workcred"),
        (b"MZ\x90\x00 a windows program", intake.UnsupportedMedia, "only|PDF"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, InvalidInput, "damaged"),
        (b"", InvalidInput, "empty"),
    ],
)
def test_broken_uploads_are_clear_4xx(follower: intake.LinkFollower, data: bytes, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match) as err:
        intake.from_upload(data, follower)
    assert 400 <= err.value.http_status < 500  # type: ignore[attr-defined]


def test_file_name_is_never_trusted(follower: intake.LinkFollower) -> None:
    # a PNG sent as "certificate.pdf" is still a PNG: only the bytes decide
    assert intake.sniff(qr_photo("https://x.example/")) == "png"


def test_oversize_uploads_are_refused(follower: intake.LinkFollower) -> None:
    with pytest.raises(ResourceLimit, match="larger than 10 MB"):
        intake.from_upload(b"\x89PNG\r\n\x1a\n" + b"\x00" * intake.MAX_IMAGE_BYTES, follower)
    with pytest.raises(ResourceLimit, match="larger than 5 MB"):
        intake.from_upload(b"%PDF-1.7\n" + b"\x00" * intake.MAX_PDF_BYTES, follower)
    with pytest.raises(ResourceLimit):
        intake.from_paste("{" + " " * intake.MAX_PASTE_BYTES + "}")


def test_decompression_bomb_is_refused_unopened(follower: intake.LinkFollower) -> None:
    buf = io.BytesIO()
    Image.new("1", (20000, 20000), 1).save(buf, "PNG")  # 400 megapixels in a small file
    assert len(buf.getvalue()) < intake.MAX_IMAGE_BYTES
    with pytest.raises(ResourceLimit, match="too large"):
        intake.from_upload(buf.getvalue(), follower)


def test_paste_credential_presentation_and_vc_api_body(presentation: dict[str, Any]) -> None:
    vc = presentation["verifiableCredential"][0]
    assert intake.from_paste(json.dumps(vc)).kind == "credential"
    assert intake.from_paste(json.dumps(presentation)).kind == "presentation"
    wrapped = intake.from_paste(json.dumps({"verifiableCredential": vc, "options": {}}))
    assert wrapped.kind == "credential" and wrapped.document == vc


@pytest.mark.parametrize(
    "text, match",
    [("", "nothing was pasted"), ("{not json", "JSON"), ('{"type": ["Thing"]}', "neither"), ("[1, 2]", "JSON object")],
)
def test_paste_errors_are_clear(text: str, match: str) -> None:
    with pytest.raises(InvalidInput, match=match):
        intake.from_paste(text)


def test_pasted_link_goes_through_the_allow_list(follower: intake.LinkFollower) -> None:
    with pytest.raises(intake.UntrustedLink):
        intake.from_paste("https://evil.example/p/abc123", follower)


def test_trusted_hosts_from_configuration() -> None:
    assert intake.trusted_hosts({"trusted_hosts": "wallet.workcred.seoul.go.kr, *.seoul.go.kr"}, dev=False) == (
        "wallet.workcred.seoul.go.kr",
        "*.seoul.go.kr",
    )
    assert intake.trusted_hosts({}, dev=True) == intake.DEV_TRUSTED_HOSTS
    assert intake.trusted_hosts({}, dev=False) == ()
