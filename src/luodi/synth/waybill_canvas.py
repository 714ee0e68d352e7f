"""Drawing helpers for synthetic waybill pages: font families (over :mod:`luodi.synth.fonts`), text,
wrapping, boxes, dashed rules and a fake barcode (bars drawn as rectangles, not a decodable symbology)."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from luodi.synth.fonts import FONT_DIRS, Font, available_fonts

Color = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class FontFamily:
    """A regular face and, where one is installed, its bold face (else bold is drawn with a stroke)."""

    name: str
    regular: Font
    bold: Font | None


# (family name, regular key, bold key) in luodi.synth.fonts' keys. The "sharp" face carries embedded
# bitmaps at small sizes, the look of a thermal printer's ROM font.
_FAMILY_KEYS: tuple[tuple[str, str, str | None], ...] = (
    ("wqy-microhei", "wqy-microhei", None),
    ("wqy-zenhei", "wqy-zenhei", None),
    ("wqy-zenhei-sharp", "wqy-zenhei-sharp", None),
    ("noto-sans-sc", "noto-sans-sc", "noto-sans-sc-bold"),
    ("noto-serif-sc", "noto-serif-sc", "noto-serif-sc-bold"),
    ("ar-pl-uming", "ar-pl-uming", None),
    ("ar-pl-ukai", "ar-pl-ukai", None),
)


# Faces of further Debian packages (fonts-lxgw-wenkai, fonts-smiley-sans, fonts-arphic-gkai00mp,
# fonts-arphic-gbsn00lp), one face per file: (family name, kind, regular file, bold file).
_EXTRA_FILES: tuple[tuple[str, str, str, str | None], ...] = (
    ("lxgw-wenkai", "kai", "LXGWWenKai-Regular.ttf", "LXGWWenKai-Bold.ttf"),
    ("lxgw-wenkai-light", "kai", "LXGWWenKai-Light.ttf", None),
    ("smiley-sans", "sans", "SmileySans-Oblique.ttf", None),
    ("ar-pl-kaiti-gb", "kai", "gkai00mp.ttf", None),
    ("ar-pl-sungti-gb", "ming", "gbsn00lp.ttf", None),
)


@functools.lru_cache(maxsize=1)
def _extra_families() -> tuple[FontFamily, ...]:
    found: dict[str, Path] = {}
    for d in FONT_DIRS:
        if d.is_dir():
            for path in sorted(d.rglob("*.tt[fc]")):
                found.setdefault(path.name, path)
    out = []
    for name, kind, regular, bold in _EXTRA_FILES:
        if regular in found:
            bold_font = Font(f"{name}-bold", found[bold], 0, kind) if bold and bold in found else None
            out.append(FontFamily(name, Font(name, found[regular], 0, kind), bold_font))
    return tuple(out)


def available_families() -> tuple[FontFamily, ...]:
    """The CJK font families installed on this machine (raises ConfigError naming the apt command
    when there is none)."""
    by_key = {f.key: f for f in available_fonts()}
    known = tuple(
        FontFamily(name, by_key[regular], by_key.get(bold) if bold else None)
        for name, regular, bold in _FAMILY_KEYS
        if regular in by_key
    )
    return known + _extra_families()


def covers(family: FontFamily, text: str) -> bool:
    """Whether ``family`` has a real glyph (not .notdef) for every character of ``text``."""
    return family.regular.covers(text) and (family.bold is None or family.bold.covers(text))


@dataclass(frozen=True, slots=True)
class Style:
    family: FontFamily
    size: int  # body text size in pixels
    ink: Color
    paper: Color
    gray: Color  # secondary text (small labels)
    hand: FontFamily | None = None  # handwriting-like face for forms filled by hand


class Canvas:
    """A white page with helpers; coordinates are pixels, y grows downwards."""

    def __init__(self, width: int, height: int, style: Style) -> None:
        self.width = width
        self.height = height
        self.style = style
        self.image = Image.new("RGB", (width, height), style.paper)
        self.draw = ImageDraw.Draw(self.image)
        self.bottom = 0  # lowest y drawn so far, to crop the page
        # The text layer: every string drawn and its box, in drawing order (tests check labels against it).
        self.texts: list[tuple[str, tuple[int, int, int, int]]] = []

    def font(
        self, size: int, bold: bool = False, family: FontFamily | None = None
    ) -> tuple[ImageFont.FreeTypeFont, int]:
        fam = family or self.style.family
        if bold and fam.bold is not None:
            return fam.bold.get(size), 0
        return fam.regular.get(size), (1 if bold and size >= 18 else 0)

    def text_width(self, text: str, size: int, bold: bool = False) -> int:
        font, stroke = self.font(size, bold)
        return round(font.getlength(text)) + 2 * stroke

    def text(
        self,
        x: float,
        y: float,
        text: str,
        size: int,
        *,
        bold: bool = False,
        fill: Color | None = None,
        family: FontFamily | None = None,
    ) -> tuple[int, int, int, int]:
        """Draw ``text`` with its top-left at (x, y) (in ``family`` instead of the page's, if given);
        returns its bounding box."""
        font, stroke = self.font(size, bold, family)
        color = fill if fill is not None else self.style.ink
        self.draw.text((x, y), text, font=font, fill=color, stroke_width=stroke, stroke_fill=color)
        box = self.draw.textbbox((x, y), text, font=font, stroke_width=stroke)
        self.bottom = max(self.bottom, int(box[3]))
        out = (int(box[0]), int(box[1]), int(box[2]), int(box[3]))
        if text.strip():
            self.texts.append((text, out))
        return out

    def hand(
        self,
        x: float,
        y: float,
        text: str,
        size: int,
        *,
        family: FontFamily,
        rng: np.random.Generator,
        fill: Color = (25, 45, 140),
        slant: float = 0.0,
    ) -> tuple[int, int, int, int]:
        """``text`` as if written by hand: each character on its own, slightly turned, scaled and off
        the baseline, spacing uneven, the line drifting up or down (``slant`` pixels per character
        on average). Returns the box of what was drawn."""
        cx, drift = float(x), 0.0
        x0, y0, x1, y1 = int(x), int(y), int(x), int(y)
        for ch in text:
            if ch.isspace():
                cx += size * float(rng.uniform(0.3, 0.6))
                continue
            s = max(8, int(size * float(rng.uniform(0.88, 1.12))))
            font = family.regular.get(s)
            glyph = Image.new("L", (s * 2, s * 2), 0)
            ImageDraw.Draw(glyph).text((s / 2, s / 2), ch, font=font, fill=255, stroke_width=int(rng.random() < 0.3))
            glyph = glyph.rotate(float(rng.uniform(-7, 7)), resample=Image.Resampling.BILINEAR)
            drift += slant + float(rng.normal(0, size * 0.03))
            gy = y + drift + float(rng.normal(0, size * 0.04)) - s / 2
            gx = cx - s / 2
            self.image.paste(Image.new("RGB", glyph.size, fill), (int(gx), int(gy)), glyph)
            bbox = glyph.getbbox()
            if bbox:
                x0, y0 = min(x0, int(gx + bbox[0])), min(y0, int(gy + bbox[1]))
                x1, y1 = max(x1, int(gx + bbox[2])), max(y1, int(gy + bbox[3]))
            advance = font.getlength(ch)
            cx += advance * float(rng.uniform(0.92, 1.15)) + size * float(rng.uniform(-0.02, 0.08))
        self.bottom = max(self.bottom, y1)
        if text.strip():
            self.texts.append((text, (x0, y0, x1, y1)))
        return (x0, y0, x1, y1)

    def text_right(self, right: float, y: float, text: str, size: int, *, bold: bool = False) -> None:
        self.text(right - self.text_width(text, size, bold), y, text, size, bold=bold)

    def text_center(self, cx: float, y: float, text: str, size: int, *, bold: bool = False) -> None:
        self.text(cx - self.text_width(text, size, bold) / 2, y, text, size, bold=bold)

    def wrap(
        self,
        text: str,
        size: int,
        width: float,
        *,
        first_width: float | None = None,
        family: FontFamily | None = None,
    ) -> list[str]:
        """Break ``text`` into lines no wider than ``width`` (the first one ``first_width``), by character:
        thermal printers break Chinese addresses anywhere, so the extractor must merge them back."""
        font, _ = self.font(size, family=family)
        lines: list[str] = []
        current = ""
        limit: float = first_width if first_width is not None else width
        for ch in text:
            if current and font.getlength(current + ch) > limit:
                lines.append(current)
                current = ch.lstrip()
                limit = width
            else:
                current += ch
        if current:
            lines.append(current)
        return lines

    def rect(self, x0: float, y0: float, x1: float, y1: float, *, width: int = 2, fill: Color | None = None) -> None:
        self.draw.rectangle((x0, y0, x1, y1), outline=self.style.ink, width=width, fill=fill)
        self.bottom = max(self.bottom, int(y1))

    def hline(self, x0: float, x1: float, y: float, width: int = 2) -> None:
        self.draw.line((x0, y, x1, y), fill=self.style.ink, width=width)
        self.bottom = max(self.bottom, int(y))

    def vline(self, x: float, y0: float, y1: float, width: int = 2) -> None:
        self.draw.line((x, y0, x, y1), fill=self.style.ink, width=width)
        self.bottom = max(self.bottom, int(y1))

    def dashed(self, x0: float, x1: float, y: float, dash: int = 12, gap: int = 8) -> None:
        x = x0
        while x < x1:
            self.draw.line((x, y, min(x + dash, x1), y), fill=self.style.ink, width=2)
            x += dash + gap
        self.bottom = max(self.bottom, int(y))

    def barcode(self, x: float, y: float, width: float, height: float, data: str) -> None:
        """Bars whose widths follow a hash of ``data``: looks like a 1-D barcode to a text detector
        (which must ignore it), decodes to nothing."""
        if not data:  # a blank form: no number, no bars
            return
        digest = hashlib.sha256(data.encode()).digest() * 8
        modules = [1 + (b % 4) for b in digest]
        total = sum(modules[:160])
        unit = width / max(total, 1)
        cx = x
        for i, m in enumerate(modules[:160]):
            w = m * unit
            if i % 2 == 0:
                self.draw.rectangle((cx, y, cx + max(w - 0.2, 0.8), y + height), fill=self.style.ink)
            cx += w
            if cx >= x + width:
                break
        self.bottom = max(self.bottom, int(y + height))

    def qr(self, x: float, y: float, size: int, rng: np.random.Generator) -> None:
        """A QR-like block of random modules with the three finder squares."""
        n = 21
        cell = size / n
        bits = rng.random((n, n)) < 0.5
        for r in range(n):
            for c in range(n):
                if bits[r, c]:
                    self.draw.rectangle(
                        (x + c * cell, y + r * cell, x + (c + 1) * cell - 1, y + (r + 1) * cell - 1),
                        fill=self.style.ink,
                    )
        for fx, fy in ((0, 0), (n - 7, 0), (0, n - 7)):
            ox, oy = x + fx * cell, y + fy * cell
            self.draw.rectangle((ox, oy, ox + 7 * cell, oy + 7 * cell), fill=self.style.paper)
            finder = (ox, oy, ox + 7 * cell - 1, oy + 7 * cell - 1)
            self.draw.rectangle(finder, outline=self.style.ink, width=int(cell))
            self.draw.rectangle(
                (ox + 2 * cell, oy + 2 * cell, ox + 5 * cell - 1, oy + 5 * cell - 1), fill=self.style.ink
            )
        self.bottom = max(self.bottom, int(y + size))

    def finish(self, margin: int = 24, min_height: int = 0) -> Image.Image:
        """The page cropped below the lowest drawn element."""
        height = min(self.height, max(self.bottom + margin, min_height))
        out = self.image.crop((0, 0, self.width, height))
        out.info["texts"] = list(self.texts)  # the text layer travels with the page
        return out
