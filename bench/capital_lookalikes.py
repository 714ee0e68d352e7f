"""The look-alike table of luodi.kie.capitals: for each capital numeral and unit (壹 … 玖, 拾 佰 仟 万 亿,
元 角 分 整), the common characters drawn most like it.

    .venv/bin/python bench/capital_lookalikes.py > /tmp/table.py   # then paste LOOKALIKES

How: every GB2312 level-1 character (the 3,755 common ones) that the OCR's dictionary holds is drawn
in four printed faces (Noto Sans / Serif CJK SC, WenQuanYi Micro Hei, AR PL UMing), blurred, and
compared with each numeral by normalised correlation, of the whole glyph and of its best-matching half
(left, right, top or bottom: 件 and 仟 share their 亻, 染 and 柒 their 氵 and 木); the score is the mean
of the two, averaged over the faces. The TOP most alike per numeral are kept, most alike first.

It is a fact about the characters' shapes, not about our renders: no OCR reading of a synthetic
receipt (nor any handwriting face) went into it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

FACES = ("noto-sans-sc", "noto-serif-sc", "wqy-microhei", "ar-pl-uming")
TARGETS = "零壹贰叁肆伍陆柒捌玖拾佰仟万亿元角分整"
NUMERALS = set(TARGETS) | set("圆正")
SIZE = 48


def common_characters(dictionary: Path) -> list[str]:
    def level1(c: str) -> bool:
        try:
            return c.encode("gb2312")[0] < 0xD8
        except UnicodeEncodeError:
            return False

    entries = dictionary.read_text(encoding="utf-8").split("\n")
    return [c for c in entries if len(c) == 1 and "\u4e00" <= c <= "\u9fff" and level1(c) and c not in NUMERALS]


def glyph_features(font: object, char: str) -> list[np.ndarray]:
    import cv2
    from PIL import Image, ImageDraw

    im = Image.new("L", (SIZE, SIZE), 0)
    ImageDraw.Draw(im).text((SIZE / 2, SIZE / 2), char, fill=255, font=font, anchor="mm")
    a = cv2.GaussianBlur(np.asarray(im, np.float32) / 255, (0, 0), 1.5)
    h = SIZE // 2
    out = []
    for part in (a, a[:, :h], a[:, h:], a[:h], a[h:]):
        p = part - part.mean()
        out.append((p / (np.linalg.norm(p) + 1e-6)).ravel())
    return out


def face(key: str) -> object:
    from PIL import ImageFont

    from luodi.synth.fonts import FONT_DIRS, KNOWN_FONTS

    spec = next(s for s in KNOWN_FONTS if s.key == key)
    path = next(p for d in FONT_DIRS if d.is_dir() for p in d.rglob(spec.file))
    for index in range(16):
        font = ImageFont.truetype(str(path), 40, index=index)
        if font.getname()[0] == spec.family:
            return font
    raise SystemExit(f"no face {spec.family} in {path}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    store = Path.home() / ".local/share/luodi/models"
    ap.add_argument("--dictionary", type=Path, default=store / "pp-ocrv6-small" / "dict.txt")
    ap.add_argument("--top", type=int, default=16)
    # The same measure for other characters: luodi.kie.layout's LABEL_LOOKALIKES is made with
    # --targets (the characters of the schemas' two-character labels) --name LABEL_LOOKALIKES.
    ap.add_argument("--targets", default=TARGETS, help="the characters to find look-alikes of")
    ap.add_argument("--name", default="LOOKALIKES", help="the name of the printed dict")
    args = ap.parse_args()
    targets = args.targets
    chars = common_characters(args.dictionary)
    score = np.zeros((len(targets), len(chars)))
    for key in FACES:
        font = face(key)
        m = [glyph_features(font, c) for c in chars]
        t = [glyph_features(font, c) for c in targets]
        whole = np.stack([x[0] for x in t]) @ np.stack([x[0] for x in m]).T
        halves = [np.stack([x[k] for x in t]) @ np.stack([x[k] for x in m]).T for k in range(1, 5)]
        score += (0.5 * whole + 0.5 * np.max(np.stack(halves), axis=0)) / len(FACES)
    print(f"# {len(chars)} characters, faces {', '.join(FACES)}, top {args.top}", file=sys.stderr)
    print(f"{args.name} = {{")
    for i, target in enumerate(targets):
        # (a target that is itself a common character is its own best match: left out)
        order = [j for j in np.argsort(-score[i]) if chars[j] != target][: args.top]
        print(f'    "{target}": "{"".join(chars[j] for j in order)}",')
    print("}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
