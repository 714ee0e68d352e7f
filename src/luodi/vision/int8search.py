"""The nearest-patch search of an INT8 anomaly model in integers: the memory bank quantised per
row, the products taken by ONNX Runtime's integer GEMM (AVX-512 VNNI where the CPU has it), the
exact float distance taken only to the neighbour each patch chose.

Why: the float search (``patchcore.nearest_distances``, a numpy GEMM of about 380 x 22,538 x 96
per image) was two thirds of an INT8 model's inspection once its backbone was quantized, so the
whole inspection was 1.27x FP32 (bench/results/vision.md, "INT8 of the new anomaly default").

How: the score of bank row j for patch p is p.b_j - |b_j|^2 / 2 (the largest is the nearest row).
One in-memory graph computes it for a block of patches: ``DynamicQuantizeLinear`` (the patches to
uint8, one scale per block) and ``MatMulIntegerToFloat`` (com.microsoft; ORT fuses the two into
one kernel) against the int8 bank^T with its per-row scales, the |b_j|^2 / 2 term as the bias.
numpy takes the arg-max of each row (ORT's ArgMax/TopK over 22,538 columns took as long as the
GEMM). The distance returned is the float distance to the chosen row: exact when it is the
nearest row, otherwise the distance to a near row, never below the true nearest distance.
"""

from __future__ import annotations

import numpy as np

from luodi.errors import ModelError

INT8_MAX = 127
# rows of patches per run: keeps one block of scores near 16 MB, as the float search does
BLOCK_ENTRIES = 4_000_000


def quantize_rows(bank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``bank`` (M x D, float) as int8 with one symmetric scale per row: (int8 M x D, scales M)."""
    x = np.asarray(bank, dtype=np.float32)
    amax = np.abs(x).max(axis=1)
    scale = np.where(amax > 0, amax / INT8_MAX, 1.0).astype(np.float32)
    q = np.clip(np.rint(x / scale[:, None]), -INT8_MAX, INT8_MAX).astype(np.int8)
    return q, scale


def _graph(bank_q: np.ndarray, scale: np.ndarray, bias: np.ndarray) -> bytes:
    from onnx import TensorProto, helper, numpy_helper

    dim = bank_q.shape[1]
    nodes = [
        helper.make_node("DynamicQuantizeLinear", ["patches"], ["pq", "p_scale", "p_zero"]),
        helper.make_node(
            "MatMulIntegerToFloat",
            ["pq", "bank_t", "p_scale", "bank_scale", "p_zero", "", "bias"],
            ["scores"],
            domain="com.microsoft",
        ),
    ]
    inits = [
        numpy_helper.from_array(np.ascontiguousarray(bank_q.T), "bank_t"),
        numpy_helper.from_array(scale.astype(np.float32), "bank_scale"),
        numpy_helper.from_array(bias.astype(np.float32), "bias"),
    ]
    graph = helper.make_graph(
        nodes,
        "luodi-int8-bank-search",
        [helper.make_tensor_value_info("patches", TensorProto.FLOAT, [None, dim])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [None, len(scale)])],
        inits,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    )
    model.ir_version = 8
    return bytes(model.SerializeToString())


class Int8BankSearch:
    """The nearest rows of one memory bank, searched in int8. Immutable once built; ``distances``
    is safe to call from several threads (ONNX Runtime's ``run`` is)."""

    def __init__(self, bank: np.ndarray) -> None:
        import onnxruntime as ort

        self.bank = np.ascontiguousarray(bank, dtype=np.float32)
        if self.bank.ndim != 2 or not self.bank.size:
            raise ModelError(f"the memory bank must be a non-empty 2-D array, got shape {self.bank.shape}")
        q, scale = quantize_rows(self.bank)
        # |b|^2 / 2 of the rows as quantised, so the largest score is the nearest row of the
        # quantised bank to the quantised patch
        deq = q.astype(np.float32) * scale[:, None]
        opts = ort.SessionOptions()
        # one thread, as the float search runs on one BLAS thread: next to the backbone's own
        # pool a second one only waits for a core (bench/results/vision.md)
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(
            _graph(q, scale, -0.5 * np.einsum("ij,ij->i", deq, deq)), opts, providers=["CPUExecutionProvider"]
        )
        self._step = max(1, BLOCK_ENTRIES // len(self.bank))

    def nearest(self, patches: np.ndarray) -> np.ndarray:
        """The index of the chosen bank row of each row of ``patches`` (P x D)."""
        p = np.ascontiguousarray(patches, dtype=np.float32)
        if p.ndim != 2 or p.shape[1] != self.bank.shape[1]:
            raise ModelError(f"patches of width {self.bank.shape[1]} expected, got shape {p.shape}")
        out = np.empty(len(p), dtype=np.int64)
        for start in range(0, len(p), self._step):
            scores = self._session.run(None, {"patches": p[start : start + self._step]})[0]
            out[start : start + self._step] = scores.argmax(axis=1)
        return out

    def distances(self, patches: np.ndarray) -> np.ndarray:
        """The float Euclidean distance of each row of ``patches`` to its chosen bank row."""
        p = np.ascontiguousarray(patches, dtype=np.float32)
        diff = p - self.bank[self.nearest(p)]
        return np.asarray(np.sqrt(np.einsum("ij,ij->i", diff, diff)), dtype=np.float32)
