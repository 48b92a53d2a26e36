"""Chromium's fake camera in tests: a still scene with a QR code, played as a Y4M video
(`--use-file-for-fake-video-capture`). Used by the verifier's and the wallet's camera pages."""

from __future__ import annotations

import io
from pathlib import Path

import segno
from PIL import Image


def write_y4m(path: Path, image: Image.Image, frames: int = 15) -> None:
    """A Y4M (YUV4MPEG2, 4:2:0) video showing `image` still: what Chromium's fake camera plays."""
    w, h = (image.width // 2) * 2, (image.height // 2) * 2
    ycbcr = image.convert("RGB").resize((w, h)).convert("YCbCr")
    y, cb, cr = ycbcr.split()
    cb, cr = cb.resize((w // 2, h // 2)), cr.resize((w // 2, h // 2))
    frame = b"FRAME\n" + y.tobytes() + cb.tobytes() + cr.tobytes()
    with path.open("wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F10:1 Ip A1:1 C420jpeg\n".encode("ascii"))
        for _ in range(frames):
            f.write(frame)


def qr_scene(text: str) -> Image.Image:
    """A 640×480 camera view with a printed QR in the middle."""
    buf = io.BytesIO()
    segno.make_qr(text, error="m").save(buf, kind="png", scale=8, border=4)
    qr = Image.open(buf).convert("RGB")
    scene = Image.new("RGB", (640, 480), (120, 110, 100))
    scene.paste(qr, ((640 - qr.width) // 2, (480 - qr.height) // 2))
    return scene
