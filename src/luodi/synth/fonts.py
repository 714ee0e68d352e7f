"""Find the CJK fonts installed on this machine and check which characters each can draw.

Fonts come from the Debian packages ``fonts-wqy-microhei fonts-wqy-zenhei fonts-noto-cjk
fonts-arphic-uming fonts-arphic-ukai`` (installed by ``make setup``). They are looked up by file
name under the usual font folders and by family name inside ``.ttc`` collections, so a different
face order in another build of the package still finds the right face.

A font that lacks a character draws its ``.notdef`` glyph (an empty box or nothing), which would
silently make an image disagree with its label; :meth:`Font.covers` detects that.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import ImageFont

from luodi.errors import ConfigError

APT_HINT = "apt-get install -y fonts-wqy-microhei fonts-wqy-zenhei fonts-noto-cjk fonts-arphic-uming fonts-arphic-ukai"

FONT_DIRS: tuple[Path, ...] = (
    Path("/usr/share/fonts"),
    Path("/usr/local/share/fonts"),
    Path.home() / ".local" / "share" / "fonts",
    Path.home() / ".fonts",
)


@dataclass(frozen=True, slots=True)
class FontSpec:
    """A font face we know how to find: a stable key, the file name and the family inside it."""

    key: str
    file: str
    family: str
    kind: str  # sans | serif | kai | ming | bitmap — lets styles pick plausible faces


# Simplified-Chinese faces first in each file; key names are what users pass to --font.
KNOWN_FONTS: tuple[FontSpec, ...] = (
    FontSpec("wqy-microhei", "wqy-microhei.ttc", "WenQuanYi Micro Hei", "sans"),
    FontSpec("wqy-zenhei", "wqy-zenhei.ttc", "WenQuanYi Zen Hei", "sans"),
    # "Sharp" carries hand-tuned embedded bitmaps at small sizes: the look of printer ROM fonts.
    FontSpec("wqy-zenhei-sharp", "wqy-zenhei.ttc", "WenQuanYi Zen Hei Sharp", "bitmap"),
    FontSpec("noto-sans-sc", "NotoSansCJK-Regular.ttc", "Noto Sans CJK SC", "sans"),
    FontSpec("noto-sans-sc-bold", "NotoSansCJK-Bold.ttc", "Noto Sans CJK SC", "sans"),
    FontSpec("noto-sans-mono-sc", "NotoSansCJK-Regular.ttc", "Noto Sans Mono CJK SC", "sans"),
    FontSpec("noto-serif-sc", "NotoSerifCJK-Regular.ttc", "Noto Serif CJK SC", "serif"),
    FontSpec("noto-serif-sc-bold", "NotoSerifCJK-Bold.ttc", "Noto Serif CJK SC", "serif"),
    FontSpec("ar-pl-uming", "uming.ttc", "AR PL UMing CN", "ming"),
    FontSpec("ar-pl-ukai", "ukai.ttc", "AR PL UKai CN", "kai"),
)

# Blind evaluation: fine-tuning recipes render with the "train" faces only; the general regression
# set and the bench's held-out sets use the "eval" faces, whose designs no recipe has seen. Each side
# has a sans, a serif and a brush-like face. (WenQuanYi Zen Hei Sharp has Zen Hei's outlines above its
# bitmap sizes, so the two Zen Hei faces could not be split apart: both are eval.)
FONT_FAMILIES: dict[str, tuple[str, ...]] = {
    "train": ("wqy-microhei", "noto-sans-sc", "noto-sans-sc-bold", "noto-serif-sc", "ar-pl-uming"),
    "eval": ("wqy-zenhei", "wqy-zenhei-sharp", "noto-sans-mono-sc", "noto-serif-sc-bold", "ar-pl-ukai"),
}
# the eval faces with harder, held-out dot-matrix printers (luodi.synth.dotmatrix_heldout)
FONT_FAMILIES["heldout"] = FONT_FAMILIES["eval"]
# the eval faces; its dot-matrix printers draw faces of their own (luodi.synth.dotmatrix_fresh)
FONT_FAMILIES["fresh"] = FONT_FAMILIES["eval"]
# the eval faces; its dot-matrix printers draw faces of their own (luodi.synth.dotmatrix_late), written
# after every other family had been looked at, to score the shipped dot-matrix recipe once
FONT_FAMILIES["late"] = FONT_FAMILIES["eval"]
# the eval faces; its ledger printers draw faces of their own as ROM bitmaps (luodi.synth.dotmatrix_ledger),
# written after the late family had become development data, to score the recipe once (8 Dec 2026)
FONT_FAMILIES["ledger"] = FONT_FAMILIES["eval"]
# the train faces with the first training dot-matrix heads only (luodi.synth.dotmatrix_train widens "train")
FONT_FAMILIES["train-basic"] = FONT_FAMILIES["train"]
# the train faces with domain-randomised dot-matrix printers (luodi.synth.dotmatrix_random)
FONT_FAMILIES["train-random"] = FONT_FAMILIES["train"]
FAMILIES = tuple(FONT_FAMILIES)

# A code point no font maps (plane 16 private use): what a font draws for it is its .notdef glyph.
_MISSING_PROBE = "\U0010fffd"


@dataclass(frozen=True, slots=True)
class Font:
    """An installed font face: file path plus face index within a collection."""

    key: str
    path: Path
    index: int
    kind: str

    def get(self, size: int) -> ImageFont.FreeTypeFont:
        """The face at ``size`` pixels (cached; FreeType objects are reused across renders)."""
        return _load(str(self.path), self.index, int(size))

    def covers(self, text: str) -> bool:
        """True when every non-space character of ``text`` has a real glyph in this face."""
        return all(_has_glyph(str(self.path), self.index, ch) for ch in set(text) if not ch.isspace())


@functools.lru_cache(maxsize=256)
def _load(path: str, index: int, size: int) -> ImageFont.FreeTypeFont:
    # BASIC layout: no shaping engine needed for CJK and digits, and the same pixels everywhere.
    return ImageFont.truetype(path, size, index=index, layout_engine=ImageFont.Layout.BASIC)


@functools.lru_cache(maxsize=200_000)
def _has_glyph(path: str, index: int, ch: str) -> bool:
    font = _load(path, index, 24)
    mask = font.getmask(ch)
    probe = font.getmask(_MISSING_PROBE)
    if mask.size != probe.size:
        return True
    if mask.size[0] == 0 or mask.size[1] == 0:
        # Nothing drawn at all: either .notdef is blank or the character is blank — both unusable.
        return False
    return bytes(mask) != bytes(probe)


@functools.lru_cache(maxsize=8)
def _index_files(dirs: tuple[Path, ...]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for d in dirs:
        if not d.is_dir():
            continue
        for root, _, files in os.walk(d):
            for name in sorted(files):
                found.setdefault(name, Path(root) / name)
    return found


def _face_index(path: Path, family: str) -> int | None:
    for index in range(32):
        try:
            face = ImageFont.truetype(str(path), 12, index=index)
        except OSError:
            return None
        if face.getname()[0] == family:
            return index
    return None


@functools.lru_cache(maxsize=8)
def installed_faces(faces: tuple[tuple[str, str, str, str], ...]) -> tuple[Font, ...]:
    """The faces of ``faces`` ((key, file, family name, kind)) installed in :data:`FONT_DIRS`, in
    their order: a held-out printer family's own faces, outside :data:`KNOWN_FONTS`."""
    files = _index_files(FONT_DIRS)
    out = []
    for key, file, family, kind in faces:
        path = files.get(file)
        index = _face_index(path, family) if path is not None else None
        if path is not None and index is not None:
            out.append(Font(key, path, index, kind))
    return tuple(out)


