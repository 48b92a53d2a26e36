"""The ways a document reaches the verifier: an uploaded certificate PDF or photo, a scanned QR, pasted JSON.

Everything here is the hostile-input boundary: sizes are capped before parsing, the file type is
sniffed from its bytes (never the name or the browser's content type), images are refused before
decoding when their pixel count is too large, and a QR is followed only when it points to one of
the city's own hosts (`WORKCRED_VERIFIER_TRUSTED_HOSTS`), through `agents.fetcher.Fetcher`.
The result is an `Intake`: the credential or presentation to verify, the receipts that came with
it, and where it came from. Verifying is the service's job, not this module's.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from agents import certificate, document, loader
from agents.document import Presentation, Submission
from agents.errors import FetchError, InvalidInput, ResourceLimit
from agents.fetcher import Fetcher, HostRule
from agents.korean import josa

__all__ = [
    "DEV_TRUSTED_HOSTS",
    "MAX_IMAGE_BYTES",
    "MAX_IMAGE_PIXELS",
    "MAX_PASTE_BYTES",
    "MAX_PDF_BYTES",
    "Intake",
    "LinkFollower",
    "UnsupportedMedia",
    "UntrustedLink",
    "as_list",
    "decode_qr_image",
    "from_paste",
    "from_qr_text",
    "from_upload",
    "sniff",
    "trusted_hosts",
]

MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_PDF_BYTES = certificate.MAX_PDF_BYTES  # 5 MB
MAX_PASTE_BYTES = loader.DEFAULT_LIMITS.max_bytes  # the real limit: what the one parser takes (256 KB)
MAX_FETCH_BYTES = 1024 * 1024
#: a 12-megapixel phone photo fits; a decompression bomb (a tiny file of huge dimensions) does not
MAX_IMAGE_PIXELS = 40_000_000
MAX_PDF_IMAGES = 24
MAX_PDF_PAGES = 3
#: the QR decoder works on at most this many pixels per side (phone photos are scaled down)
DECODE_SIDE = 2400
#: the wallet on this machine, for development (`make run`)
DEV_TRUSTED_HOSTS = ("127.0.0.1:8702", "localhost:8702")
PUBLISHED_MEDIA_TYPES = ("application/vp+ld+json", "application/json", "application/*+json")

Kind = Literal["credential", "presentation"]
Media = Literal["pdf", "png", "jpeg", "gif", "webp", "json"]


class UntrustedLink(InvalidInput):
    """A QR or link that points somewhere other than the city's own hosts."""

    code = "untrusted-link"


class UnsupportedMedia(InvalidInput):
    """An upload that is neither a PDF nor a PNG/JPEG/GIF/WebP image."""

    code = "unsupported-media"
    http_status = 415


def _invalid(en: str, ko: str) -> InvalidInput:
    return InvalidInput(en, message_ko=ko)


@dataclass(frozen=True)
class Intake:
    """A document ready for the verifier (through the one parse step), and where it came from."""

    submission: Submission
    source: str = "paste"  # paste, pdf, image, qr, file
    url: str | None = None

    @property
    def kind(self) -> Kind:
        return "presentation" if isinstance(self.submission.document, Presentation) else "credential"

    @property
    def document(self) -> dict[str, Any]:
        """The JSON as it came (a presentation without its receipts envelope): what the page shows."""
        return self.submission.document.raw

    @property
    def receipts(self) -> dict[str, Any]:
        return dict(self.submission.receipts)


# --- sniffing --------------------------------------------------------------------------------------


def sniff(data: bytes) -> Media:
    """The type of `data` from its first bytes; never from a file name or a declared content type."""
    head = bytes(data[:16])
    if bytes(data[:1024]).lstrip().startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if bytes(data[:64]).lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"["):
        return "json"
    raise UnsupportedMedia(
        "the file is not a PDF, an image (PNG, JPEG, GIF, WebP) or JSON",
        message_ko="PDF, 이미지(PNG, JPEG, GIF, WebP) 또는 JSON 파일만 올릴 수 있습니다",
    )


# --- QR codes --------------------------------------------------------------------------------------


_PIL_FORMATS = {"png": "PNG", "jpeg": "JPEG", "gif": "GIF", "webp": "WEBP"}


def _open_image(data: bytes, media: Media) -> Any:
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            # Pillow's own bomb guard (MAX_IMAGE_PIXELS) warns, then raises: both mean "refuse"
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img: Image.Image = Image.open(io.BytesIO(data), formats=[_PIL_FORMATS[media]])
        width, height = img.size
        # check the declared size before any pixel is decoded: a bomb is refused unopened
        if width * height > MAX_IMAGE_PIXELS:
            raise ResourceLimit(
                f"the image is too large ({width}×{height} pixels)",
                message_ko=f"이미지 해상도가 너무 큽니다 ({width}×{height})",
            )
        img.load()
        img = ImageOps.exif_transpose(img) or img  # a phone photo taken sideways
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ResourceLimit("the image is too large (pixels)", message_ko="이미지 해상도가 너무 큽니다") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise _invalid("the image is damaged and cannot be read", "이미지 파일이 손상되어 읽을 수 없습니다") from None
    return img


