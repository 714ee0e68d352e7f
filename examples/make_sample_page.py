"""Render examples/sample_page.jpg: a made-up express waybill (运单) for `make run` and the README tour.

Every name, phone number, address and tracking number on it is invented. Run from the repository
root with ``.venv/bin/python examples/make_sample_page.py``; the output is deterministic for a
given font file (a CJK font is required: ``make setup`` installs fonts-noto-cjk).
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from luodi.output.visualize import find_cjk_font

OUT = Path(__file__).resolve().parent / "sample_page.jpg"
WIDTH, HEIGHT = 1000, 720
INK = (28, 28, 30)
PAPER = (250, 249, 245)

# (label, value) rows of the waybill body; all data invented.
ROWS = (
    ("寄件人：李明", "电话：13900001111"),
    ("寄件地址：上海市浦东新区张江路88号", None),
    ("收件人：王小红", "电话：13800138000"),
    ("收件地址：浙江省杭州市西湖区文三路100号", None),
    ("物品：文件资料", "重量：0.5kg　件数：1"),
    ("备注：工作日派送，请电话联系", None),
)


def main() -> int:
    found = find_cjk_font()
    if found is None:
        print("no CJK font found; install fonts-noto-cjk (make setup does)", file=sys.stderr)
        return 1
    path, index = found

    def font(size: int) -> ImageFont.FreeTypeFont:
        return ImageFont.truetype(path, size, index=index)

    page = Image.new("RGB", (WIDTH, HEIGHT), PAPER)
    draw = ImageDraw.Draw(page)
    draw.rectangle((30, 30, WIDTH - 30, HEIGHT - 30), outline=INK, width=3)

    # Header: carrier name and tracking number with a barcode-like strip.
    draw.text((60, 52), "速达快递　标准快件", fill=INK, font=font(44))
    draw.line((30, 130, WIDTH - 30, 130), fill=INK, width=2)
    draw.text((60, 150), "运单号：SD880123456789", fill=INK, font=font(34))
    bars = random.Random(880123456789)
    x = 560
    while x < WIDTH - 70:
        bar = bars.choice((2, 3, 5))
        draw.rectangle((x, 146, x + bar - 1, 196), fill=INK)
        x += bar + bars.choice((2, 3, 4))
    draw.line((30, 215, WIDTH - 30, 215), fill=INK, width=2)

    body = font(32)
    y = 240
    for left, right in ROWS:
        draw.text((60, y), left, fill=INK, font=body)
        if right:
            draw.text((600, y), right, fill=INK, font=body)
        y += 64
    draw.line((30, HEIGHT - 95, WIDTH - 30, HEIGHT - 95), fill=INK, width=2)
    draw.text((60, HEIGHT - 80), "签收人：＿＿＿＿　　日期：2026年11月27日", fill=INK, font=font(26))

    page.save(OUT, "JPEG", quality=90, optimize=True)
    print(f"wrote {OUT} ({OUT.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
