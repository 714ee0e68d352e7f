"""One OCR engine in its own process, driven over stdin/stdout by bench/compare_rapidocr.py.

Runs under luodi's .venv (``--engine luodi``) or under bench/.venv-rapidocr (``--engine rapidocr``
= rapidocr 3.10.0, ``--engine rapidocr_onnxruntime`` = rapidocr-onnxruntime 1.4.4). It imports
only its own engine, so it never mixes the two code bases in one interpreter.

Protocol: one JSON object per line in, one per line out.
  {"op": "info"}                                   -> effective settings, versions, threads
  {"op": "run", "page": "x.npy", "mode": "e2e"|"rec"} -> seconds, stage seconds, inference seconds, lines
  {"op": "quit"}
Pages are RGB uint8 arrays saved by the driver (decoded once by luodi.io, EXIF and alpha already
handled), so both engines get identical pixels and neither pays for decoding inside the timing.
RapidOCR gets the same pixels in BGR, its native order; the conversion happens outside the timing.

Inference time: every ``session.run`` of every stage is timed through a thin proxy, so
"pipeline time / inference time" is measured the same way for both engines.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

import numpy as np

STAGES = ("det", "cls", "rec")


class Clock:
    """Per-call inference seconds by stage, filled by the session proxies."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.seconds = dict.fromkeys(STAGES, 0.0)
        self.calls = dict.fromkeys(STAGES, 0)
        self.det_shape: list[int] | None = None


CLOCK = Clock()


class TimedOrtSession:
    """Stands in for an onnxruntime.InferenceSession; times ``run`` and forwards everything else."""

    def __init__(self, stage: str, session: Any) -> None:
        self._stage = stage
        self._session = session

    def run(self, *args: Any, **kwargs: Any) -> Any:
        if self._stage == "det":
            feeds = args[1] if len(args) > 1 else kwargs.get("input_feed", {})
            CLOCK.det_shape = [int(x) for x in next(iter(feeds.values())).shape]
        t0 = time.perf_counter()
        out = self._session.run(*args, **kwargs)
        CLOCK.seconds[self._stage] += time.perf_counter() - t0
        CLOCK.calls[self._stage] += 1
        return out

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


def rss_bytes() -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


# --- luodi ----------------------------------------------------------------------------------------
class LuodiEngine:
    def __init__(self, model: str, settings: str, threads: int) -> None:
        from luodi import OCR, OCROptions

        class Timed:
            """luodi's InferenceSession protocol, timing ``run``."""

            def __init__(self, stage: str, inner: Any) -> None:
                self.stage, self.inner = stage, inner
                self.input_names, self.output_names, self.info = inner.input_names, inner.output_names, inner.info
                self.metadata = getattr(inner, "metadata", {})

            def run(self, inputs: Any) -> Any:
                if self.stage == "det":
                    CLOCK.det_shape = [int(x) for x in next(iter(inputs.values())).shape]
                t0 = time.perf_counter()
                out = self.inner.run(inputs)
                CLOCK.seconds[self.stage] += time.perf_counter() - t0
                CLOCK.calls[self.stage] += 1
                return out

        if settings == "matched_spin":
            # RapidOCR keeps ONNX Runtime's default spinning pool threads; luodi turns spinning off.
            # This variant builds luodi's engine over spinning sessions, to take that difference out.
            from luodi.ocr.ctc import load_characters
            from luodi.runtime.onnx import OnnxSession
            from luodi.zoo import get_bundle

            bundle = get_bundle(model)
            paths: dict[str, Any] = {
                st: getattr(bundle, st).model if getattr(bundle, st) else None for st in ("det", "cls", "rec")
            }
            if None in paths.values():
                raise SystemExit(f"{model} lacks an ONNX det, cls or rec model")
            rec = OnnxSession(paths["rec"], threads=threads, spin=True)
            self.engine = OCR.from_sessions(
                rec=Timed("rec", rec),
                det=Timed("det", OnnxSession(paths["det"], threads=threads, spin=True)),
                cls_session=Timed("cls", OnnxSession(paths["cls"], threads=threads, spin=True)),
                characters=load_characters(bundle.dictionary, rec.metadata.get("character")),
                model_name=bundle.name,
            )
        else:
            self.engine = OCR(model=model, threads=threads, wrap_session=Timed)
        if settings == "defaults":
            self.options = OCROptions()
        else:
            # RapidOCR's detector and batching settings expressed as luodi options (see driver)
            self.options = OCROptions(
                det_limit_type="min",
                det_limit_side=736,
                det_box_thresh=0.5,
                det_unclip_ratio=1.6,
                det_dilate=True,
                cls_batch_size=6,
                rec_batch_size=6,
                rec_min_width=320,
                drop_score=0.5,
            )
        self.rec_options = self.options.replace(use_det=False, use_cls=False)
        self.settings = settings
        self.spin = settings == "matched_spin"

    def info(self) -> dict[str, Any]:
        import onnxruntime

        import luodi

        ri = self.engine.runtime_info
        return {
            "engine": "luodi",
            "version": getattr(luodi, "__version__", "dev"),
            "onnxruntime": onnxruntime.__version__,
            "model": self.engine.model_name,
            "threads": {k: v.threads for k, v in ri.items()},
            "ort_spinning": self.spin,
            "options": {k: getattr(self.options, k) for k in self.options.__dataclass_fields__},
        }

    def run(self, page_rgb: np.ndarray, page_bgr: np.ndarray, mode: str) -> dict[str, Any]:
        opts = self.options if mode == "e2e" else self.rec_options
        t0 = time.perf_counter()
        doc = self.engine.run_pages([page_rgb], opts)
        seconds = time.perf_counter() - t0
        t = doc.timings
        lines = [
            {"text": ln.text, "score": round(ln.score, 4), "box": [[round(x, 1), round(y, 1)] for x, y in ln.box]}
            for ln in doc.lines
        ]
        return {"seconds": seconds, "stages": [t.det / 1000, t.cls / 1000, t.rec / 1000], "lines": lines}


