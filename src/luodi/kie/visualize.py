"""Draw extracted fields onto the page images: a box per field value, its name and value beside it.

Green boxes are accepted fields, red ones need review. Pages without fields are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from luodi.errors import OutputError
from luodi.kie.result import Extraction

_OK = (40, 170, 60)
_REVIEW = (220, 40, 40)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    from luodi.output.visualize import find_cjk_font

    found = find_cjk_font()
    if found is None:
        return ImageFont.load_default(size)
    return ImageFont.truetype(found[0], size, index=found[1], layout_engine=ImageFont.Layout.BASIC)


def render_fields(extraction: Extraction, pages: Sequence[np.ndarray]) -> list[Image.Image]:
    """One annotated RGB image per page that carries at least one field box."""
    out: list[Image.Image] = []
    for index, array in enumerate(pages):
        fields = [f for f in extraction.fields if f.box is not None and f.page == index]
        if not fields:
            continue
        image = Image.fromarray(array).convert("RGB")
        draw = ImageDraw.Draw(image)
        size = max(12, min(28, image.height // 60))
        font = _font(size)
        for f in fields:
            assert f.box is not None
            colour = _REVIEW if f.needs_review else _OK
            draw.polygon([tuple(p) for p in f.box], outline=colour, width=2)
            x, y = f.box[0]
            label = f"{f.name}: {f.value}"
            draw.text((x, max(0.0, y - size - 2)), label, fill=colour, font=font)
        out.append(image)
    return out


def save_field_images(extraction: Extraction, pages: Sequence[np.ndarray], out_dir: Path, stem: str) -> list[Path]:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {out_dir}: {exc.strerror or exc}") from exc
    written = []
    for k, image in enumerate(render_fields(extraction, pages)):
        target = out_dir / (f"{stem}.fields.png" if k == 0 else f"{stem}.p{k}.fields.png")
        try:
            image.save(target)
        except OSError as exc:
            raise OutputError(f"cannot write {target}: {exc.strerror or exc}") from exc
        written.append(target)
    return written
