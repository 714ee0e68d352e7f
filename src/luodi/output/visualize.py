"""Side-by-side pictures of OCR results: the page with its text boxes, and the text drawn where it was read.

Left half: the page with every line's polygon outlined and lightly filled. Right half: a white
panel with each line's polygon and its recognised text drawn inside it, in a CJK font, so a
person can see at a glance which box produced which text and where recognition went wrong.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from luodi.errors import OutputError
from luodi.ocr.result import Document, Line, Page

logger = logging.getLogger(__name__)

FontFile = tuple[str, int]  # (path, face index inside a .ttc collection)

# Known locations first (fast, deterministic); fontconfig is asked only when none exists.
# Face 2 of Noto Sans CJK's collection is the Simplified Chinese one.
_KNOWN_CJK_FONTS: tuple[FontFile, ...] = (
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
    ("/System/Library/Fonts/PingFang.ttc", 0),
    ("/System/Library/Fonts/STHeiti Medium.ttc", 0),
    ("C:/Windows/Fonts/msyh.ttc", 0),
    ("C:/Windows/Fonts/simhei.ttf", 0),
)

# A few distinct, saturated colours that stay visible on paper-white and on photos.
_PALETTE: tuple[tuple[int, int, int], ...] = (
    (230, 25, 75),
    (60, 180, 75),
    (0, 130, 200),
    (245, 130, 48),
    (145, 30, 180),
    (70, 170, 170),
    (240, 50, 230),
    (128, 128, 0),
)

_FONT_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def find_cjk_font() -> FontFile | None:
    """A font file that has Chinese glyphs, or ``None`` when the machine has none.

    Looks in the usual Debian/Fedora/macOS/Windows places, then asks fontconfig for a font
    covering ``zh-cn``.
    """
    for path, index in _KNOWN_CJK_FONTS:
        if os.path.isfile(path):
            return path, index
    return _fontconfig_cjk_font()


def _fontconfig_cjk_font() -> FontFile | None:
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        return None
    try:
        # fc-match always answers with *some* font; :lang=zh-cn makes coverage the deciding criterion,
        # and the lang check below rejects a non-CJK fallback such as DejaVu.
        answer = subprocess.run(
            [fc_match, "-f", "%{file}\\n%{index}\\n%{lang}", ":lang=zh-cn"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    parts = answer.split("\n", 2)
    if len(parts) != 3 or "zh-cn" not in parts[2].strip().split("|"):
        return None
    path, index = parts[0], parts[1]
    if not os.path.isfile(path):
        return None
    return path, int(index) if index.isdigit() else 0


@lru_cache(maxsize=128)
def _font(size: int, font_file: FontFile | None) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if font_file is None:
        return ImageFont.load_default(size)
    # BASIC layout: Chinese needs no shaping, and libraqm (when present) rejects some control text.
    return ImageFont.truetype(font_file[0], size, index=font_file[1], layout_engine=ImageFont.Layout.BASIC)


def _resolve_font_file(font_path: str | os.PathLike[str] | None) -> FontFile | None:
    if font_path is not None:
        if not os.path.isfile(font_path):
            raise OutputError(f"font file {os.fspath(font_path)} does not exist")
        return os.fspath(font_path), 0
    found = find_cjk_font()
    if found is None:
        _warn_no_cjk_font()
    return found


@lru_cache(maxsize=1)
def _warn_no_cjk_font() -> None:
    logger.warning(
        "no CJK font found (install fonts-noto-cjk or fonts-wqy-microhei); "
        "visualisations fall back to Pillow's default font and Chinese text shows as boxes"
    )


def render_visualization(
    page_image: np.ndarray,
    page: Page,
    *,
    font_path: str | os.PathLike[str] | None = None,
) -> Image.Image:
    """The page with its line boxes (left) next to the recognised text drawn at those boxes (right).

    ``page_image`` is the RGB ``uint8`` page the lines were read from (``H x W x 3``); the result
    is an RGB image of ``2W x H``. ``font_path`` picks the font for the text; by default a CJK
    font is found on the machine (see :func:`find_cjk_font`).
    """
    if page_image.ndim != 3 or page_image.shape[2] != 3 or page_image.dtype != np.uint8:
        raise ValueError(f"page_image must be an H x W x 3 uint8 array, got {page_image.dtype} {page_image.shape}")
    height, width = int(page_image.shape[0]), int(page_image.shape[1])
    font_file = _resolve_font_file(font_path)
    stroke = max(1, round(min(width, height) / 400))

    left = Image.fromarray(np.ascontiguousarray(page_image), "RGB")
    overlay = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    shade = ImageDraw.Draw(overlay)
    right = Image.new("RGB", (width, height), (255, 255, 255))
    panel = ImageDraw.Draw(right)

    for number, line in enumerate(page.lines):
        color = _PALETTE[number % len(_PALETTE)]
        polygon = [(float(x), float(y)) for x, y in line.box]
        shade.polygon(polygon, fill=(*color, 60), outline=(*color, 255), width=stroke)
        panel.polygon(polygon, outline=color, width=max(1, stroke // 2))
        _draw_text(panel, line, font_file)

    left = Image.alpha_composite(left.convert("RGBA"), overlay).convert("RGB")
    canvas = Image.new("RGB", (width * 2, height), (255, 255, 255))
    canvas.paste(left, (0, 0))
    canvas.paste(right, (width, 0))
    return canvas


def _draw_text(draw: ImageDraw.ImageDraw, line: Line, font_file: FontFile | None) -> None:
    text = "".join(ch if ch.isprintable() else " " for ch in line.text).strip()
    if not text:
        return
    xs = [p[0] for p in line.box]
    ys = [p[1] for p in line.box]
    x0, y0 = min(xs), min(ys)
    box_w, box_h = max(xs) - x0, max(ys) - y0
    if box_w < 1 or box_h < 1:
        return
    with _FONT_LOCK:  # FreeType faces are shared through the cache and are not thread-safe
        if box_h > 1.5 * box_w and len(text) > 1:
            # A tall box holds vertical text: stack the characters top to bottom.
            size = max(6, int(min(box_w * 0.9, box_h / len(text) * 0.95)))
            font = _font(size, font_file)
            step = box_h / len(text)
            for i, char in enumerate(text):
                draw.text((x0 + box_w / 2, y0 + step * (i + 0.5)), char, fill=(20, 20, 20), font=font, anchor="mm")
            return
        unit = _font(100, font_file).getlength(text) / 100.0  # text width per pixel of font size
        size = int(min(box_h * 0.8, box_w * 0.98 / unit if unit > 0 else box_h))
        font = _font(max(6, size), font_file)
        draw.text((x0 + 1, y0 + box_h / 2), text, fill=(20, 20, 20), font=font, anchor="lm")


class VisualizationWriter:
    """Saves visualisations of many documents into one folder without name clashes.

    Files are named ``<stem>_p<K>.png`` with K counting pages from 1. Two inputs with the same
    file name from different folders (``a/scan.jpg``, ``b/scan.jpg``) get ``scan`` and ``scan-2``
    rather than overwriting each other.
    """

    def __init__(self, out_dir: str | os.PathLike[str], *, font_path: str | os.PathLike[str] | None = None) -> None:
        self.out_dir = Path(out_dir)
        self._font_path = font_path
        self._stems: set[str] = set()
        self._lock = threading.Lock()

    def save(self, doc: Document, page_images: Sequence[np.ndarray], *, stem: str | None = None) -> list[Path]:
        if len(page_images) != len(doc.pages):
            raise ValueError(f"{len(page_images)} page images for a document of {len(doc.pages)} pages")
        base = stem or (Path(doc.source).stem if doc.source else "input")
        with self._lock:
            unique, n = base, 1
            while unique in self._stems:
                n += 1
                unique = f"{base}-{n}"
            self._stems.add(unique)
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create {self.out_dir}: {exc.strerror or exc}") from exc
        written = []
        for image, page in zip(page_images, doc.pages, strict=True):
            target = self.out_dir / f"{unique}_p{page.index + 1}.png"
            picture = render_visualization(image, page, font_path=self._font_path)
            try:
                picture.save(target, format="PNG")
            except OSError as exc:
                raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from exc
            written.append(target)
        return written


def save_visualizations(
    doc: Document,
    page_images: Sequence[np.ndarray],
    out_dir: str | os.PathLike[str],
    *,
    stem: str | None = None,
    font_path: str | os.PathLike[str] | None = None,
) -> list[Path]:
    """Write ``<stem>_p<K>.png`` (K from 1) for each page of ``doc`` into ``out_dir``; returns the paths.

    ``stem`` defaults to the source's file name without extension (``input`` for bytes/arrays).
    For many documents into one folder use :class:`VisualizationWriter`, which avoids clashes.
    """
    return VisualizationWriter(out_dir, font_path=font_path).save(doc, page_images, stem=stem)