# --- RapidOCR 3.x -----------------------------------------------------------------------------------
class Rapid3Engine:
    """rapidocr 3.10.0; its default models are PP-OCRv6 small det + rec and the mobile v2.0 cls."""

    def __init__(self, model: str, settings: str, threads: int) -> None:
        from rapidocr import RapidOCR

        params: dict[str, Any] = {
            "Global.log_level": "warning",
            "EngineConfig.onnxruntime.intra_op_num_threads": threads,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        }
        if model == "pp-ocrv4":
            # rapidocr 3.x can run v4 too; point it at the same files luodi uses
            home = os.environ.get("LUODI_MODELS", os.path.expanduser("~/.local/share/luodi/models"))
            params |= {
                "Det.model_path": f"{home}/pp-ocrv4/det.onnx",
                "Det.ocr_version": "PP-OCRv4",
                "Det.model_type": "mobile",
                "Rec.model_path": f"{home}/pp-ocrv4/rec.onnx",
                "Rec.ocr_version": "PP-OCRv4",
                "Rec.model_type": "mobile",
            }
        if settings == "matched":
            params |= {
                "Global.use_preprocess_img": False,  # no global 2000/30 px resize of the page
                "Global.use_vertical_padding": False,  # no letterbox on very wide / short pages
                "Det.mean": [0.485, 0.456, 0.406],  # PaddleOCR's DB normalisation (RapidOCR uses 0.5)
                "Det.std": [0.229, 0.224, 0.225],
            }
        self.engine = RapidOCR(params=params)
        # the sessions load lazily on first use: load them now, then put the timing proxies in
        blank = np.full((64, 256, 3), 255, dtype=np.uint8)
        self.engine(blank)
        self.engine._load_cls_model()
        self.engine._load_rec_model()
        for stage, obj in (("det", self.engine.text_det), ("cls", self.engine.text_cls), ("rec", self.engine.text_rec)):
            obj.session.session = TimedOrtSession(stage, obj.session.session)
        self.settings = settings

    def info(self) -> dict[str, Any]:
        import onnxruntime
        import rapidocr

        cfg = self.engine.cfg
        det = self.engine.text_det
        post = det.postprocess_op
        sess = det.session.session._session
        return {
            "engine": "rapidocr",
            "version": getattr(rapidocr, "__version__", "3.10.0"),
            "onnxruntime": onnxruntime.__version__,
            "model_paths": {
                "det": str(sess._model_path),
                "cls": str(self.engine.text_cls.session.session._session._model_path),
                "rec": str(self.engine.text_rec.session.session._session._model_path),
            },
            "threads": int(sess.get_session_options().intra_op_num_threads),
            "options": {
                "limit_type": det.limit_type,
                "limit_side_len": det.limit_side_len,
                "det_mean": list(det.mean),
                "det_std": list(det.std),
                "thresh": post.thresh,
                "box_thresh": post.box_thresh,
                "unclip_ratio": post.unclip_ratio,
                "use_dilation": post.dilation_kernel is not None,
                "cls_batch_num": self.engine.text_cls.cls_batch_num,
                "cls_thresh": self.engine.text_cls.cls_thresh,
                "rec_batch_num": self.engine.text_rec.rec_batch_num,
                "rec_img_shape": list(self.engine.text_rec.rec_image_shape),
                "text_score": self.engine.text_score,
                "use_preprocess_img": bool(cfg.Global.use_preprocess_img),
                "max_side_len": cfg.Global.max_side_len,
                "use_vertical_padding": bool(cfg.Global.use_vertical_padding),
                "enable_cpu_mem_arena": bool(cfg.EngineConfig.onnxruntime.enable_cpu_mem_arena),
            },
        }

    def run(self, page_rgb: np.ndarray, page_bgr: np.ndarray, mode: str) -> dict[str, Any]:
        if mode == "e2e":
            t0 = time.perf_counter()
            # explicit: rapidocr 3.x's __call__ stores use_det/use_cls on the engine (update_params), so a
            # recognition-only call before this one would otherwise switch the detector off for good
            res = self.engine(page_bgr, use_det=True, use_cls=True)
            seconds = time.perf_counter() - t0
            if getattr(res, "txts", None) is None:
                return {"seconds": seconds, "stages": [0.0, 0.0, 0.0], "lines": []}
            if getattr(res, "boxes", None) is None:
                # a bare recognition result (no boxes) means the whole image was read as one line
                h, w = page_bgr.shape[:2]
                page_box = [[0.0, 0.0], [float(w), 0.0], [float(w), float(h)], [0.0, float(h)]]
                lines = [
                    {"text": t, "score": round(float(s), 4), "box": page_box}
                    for t, s in zip(res.txts, res.scores, strict=True)
                    if t.strip() and float(s) >= self.engine.text_score
                ]
                return {"seconds": seconds, "stages": [0.0, 0.0, float(res.elapse or 0.0)], "lines": lines}
            stages = [float(x or 0.0) for x in res.elapse_list]
            lines = [
                {"text": t, "score": round(float(s), 4), "box": np.asarray(b, dtype=float).round(1).tolist()}
                for t, s, b in zip(res.txts, res.scores, res.boxes, strict=True)
            ]
            return {"seconds": seconds, "stages": stages, "lines": lines}
        t0 = time.perf_counter()
        res = self.engine(page_bgr, use_det=False, use_cls=False)
        seconds = time.perf_counter() - t0
        text, score = (res.txts[0], float(res.scores[0])) if res.txts else ("", 0.0)
        lines = [{"text": text, "score": round(score, 4), "box": None}] if text.strip() else []
        return {"seconds": seconds, "stages": [0.0, 0.0, float(res.elapse or 0.0)], "lines": lines}


