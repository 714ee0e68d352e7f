"""Text normalisation shared by label matching and value cleaning.

Every function here keeps a one-to-one mapping between input and output characters, so offsets
found in normalised text are offsets in the OCR line too (that is how value boxes and character
confidences are cut out of a line).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import Any

# Characters that OCR models confuse with the characters of common Chinese field labels. The map
# is applied to labels and text alike before comparing, so 收件入 matches 收件人. Only pairs seen
# as real recognition errors on printed labels belong here: a wider map makes labels match
# ordinary words.
_CONFUSABLE: dict[str, str] = {
    "入": "人",
    "仵": "件",
    "伴": "件",
    "話": "话",
    "活": "话",
    "扯": "址",
    "趾": "址",
    "號": "号",
    "娃": "姓",
    "奇": "寄",
    "牧": "收",
    "収": "收",
    "駅": "驿",
    "碼": "码",
    "玛": "码",
}

SEPARATORS = ":：;；,，、|｜/ \t·.．-—_"
COLONS = ":："


@lru_cache(maxsize=4096)
def _char(c: str) -> str:
    folded = unicodedata.normalize("NFKC", c)
    # NFKC turns some symbols into several characters (㎏ -> kg); keep those as they are so that
    # offsets stay aligned with the OCR text.
    return folded if len(folded) == 1 else c


def fold(text: str) -> str:
    """Full-width to half-width (NFKC per character), same length as ``text``."""
    return "".join(_char(c) for c in text)


def fold_label(text: str) -> str:
    """``fold`` plus the OCR-confusion map, lower-cased: the form labels are compared in."""
    out = []
    for c in fold(text):
        mapped = _CONFUSABLE.get(c, c)
        low = mapped.lower()
        out.append(low if len(low) == 1 else mapped)
    return "".join(out)


def strip_separators(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink ``text[start:end]`` past separators and spaces on both sides."""
    while start < end and fold(text[start]) in SEPARATORS:
        start += 1
    while end > start and fold(text[end - 1]) in " \t:：;；,，、|｜":
        end -= 1
    return start, end


def compact(text: str) -> str:
    """Folded text without any whitespace, for comparing values."""
    return "".join(fold(text).split())


@lru_cache(maxsize=1)
def _t2s() -> Any:
    try:
        import opencc
    except ImportError:  # optional (extra "kie"): without it values stay as OCR read them
        return None
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional characters converted to simplified (廣東省 → 广东省, 慕容林煥 → 慕容林焕), with
    OpenCC's phrase tables; the text is returned unchanged when OpenCC is not installed."""
    conv = _t2s()
    if conv is None or text.isascii():
        return text
    out = str(conv.convert(text))
    # Character conversion keeps the length; a phrase rule that does not would break the
    # character offsets the boxes and address parts are cut by, so such text is left alone.
    return out if len(out) == len(text) else text