@functools.lru_cache(maxsize=8)
def _discover(dirs: tuple[Path, ...]) -> tuple[Font, ...]:
    files = _index_files(dirs)
    fonts: list[Font] = []
    for spec in KNOWN_FONTS:
        path = files.get(spec.file)
        if path is None:
            continue
        index = _face_index(path, spec.family)
        if index is not None:
            fonts.append(Font(spec.key, path, index, spec.kind))
    return tuple(fonts)


def available_fonts(keys: Sequence[str] | None = None, *, dirs: Sequence[Path] | None = None) -> tuple[Font, ...]:
    """The installed CJK fonts (optionally only ``keys``), in :data:`KNOWN_FONTS` order.

    Raises :class:`ConfigError` naming the apt command when none is installed, or naming the known
    keys when a requested key is unknown or not installed.
    """
    fonts = _discover(tuple(dirs) if dirs is not None else FONT_DIRS)
    if not fonts:
        raise ConfigError(
            f"no CJK fonts found under {', '.join(map(str, dirs or FONT_DIRS))}; install them: {APT_HINT}"
        )
    if keys is None:
        return fonts
    by_key = {f.key: f for f in fonts}
    known = {s.key for s in KNOWN_FONTS}
    chosen: list[Font] = []
    for k in keys:
        if k not in known:
            raise ConfigError(f"unknown font {k!r}; known fonts: {', '.join(s.key for s in KNOWN_FONTS)}")
        if k not in by_key:
            raise ConfigError(f"font {k!r} is not installed; installed: {', '.join(by_key)}; install: {APT_HINT}")
        chosen.append(by_key[k])
    return tuple(chosen)


def family_fonts(family: str | None, fonts: Sequence[Font] | None = None) -> tuple[Font, ...]:
    """The installed faces of a renderer family ("train" or "eval"); all of ``fonts`` for None."""
    pool = tuple(fonts) if fonts is not None else available_fonts()
    if family is None:
        return pool
    if family not in FONT_FAMILIES:
        raise ConfigError(f"unknown family {family!r}; choose one of {', '.join(FONT_FAMILIES)}")
    chosen = tuple(f for f in pool if f.key in FONT_FAMILIES[family])
    if not chosen:
        raise ConfigError(
            f"no font of the {family!r} family is installed ({', '.join(FONT_FAMILIES[family])}): {APT_HINT}"
        )
    return chosen