# --- rapidocr-onnxruntime 1.4.x -----------------------------------------------------------------------
class RapidOrtEngine:
    """rapidocr-onnxruntime 1.4.4; its bundled models are PP-OCRv4 mobile det/rec + mobile v2.0 cls."""

    def __init__(self, model: str, settings: str, threads: int) -> None:
        if model != "pp-ocrv4":
            raise SystemExit("rapidocr-onnxruntime 1.4.4 is only benchmarked with its own PP-OCRv4 models")
        from rapidocr_onnxruntime import RapidOCR

        kwargs: dict[str, Any] = {"intra_op_num_threads": threads, "inter_op_num_threads": 1}
        if settings == "matched":
            kwargs |= {
                "max_side_len": 10**9,  # no global page resize
                "min_side_len": 0,
                "width_height_ratio": -1,  # no letterbox on very wide / short pages
                "min_height": -1,
                "det_mean": [0.485, 0.456, 0.406],
                "det_std": [0.229, 0.224, 0.225],
            }
        self.engine = RapidOCR(**kwargs)
        for stage, obj in (("det", self.engine.text_det), ("cls", self.engine.text_cls), ("rec", self.engine.text_rec)):
            ort_wrapper = _ort_wrapper(obj)
            ort_wrapper.session = TimedOrtSession(stage, ort_wrapper.session)
        self.settings = settings

    def info(self) -> dict[str, Any]:
        import onnxruntime

        det = self.engine.text_det
        post = det.postprocess_op
        sess = _ort_wrapper(det).session._session
        return {
            "engine": "rapidocr_onnxruntime",
            "version": "1.4.4",
            "onnxruntime": onnxruntime.__version__,
            "model_paths": {
                "det": str(sess._model_path),
                "cls": str(_ort_wrapper(self.engine.text_cls).session._session._model_path),
                "rec": str(_ort_wrapper(self.engine.text_rec).session._session._model_path),
            },
            "threads": int(sess.get_session_options().intra_op_num_threads),
            "options": {
                "limit_type": det.limit_type,
                "limit_side_len": det.limit_side_len,
                "det_mean": list(det.mean) if det.mean is not None else None,
                "det_std": list(det.std) if det.std is not None else None,
                "thresh": post.thresh,
                "box_thresh": post.box_thresh,
                "unclip_ratio": post.unclip_ratio,
                "use_dilation": post.dilation_kernel is not None,
                "cls_batch_num": self.engine.text_cls.cls_batch_num,
                "rec_batch_num": self.engine.text_rec.rec_batch_num,
                "text_score": self.engine.text_score,
                "max_side_len": self.engine.max_side_len,
                "min_side_len": self.engine.min_side_len,
                "min_height": self.engine.min_height,
                "width_height_ratio": self.engine.width_height_ratio,
                "enable_cpu_mem_arena": False,
            },
        }

    def run(self, page_rgb: np.ndarray, page_bgr: np.ndarray, mode: str) -> dict[str, Any]:
        if mode == "e2e":
            t0 = time.perf_counter()
            res, elapse = self.engine(page_bgr)
            seconds = time.perf_counter() - t0
            if not res:
                return {"seconds": seconds, "stages": [0.0, 0.0, 0.0], "lines": []}
            lines = [
                {"text": t, "score": round(float(s), 4), "box": np.asarray(b, dtype=float).round(1).tolist()}
                for b, t, s in res
            ]
            return {"seconds": seconds, "stages": [float(x or 0.0) for x in elapse], "lines": lines}
        t0 = time.perf_counter()
        res, elapse = self.engine(page_bgr, use_det=False, use_cls=False)
        seconds = time.perf_counter() - t0
        lines = []
        if res:
            text, score = res[0][0], float(res[0][1])
            if text.strip():
                lines = [{"text": text, "score": round(score, 4), "box": None}]
        return {"seconds": seconds, "stages": [0.0, 0.0, float(elapse[-1] or 0.0)], "lines": lines}


