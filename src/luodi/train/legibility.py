"""Leave out training lines the stock model cannot read at all.

Synthetic degradations (a ribbon faded into the paper's grain, dots smeared past recognition) make
some rendered lines illegible to any reader. Trained on, such a line teaches the model to emit its
label from noise: a guess, not a skill, and one that costs what the model knew. The stock recogniser
reads every training line once before training starts (ONNX Runtime on the shipped file, the same
pass the guard's distillation makes on its own lines); a line it reads with a character error rate
above ``Train.max_stock_cer`` is dropped and counted in the run's data report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from luodi.eval.metrics import edit_distance
from luodi.train.charset import Charset
from luodi.train.data import LineImage, make_batch


@dataclass(frozen=True, slots=True)
class LegibilityReport:
    kept: int
    dropped: int
    examples: tuple[str, ...]  # a few dropped lines: "source: label -> read"

    def summary(self, max_cer: float) -> str:
        total = self.kept + self.dropped
        share = self.dropped / total if total else 0.0
        text = f"{self.dropped} of {total} lines ({share:.1%}) left out"
        text += f": the stock model reads them with CER > {max_cer}"
        return text + (f", e.g. {self.examples[0]}" if self.examples else "")


def stock_reads(onnx_path: Path, lines: Sequence[LineImage], charset: Charset) -> list[str]:
    """The stock ONNX recogniser's greedy reading of each line, alone (no padding), one thread."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    session = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    reads: list[str] = []
    for line in lines:
        batch = make_batch([line.image], [line.label], None)
        probs = session.run(None, {name: batch.images})[0][0]
        reads.append(charset.decode(probs, int(batch.input_lengths[0])))
    return reads


def char_error_rate(read: str, label: str) -> float:
    return edit_distance(read, label) / max(1, len(label))


def drop_illegible(
    lines: Sequence[LineImage], reads: Sequence[str], max_cer: float
) -> tuple[list[LineImage], LegibilityReport]:
    """Keep the lines whose stock reading has a character error rate of at most ``max_cer``."""
    kept: list[LineImage] = []
    examples: list[str] = []
    for line, read in zip(lines, reads, strict=True):
        if char_error_rate(read, line.label) <= max_cer:
            kept.append(line)
        elif len(examples) < 3:
            examples.append(f"{line.source}: {line.label!r} -> {read!r}")
    return kept, LegibilityReport(len(kept), len(lines) - len(kept), tuple(examples))