def _qr_texts(img: Any) -> list[str]:
    import zxingcpp

    img = img.convert("L")
    if max(img.size) > DECODE_SIDE:
        img.thumbnail((DECODE_SIDE, DECODE_SIDE))
    found = zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode))
    return [b.text for b in found if b.valid and b.text]


def decode_qr_image(data: bytes) -> str:
    """The text of the QR code in a photo or screenshot (PNG, JPEG, GIF, WebP)."""
    if len(data) > MAX_IMAGE_BYTES:
        raise _too_large("image", MAX_IMAGE_BYTES)
    media = sniff(data)
    if media not in _PIL_FORMATS:
        raise UnsupportedMedia("not an image", message_ko="이미지 파일이 아닙니다")
    texts = _qr_texts(_open_image(data, media))
    if not texts:
        raise _invalid(
            "no QR code was found in the image; take the photo closer, straight on and in focus",
            "이미지에서 QR 코드를 찾지 못했습니다. QR 코드가 화면에 크고 선명하게 나오도록 다시 찍어 주세요",
        )
    return texts[0]


def _pdf_qr_texts(data: bytes) -> list[str]:
    """QR codes in the images embedded in the first pages of a PDF (no page rendering)."""
    from PIL import Image
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    texts: list[str] = []
    seen = 0
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        for page in reader.pages[:MAX_PDF_PAGES]:
            resources = page.get("/Resources")
            xobjects = resources.get_object().get("/XObject") if resources is not None else None
            sizes = {}
            for name, ref in (xobjects.get_object().items() if xobjects is not None else []):
                xobj = ref.get_object()
                if xobj.get("/Subtype") == "/Image":
                    sizes[str(name)] = int(xobj.get("/Width", 0)) * int(xobj.get("/Height", 0))
            for name, pixels in sizes.items():
                seen += 1
                if seen > MAX_PDF_IMAGES:
                    return texts
                if not 0 < pixels <= MAX_IMAGE_PIXELS:
                    continue  # never decode a bomb; a real QR image is small
                img = page.images[name].image  # decoded only now, after the size check
                if isinstance(img, Image.Image):
                    texts.extend(_qr_texts(img))
    except (PyPdfError, ValueError, KeyError, TypeError, IndexError, AttributeError, OSError, RecursionError):
        raise _invalid("the PDF is damaged and cannot be read", "PDF 파일이 손상되어 읽을 수 없습니다") from None
    return texts


# --- following a QR link ---------------------------------------------------------------------------


def trusted_hosts(extra: Mapping[str, str], *, dev: bool) -> tuple[str, ...]:
    """The city's own hosts, `WORKCRED_VERIFIER_TRUSTED_HOSTS` (comma-separated `host[:port]` or
    `*.suffix`), else in development the local wallet. The verifier fetches DID documents, status lists
    and published presentations (QR links) only from these and its registry's host.
    `ALLOW_HOSTS`, the older name of the fetcher's half of this list, is still read."""
    listed: list[str] = []
    for name in ("trusted_hosts", "allow_hosts"):
        for h in (extra.get(name) or "").split(","):
            if h.strip() and h.strip() not in listed:
                listed.append(h.strip())
    if listed:
        return tuple(listed)
    return DEV_TRUSTED_HOSTS if dev else ()


class LinkFollower:
    """Fetch a presentation a holder published, only from the city's own hosts."""

    def __init__(self, hosts: Iterable[str], *, dev: bool = False, fetcher: Fetcher | None = None) -> None:
        self.hosts = tuple(hosts)
        self._rules = tuple(HostRule.parse(h) for h in self.hosts)
        self.fetcher = fetcher or Fetcher(self.hosts, allow_http_loopback=dev, max_bytes=MAX_FETCH_BYTES, default_ttl=0, max_ttl=0)

    def check(self, url: str) -> None:
        """Refuse a link to any other site, with a message that says so plainly."""
        try:
            self.fetcher.check_url(url)
        except FetchError as e:
            if "allow-list" in e.message or "IP address" in e.message:
                host = str(e.details.get("host") or "")
                raise UntrustedLink(
                    f"this QR code points to another site ({host or url}), not to a City of Seoul service; it was not opened",
                    message_ko=f"이 QR 코드는 서울시 서비스가 아닌 다른 사이트({host or url})를 가리킵니다. 열지 않았습니다",
                ) from None
            raise UntrustedLink(e.message, message_ko=e.message_ko) from None

    def follow(self, url: str) -> Intake:
        """GET the published presentation: a VP, or `{"verifiablePresentation": VP, "receipts": {...}}`."""
        self.check(url)
        try:
            body = self.fetcher.get_bytes(url, accept=PUBLISHED_MEDIA_TYPES)
        except FetchError as e:
            raise FetchError(
                f"the published presentation could not be fetched: {e.message}. It may have expired; ask the worker for a new QR",
                message_ko=f"게시된 증명을 가져오지 못했습니다: {e.message_ko}. 게시 기간이 지났을 수 있으니 근로자에게 새 QR을 요청하세요",
            ) from None
        return Intake(document.parse(body), "qr", url)

    def close(self) -> None:
        self.fetcher.close()