# --- PaddleOCR 2.9.1 (Paddle Inference) ---------------------------------------------------------------
class TimedPredictor:
    """Stands in for a paddle.inference.Predictor; times ``run`` (tensor copies stay outside)."""

    def __init__(self, stage: str, predictor: Any) -> None:
        self._stage = stage
        self._predictor = predictor

    def run(self, *args: Any) -> Any:
        t0 = time.perf_counter()
        out = self._predictor.run(*args)
        CLOCK.seconds[self._stage] += time.perf_counter() - t0
        CLOCK.calls[self._stage] += 1
        return out

    def __getattr__(self, name: str) -> Any:
        return getattr(self._predictor, name)


class PaddleOcrEngine:
    """paddleocr 2.9.1 on Paddle Inference with luodi's pp-ocrv4 Paddle files (no download).

    Threads: PaddleOCR applies ``cpu_threads`` only together with MKL-DNN, so MKL-DNN is on in both
    settings (without it Paddle runs its own default thread count, which cannot be matched).
    """

    def __init__(self, model: str, settings: str, threads: int) -> None:
        if model != "pp-ocrv4":
            raise SystemExit("PaddleOCR 2.9.1 is only benchmarked with the PP-OCRv4 Paddle inference files")
        os.environ.setdefault("FLAGS_enable_pir_api", "0")
        from paddleocr import PaddleOCR

        home = os.environ.get("LUODI_MODELS", os.path.expanduser("~/.local/share/luodi/models"))
        kwargs: dict[str, Any] = {
            "det_model_dir": f"{home}/pp-ocrv4/paddle/det",
            "rec_model_dir": f"{home}/pp-ocrv4/paddle/rec",
            "cls_model_dir": f"{home}/pp-ocrv4/paddle/cls",
            "use_angle_cls": True,
            "lang": "ch",
            "show_log": False,
            "use_gpu": False,
            "enable_mkldnn": True,
            "cpu_threads": threads,
        }
        if settings == "matched":
            kwargs |= {
                "det_limit_type": "min",
                "det_limit_side_len": 736,
                "det_db_box_thresh": 0.5,
                "det_db_unclip_ratio": 1.6,
                "use_dilation": True,
            }
        self.engine = PaddleOCR(**kwargs)
        self.engine.text_detector.predictor = TimedPredictor("det", self.engine.text_detector.predictor)
        self.engine.text_classifier.predictor = TimedPredictor("cls", self.engine.text_classifier.predictor)
        self.engine.text_recognizer.predictor = TimedPredictor("rec", self.engine.text_recognizer.predictor)
        self.args = self.engine.args

    def info(self) -> dict[str, Any]:
        import paddle

        a = self.args
        return {
            "engine": "paddleocr",
            "version": "2.9.1",
            "paddle": getattr(paddle, "__version__", "?"),
            "model_dirs": {"det": a.det_model_dir, "rec": a.rec_model_dir, "cls": a.cls_model_dir},
            "threads": a.cpu_threads,
            "options": {
                k: getattr(a, k)
                for k in (
                    "det_limit_type", "det_limit_side_len", "det_db_thresh", "det_db_box_thresh",
                    "det_db_unclip_ratio", "use_dilation", "det_db_score_mode", "cls_batch_num", "cls_thresh",
                    "rec_batch_num", "rec_image_shape", "drop_score", "enable_mkldnn", "cpu_threads",
                )
            },
        }  # fmt: skip

    def run(self, page_rgb: np.ndarray, page_bgr: np.ndarray, mode: str) -> dict[str, Any]:
        if mode == "e2e":
            t0 = time.perf_counter()
            boxes, recs, times = self.engine(page_bgr, cls=True)
            seconds = time.perf_counter() - t0
            lines = []
            for b, (text, score) in zip(boxes if boxes is not None else [], recs or [], strict=True):
                lines.append({"text": text, "score": round(float(score), 4), "box": np.asarray(b).round(1).tolist()})
            return {"seconds": seconds, "stages": [times["det"], times["cls"], times["rec"]], "lines": lines}
        t0 = time.perf_counter()
        recs, elapse = self.engine.text_recognizer([page_bgr])
        seconds = time.perf_counter() - t0
        text, score = recs[0]
        lines = [{"text": text, "score": round(float(score), 4), "box": None}] if text.strip() else []
        return {"seconds": seconds, "stages": [0.0, 0.0, float(elapse)], "lines": lines}


