"""Fine-tuning with the real PP-OCRv4 weights: load parity, a tiny training run, resume, export."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytestmark = pytest.mark.integration

TEXTS = ["张三13812345678", "北京市海淀区", "收件人：李四", "上海市浦东新区88号", "王五", "电话021-62538890"]


@pytest.fixture(scope="module")
def v4(require_bundle: Callable[[str], Any]) -> Any:
    return require_bundle("pp-ocrv4")


@pytest.fixture(scope="module")
def paddle() -> Any:
    from luodi.train.trainer import import_paddle

    return import_paddle()


@pytest.fixture(scope="module")
def line_sets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from luodi.synth import generate_lines

    root = tmp_path_factory.mktemp("lines")
    train = generate_lines(TEXTS, root / "train", style="dotmatrix", n=8, seed=11).label_file
    dev = generate_lines(TEXTS, root / "dev", style="dotmatrix", n=4, seed=12).label_file
    return {"train": Path(train), "dev": Path(dev)}


def rec_input(path: Path) -> np.ndarray:
    from luodi.train.data import decode_image, make_batch, resize_line

    img = decode_image(path)
    assert img is not None
    return make_batch([resize_line(img, 2000)], ["x"], None).images


def test_pretrained_load_gives_the_inference_models_outputs(v4: Any, paddle: Any, line_sets: dict[str, Path]) -> None:
    import onnxruntime as ort

    from luodi.train.model import build_model
    from luodi.train.weights import load_pretrained

    model = build_model()
    report = load_pretrained(model, v4.rec.model)
    assert report.num_classes == model.num_classes == 6625
    model.eval()
    session = ort.InferenceSession(str(v4.rec.model), providers=["CPUExecutionProvider"])
    real = rec_input(next((line_sets["train"].parent / "images").glob("*.png")))
    noise = np.random.default_rng(0).uniform(-1, 1, (2, 3, 48, 320)).astype(np.float32)
    for x in (real, noise):
        expected = session.run(None, {"x": x})[0]
        got = model(paddle.to_tensor(x)).numpy()
        assert got.shape == expected.shape
        assert np.abs(got - expected).max() < 1e-3
        assert (got.argmax(-1) == expected.argmax(-1)).all()


@pytest.mark.parametrize(
    ("bundle", "arch", "classes"), [("pp-ocrv5", "pplcnetv3", 18385), ("pp-ocrv6-small", "ppocrv6-small", 18710)]
)
def test_v5_and_v6_rebuilds_match_their_onnx_files(
    require_bundle: Callable[[str], Any], paddle: Any, line_sets: dict[str, Path], bundle: str, arch: str, classes: int
) -> None:
    """The dynamic-graph rebuild, loaded from the shipped file, gives its outputs: tiny difference, same argmax."""
    import onnxruntime as ort

    from luodi.train.model import build_model
    from luodi.train.weights import detect_architecture, load_pretrained

    stock = require_bundle(bundle)
    assert detect_architecture(stock.rec.model) == arch
    model = build_model(classes, arch)
    report = load_pretrained(model, stock.rec.model)
    assert report.num_classes == classes
    model.eval()
    session = ort.InferenceSession(str(stock.rec.model), providers=["CPUExecutionProvider"])
    images = sorted((line_sets["train"].parent / "images").glob("*.png"))[:2]
    noise = np.random.default_rng(1).uniform(-1, 1, (2, 3, 48, 200)).astype(np.float32)
    for x in (*(rec_input(p) for p in images), noise):
        expected = session.run(None, {"x": x})[0]
        got = model(paddle.to_tensor(x)).numpy()
        assert got.shape == expected.shape
        assert np.abs(got - expected).max() < 1e-4
        assert (got.argmax(-1) == expected.argmax(-1)).all()


def test_load_refuses_another_architecture(require_bundle: Callable[[str], Any], paddle: Any) -> None:
    from luodi.errors import ModelError
    from luodi.train.model import build_model
    from luodi.train.weights import load_pretrained

    v6 = require_bundle("pp-ocrv6-small")
    with pytest.raises(ModelError, match=r"architecture|shape"):
        load_pretrained(build_model(), v6.rec.model)
    with pytest.raises(ModelError, match=r"shape"):
        load_pretrained(build_model(), require_bundle("pp-ocrv5").rec.model)  # same layout, other dictionary


def tiny_config(line_sets: dict[str, Path], out: Path, steps: int) -> Any:
    from luodi.train.config import parse_config

    return parse_config(
        {
            "base": "pp-ocrv4",
            "output_dir": str(out),
            "seed": 3,
            "Augment": {"enabled": False},
            "Optimizer": {"lr": 3e-4, "warmup_steps": 0, "schedule": "constant"},
            "Characters": {"extra": ["䶮"]},
            "Guard": {"enabled": False},  # the guard has its own test below
            "Report": {"regression": False},
            "Train": {"batch_size": 4, "steps": steps, "log_every": 1, "labels": [str(line_sets["train"])]},
            "Eval": {"every_steps": 2, "labels": [str(line_sets["dev"])]},
        }
    )


@pytest.fixture(scope="module")
def trained(v4: Any, line_sets: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Any:
    from luodi.train.trainer import train

    return train(tiny_config(line_sets, tmp_path_factory.mktemp("runs"), 4), name="straight", progress=False)


@pytest.mark.slow
def test_tiny_run_lowers_loss_and_writes_checkpoints(trained: Any, line_sets: dict[str, Path], paddle: Any) -> None:
    from luodi.eval.datasets import read_rec_labels
    from luodi.train.charset import read_charset
    from luodi.train.data import load_lines
    from luodi.train.export import load_run_model
    from luodi.train.model import build_model
    from luodi.train.trainer import base_files, ctc_loss_on
    from luodi.train.weights import load_pretrained

    run = trained.run_dir
    for name in ("latest.pdparams", "latest.pdopt", "latest.json", "best.pdparams", "dict.txt", "metrics.csv"):
        assert (run / name).is_file(), name
    assert (run / "curves.png").stat().st_size > 1000
    assert trained.steps == 4
    assert trained.added_characters == ("䶮",)
    charset = read_charset(run / "dict.txt")
    assert charset.entries[-1] == "䶮"
    rows = (run / "metrics.csv").read_text(encoding="utf-8").splitlines()
    assert rows[0].startswith("step,loss,lr,eval_line_accuracy")
    assert len(rows) == 1 + 4 + 3  # 4 loss rows, eval before training and at steps 2 and 4

    lines, _ = load_lines(read_rec_labels(line_sets["train"]), max_width=320, known=None, drop_unknown=False)
    onnx_path, dict_path = base_files("pp-ocrv4")
    stock = build_model()
    load_pretrained(stock, onnx_path)
    before = ctc_loss_on(stock, lines, read_charset(dict_path))
    tuned, _ = load_run_model(run, "latest")
    after = ctc_loss_on(tuned, lines, charset)
    assert after < before * 0.9, (before, after)


@pytest.mark.slow
def test_resumed_run_matches_an_uninterrupted_one(
    trained: Any, line_sets: dict[str, Path], tmp_path: Path, paddle: Any
) -> None:
    from luodi.errors import ConfigError
    from luodi.train.trainer import train

    first = train(tiny_config(line_sets, tmp_path, 2), name="split", progress=False)
    assert first.steps == 2
    with pytest.raises(ConfigError, match="already holds a run"):
        train(tiny_config(line_sets, tmp_path, 2), name="split", progress=False)
    resumed = train(tiny_config(line_sets, tmp_path, 4), resume=first.run_dir, progress=False)
    assert resumed.steps == 4
    a = paddle.load(str(trained.run_dir / "latest.pdparams"))
    b = paddle.load(str(resumed.run_dir / "latest.pdparams"))
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_allclose(a[key].numpy(), b[key].numpy(), rtol=1e-4, atol=1e-6, err_msg=key)


@pytest.mark.slow
def test_export_round_trip_and_ocr_with_the_registered_name(
    trained: Any, line_sets: dict[str, Path], paddle: Any
) -> None:
    import onnxruntime as ort

    from luodi import OCR, OCROptions
    from luodi.train.export import export_run, load_run_model
    from luodi.zoo import get_bundle, unregister_bundle

    name = f"test-ft-{uuid.uuid4().hex[:8]}"
    result = export_run(trained.run_dir, name)
    try:
        assert result.max_abs_diff < 1e-3
        assert result.paddle_prefix.with_suffix(".pdiparams").is_file()
        model, charset = load_run_model(trained.run_dir)
        image = next((line_sets["dev"].parent / "images").glob("*.png"))
        x = rec_input(image)
        session = ort.InferenceSession(str(result.onnx), providers=["CPUExecutionProvider"])
        onnx_out = session.run(None, {session.get_inputs()[0].name: x})[0]
        dyn_out = model(paddle.to_tensor(x)).numpy()
        assert onnx_out.shape[-1] == 6626  # the added character has its own class
        assert np.abs(onnx_out - dyn_out).max() < 1e-3

        bundle = get_bundle(name)
        assert bundle.base == "pp-ocrv4"
        assert bundle.det is not None and bundle.cls is not None  # borrowed from the stock bundle
        doc = OCR(name)(str(image), OCROptions(use_det=False, use_cls=False))
        assert "".join(line.text for line in doc.lines) == charset.decode(dyn_out[0])
    finally:
        unregister_bundle(name)


@pytest.mark.slow
def test_ctrl_c_saves_a_checkpoint_that_resumes(v4: Any, line_sets: dict[str, Path], tmp_path: Path) -> None:
    """SIGINT in the middle of `luodi train`: exit 130, a checkpoint, and a resume that finishes."""
    import json
    import os
    import signal
    import subprocess
    import sys
    import time

    import yaml

    config = {
        "base": "pp-ocrv4",
        "output_dir": str(tmp_path / "runs"),
        "seed": 3,
        "Augment": {"enabled": False},
        "Optimizer": {"lr": 3e-4, "warmup_steps": 0, "schedule": "constant"},
        "Guard": {"enabled": False},
        "Report": {"regression": False},
        "Train": {"batch_size": 2, "steps": 500, "log_every": 1, "labels": [str(line_sets["train"])]},
    }
    cfg = tmp_path / "cfg.yml"
    cfg.write_text(yaml.safe_dump(config), encoding="utf-8")
    cmd = [sys.executable, "-m", "luodi", "train", "rec", "--config", str(cfg), "--name", "ctrlc", "--no-export"]
    # The run gets what a shell's Ctrl-C would find: its own session, no hand-off variables another test
    # left behind, and its output in files (no pipe to fill).
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PADDLE_", "PROMETHEUS_", "LUODI_SERVE_"))}

    out_file = (tmp_path / "train.out").open("w+", encoding="utf-8")
    err_file = (tmp_path / "train.err").open("w+", encoding="utf-8")
    proc = subprocess.Popen(cmd, stdout=out_file, stderr=err_file, text=True, env=env, start_new_session=True)
    metrics = tmp_path / "runs" / "ctrlc" / "metrics.csv"
    deadline = time.monotonic() + 300  # a loaded 2-core CI box loads paddle and the data slowly
    # interrupt once a few steps are logged: training is under way, not still loading
    while time.monotonic() < deadline and proc.poll() is None:
        if metrics.is_file() and len(metrics.read_text(encoding="utf-8").splitlines()) >= 4:
            break
        time.sleep(0.2)
    assert proc.poll() is None, (tmp_path / "train.err").read_text(encoding="utf-8")
    proc.send_signal(signal.SIGINT)
    try:  # the step under way finishes, then the checkpoint is written: minutes on a loaded CI box
        proc.wait(timeout=240)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise
    finally:
        out_file.close()
        err_file.close()
    err = (tmp_path / "train.err").read_text(encoding="utf-8")
    assert proc.returncode == 130, err
    assert "interrupted; checkpoint saved" in err and "--resume" in err
    run = tmp_path / "runs" / "ctrlc"
    state = json.loads((run / "latest.json").read_text(encoding="utf-8"))
    assert 3 <= state["step"] < 500 and (run / "latest.pdparams").is_file() and (run / "latest.pdopt").is_file()

    config["Train"]["steps"] = state["step"] + 1  # the resumed run picks up there and finishes
    cfg.write_text(yaml.safe_dump(config), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "luodi", "train", "rec", "--config", str(cfg), "--resume", str(run), "--no-export"],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads((run / "latest.json").read_text(encoding="utf-8"))["step"] == state["step"] + 1


@pytest.mark.slow
def test_v6_run_with_the_guard_reports_before_after_and_gates_export(
    require_bundle: Callable[[str], Any], line_sets: dict[str, Path], tmp_path: Path, paddle: Any
) -> None:
    """PP-OCRv6 small, every guard part on (general lines, distillation, backbone lr, EMA), the
    regression report at the end, and an export refused when the report shows a loss."""
    import json

    import onnxruntime as ort

    from luodi.errors import ModelRegressionError
    from luodi.ocr.line_prep import LinePrep
    from luodi.train.config import parse_config
    from luodi.train.export import export_run, load_run_model, run_line_prep
    from luodi.train.trainer import train

    require_bundle("pp-ocrv6-small")
    config = parse_config(
        {
            "base": "pp-ocrv6-small",
            "output_dir": str(tmp_path),
            "seed": 3,
            "Augment": {"enabled": False},
            # the dot-joining line preprocessing on every line the run reads, carried into the export
            "Preprocess": {"dot_closing": 0.03},
            "Optimizer": {"lr": 3e-4, "warmup_steps": 0, "schedule": "constant"},
            "Guard": {
                "lines": 8,
                "share": 0.5,
                "distill": 1.0,
                "backbone_lr": 0.3,
                "ema": 0.99,
                "topk": 4,
                "interpolate": 0.5,
            },
            "Report": {"max_lines": 2},
            "Train": {"batch_size": 4, "steps": 2, "log_every": 1, "labels": [str(line_sets["train"])]},
            "Eval": {"every_steps": 2, "labels": [str(line_sets["dev"])]},
        }
    )
    result = train(config, name="guarded", progress=False)
    run = result.run_dir
    assert json.loads((run / "model.json").read_text(encoding="utf-8"))["arch"] == "ppocrv6-small"
    assert (run / "latest.ema").is_file()
    names = [r.name for r in result.report.rows]
    assert names[0] == "your eval set" and "regression: print" in names and "regression: stamp" in names
    assert "general set: print + print-hard" in (run / "report.md").read_text(encoding="utf-8")
    assert "unseen dot-matrix: dotmatrix + dotmatrix-heldout + dotmatrix-late" in (run / "report.md").read_text(
        encoding="utf-8"
    )
    assert run_line_prep(run) == LinePrep(dot_closing=0.03)
    # what was chosen and is exported: half the EMA weights, half stock's (or stock itself when the
    # step-2 eval did not beat the baseline)
    from luodi.train.model import build_model
    from luodi.train.trainer import base_files
    from luodi.train.weights import load_pretrained

    onnx_path, _ = base_files("pp-ocrv6-small")
    best_head = paddle.load(str(run / "best.pdparams"))["head.weight"].numpy()
    stock = build_model(int(best_head.shape[1]), "ppocrv6-small")
    load_pretrained(stock, onnx_path)
    stock_head = stock.state_dict()["head.weight"].numpy()
    shadow = paddle.load(str(run / "latest.ema"))["w:head.weight"]
    ema_head = shadow.numpy() if hasattr(shadow, "numpy") else np.asarray(shadow)
    expected = 0.5 * stock_head + 0.5 * ema_head if result.best.step == 2 else stock_head
    np.testing.assert_allclose(best_head, expected, atol=1e-6)
    assert not np.allclose(ema_head, stock_head)  # the run did move the head

    exported = export_run(run, out_dir=run / "export")
    model, _ = load_run_model(run)
    x = rec_input(next((line_sets["dev"].parent / "images").glob("*.png")))
    session = ort.InferenceSession(str(exported.onnx), providers=["CPUExecutionProvider"])
    assert np.abs(session.run(None, {"x": x})[0] - model(paddle.to_tensor(x)).numpy()).max() < 1e-3

    report = json.loads((run / "report.json").read_text(encoding="utf-8"))
    for row in report["rows"]:
        if row["name"] == "regression: print":
            row["before"], row["after"] = 1.0, 0.5  # as if the run had forgotten printed text
    (run / "report.json").write_text(json.dumps(report), encoding="utf-8")
    with pytest.raises(ModelRegressionError, match="accept-regression"):
        export_run(run, out_dir=run / "export2")
    assert export_run(run, out_dir=run / "export3", accept_regression=True).max_abs_diff < 1e-3


def test_the_stock_model_reads_rendered_lines_and_illegible_ones_are_dropped(
    require_bundle: Callable[[str], Any], line_sets: dict[str, Path]
) -> None:
    """Train.max_stock_cer: the stock recogniser reads each line; a blank line (label, no ink) is dropped."""
    from luodi.eval.datasets import read_rec_labels
    from luodi.train.charset import read_charset
    from luodi.train.data import LineImage, load_lines
    from luodi.train.legibility import char_error_rate, drop_illegible, stock_reads
    from luodi.train.trainer import base_files

    require_bundle("pp-ocrv6-small")
    onnx_path, dict_path = base_files("pp-ocrv6-small")
    lines, _ = load_lines(read_rec_labels(line_sets["dev"]), max_width=480, known=None, drop_unknown=False)
    blank = LineImage(np.full((48, 240, 3), 235, np.uint8), "北京市海淀区", "blank")
    reads = stock_reads(onnx_path, [*lines, blank], read_charset(dict_path))
    assert sum(char_error_rate(r, ln.label) <= 0.5 for r, ln in zip(reads, lines, strict=False)) >= len(lines) - 1
    kept, rep = drop_illegible([*lines, blank], reads, 0.5)
    assert "blank" not in [ln.source for ln in kept] and rep.dropped >= 1 and rep.kept >= len(lines) - 1


def test_a_bundle_carrying_line_prep_makes_the_engine_preprocess_each_crop(
    require_bundle: Callable[[str], Any], line_sets: dict[str, Path]
) -> None:
    """The rec stage's extra["line_prep"] (written by export from Preprocess) reaches the Recognizer."""
    import dataclasses

    from luodi import OCR
    from luodi.ocr.line_prep import LinePrep
    from luodi.train.data import decode_image

    bundle = require_bundle("pp-ocrv6-small")
    prep = LinePrep(dot_closing=0.05)
    assert bundle.rec is not None
    rec = dataclasses.replace(bundle.rec, extra={**bundle.rec.extra, **prep.to_extra()})
    with_prep = OCR(dataclasses.replace(bundle, rec=rec), locator=None)
    plain = OCR(bundle, locator=None)
    crops = [decode_image(p) for p in sorted((line_sets["dev"].parent / "images").glob("*.png"))]
    crops = [c for c in crops if c is not None]
    got = [r.text for r in with_prep.recognize(crops)]
    assert got == [r.text for r in plain.recognize([prep(c) for c in crops])]
    assert any(not np.array_equal(prep(c), c) for c in crops)  # the preprocessing changes what is read