def from_qr_text(text: str, follower: LinkFollower) -> Intake:
    """A scanned QR: a link to a published presentation (only the city's hosts)."""
    text = (text or "").strip()
    if not text.lower().startswith(("https://", "http://")):
        raise _invalid(
            "the QR code does not hold a link to a workcred presentation",
            "QR 코드에 workcred 증명 주소가 들어 있지 않습니다",
        )
    return follower.follow(text)


# --- the three ways in -----------------------------------------------------------------------------


def as_list(value: Any) -> list[Any]:
    """A JSON-LD member that may be one value or many, as a list (absent: empty)."""
    return value if isinstance(value, list) else [value] if value is not None else []


def from_paste(text: str | bytes, follower: LinkFollower | None = None) -> Intake:
    """Pasted JSON (a credential, a presentation, or a VC-API body), or a pasted link."""
    raw = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    if len(raw) > MAX_PASTE_BYTES:
        raise _too_large("text", MAX_PASTE_BYTES)
    stripped = raw.strip()
    if not stripped:
        raise _invalid("nothing was pasted", "붙여 넣은 내용이 없습니다")
    if stripped[:1] not in (b"{", b"[") and follower is not None and stripped.lower().startswith((b"https://", b"http://")):
        return from_qr_text(stripped.decode("utf-8", "replace"), follower)
    return Intake(document.parse(stripped), "paste")  # the one parse step (a VC-API body is fine too)


def from_upload(data: bytes, follower: LinkFollower) -> Intake:
    """An uploaded certificate PDF, a photo or screenshot of its QR, or a JSON file."""
    if not data:
        raise _invalid("the file is empty", "빈 파일입니다")
    media = sniff(data)
    if media == "pdf":
        if len(data) > MAX_PDF_BYTES:
            raise _too_large("pdf", MAX_PDF_BYTES)
        files = certificate.embedded_files(data)
        if certificate.PRESENTATION_FILE in files:
            vp, receipts = certificate.extract_from_pdf(data)  # parsed by the loader, within its bounds
            return Intake(Submission(Presentation.parse(vp), {}, receipts), "pdf")
        # not our layout: perhaps a scan of a printed certificate, whose QR is an image in the PDF
        for text in _pdf_qr_texts(data):
            if text.lower().startswith(("https://", "http://")):
                return from_qr_text(text, follower)
        raise _invalid(
            "this PDF holds no workcred certificate: neither the attached presentation nor a QR code was found",
            "이 PDF에는 workcred 경력증명서가 없습니다: 첨부된 증명 파일도 QR 코드도 찾지 못했습니다",
        )
    if media == "json":
        if len(data) > MAX_PASTE_BYTES:
            raise _too_large("text", MAX_PASTE_BYTES)
        return Intake(from_paste(data).submission, "file")
    if len(data) > MAX_IMAGE_BYTES:
        raise _too_large("image", MAX_IMAGE_BYTES)
    intake = from_qr_text(decode_qr_image(data), follower)
    return Intake(intake.submission, "image", intake.url)


def _too_large(what: str, limit: int) -> ResourceLimit:
    shown = shown_size(limit)
    names = {"image": ("image", "이미지"), "pdf": ("PDF", "PDF 파일"), "text": ("pasted text", "붙여 넣은 내용")}
    en, ko = names[what]
    return ResourceLimit(
        f"The {en} is larger than {shown}, the limit. Make it {shown} or smaller and try again.",
        message_ko=f"{josa(ko, '이')} {shown}보다 큽니다. {shown} 이하로 줄여서 다시 시도하세요.",
        limit=limit,
    )


def shown_size(limit: int) -> str:
    """A byte limit as a person reads it: 256 KB, 10 MB."""
    if limit >= 1024 * 1024:
        return f"{limit / (1024 * 1024):g} MB"
    return f"{limit / 1024:g} KB"