def _ort_wrapper(stage_obj: Any) -> Any:
    """1.4.4 keeps its OrtInferSession as ``.infer`` in det/cls but as ``.session`` in rec."""
    return stage_obj.infer if hasattr(stage_obj, "infer") else stage_obj.session


ENGINES = {
    "luodi": LuodiEngine,
    "rapidocr": Rapid3Engine,
    "rapidocr_onnxruntime": RapidOrtEngine,
    "paddleocr": PaddleOcrEngine,
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engine", choices=sorted(ENGINES), required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--settings", choices=["defaults", "matched", "matched_spin"], required=True)
    ap.add_argument("--threads", type=int, required=True)
    args = ap.parse_args()
    engine: Any = ENGINES[args.engine](args.model, args.settings, args.threads)
    out = sys.stdout
    # engines may print; keep the protocol channel clean
    sys.stdout = sys.stderr
    cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for raw in sys.stdin:
        req = json.loads(raw)
        op = req["op"]
        if op == "quit":
            break
        if op == "info":
            reply: dict[str, Any] = engine.info()
        elif op == "run":
            path = req["page"]
            if path not in cache:
                rgb = np.load(path)
                cache[path] = (rgb, np.ascontiguousarray(rgb[:, :, ::-1]))
            rgb, bgr = cache[path]
            CLOCK.reset()
            cpu0 = time.process_time()
            reply = engine.run(rgb, bgr, req.get("mode", "e2e"))
            # CPU seconds of the whole process (all threads): less sensitive to other load than wall time
            reply["cpu"] = time.process_time() - cpu0
            reply["infer"] = [CLOCK.seconds[s] for s in STAGES]
            reply["infer_calls"] = [CLOCK.calls[s] for s in STAGES]
            reply["det_shape"] = CLOCK.det_shape
            reply["rss"] = rss_bytes()
        else:
            reply = {"error": f"unknown op {op!r}"}
        out.write(json.dumps(reply, ensure_ascii=False) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
