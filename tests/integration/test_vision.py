"""luodi train vision|anomaly, inspect and eval vision end to end on generated surface images.

Real backbones (the efficientnet-lite0 and -lite2 bundles), real Paddle training and ONNX export, real CLI
processes; a private model store so nothing lands in the user's zoo.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from vision_data import make_classes

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, require_bundle: Callable[[str], object]) -> dict[str, str]:
    from luodi.vision.bundle import ANOMALY_BACKBONE

    home = tmp_path_factory.mktemp("home")
    (home / "models").mkdir()
    for name in {"efficientnet-lite0", ANOMALY_BACKBONE}:  # the classifier's and the anomaly model's
        bundle = require_bundle(name)
        os.symlink(bundle.files[0].path.parent, home / "models" / name)  # type: ignore[attr-defined]
    src = Path(__file__).resolve().parents[2] / "src"
    return {**os.environ, "LUODI_HOME": str(home), "PYTHONPATH": str(src)}


def luodi(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "luodi", *args],
        check=False,
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tiles")
    make_classes(root / "train", {"good": 36, "spot": 12, "scratch": 12}, seed=1)
    make_classes(root / "test", {"good": 10, "spot": 5, "scratch": 5}, seed=2)
    (root / "cfg.yml").write_text(
        "image_size: 64\noutput_dir: runs\ngood_class: good\n"
        "Train:\n  data: train\n  epochs: 6\n  batch_size: 32\nEval:\n  holdout: 0.25\nAugment:\n  photometric: 0\n",
        encoding="utf-8",
    )
    return root


def test_classifier_trains_inspects_evaluates_and_resumes(env: dict[str, str], data: Path) -> None:
    run = luodi(env, "train", "vision", "--config", str(data / "cfg.yml"), "--name", "tiles", cwd=data)
    assert run.returncode == 0, run.stderr[-2000:]
    summary = json.loads(run.stdout)
    assert summary["labels"] == ["good", "scratch", "spot"] and summary["model"] == "tiles"
    assert summary["export_max_rel_diff"] < 1e-3
    run_dir = data / "runs" / "tiles"
    for name in ("best.pdparams", "latest.pdparams", "state.json", "metrics.csv", "curves.png", "data.json"):
        assert (run_dir / name).is_file(), name

    # resume with more epochs continues from epoch 6 (the cached features are reused)
    cfg2 = data / "cfg.yml"
    cfg2.write_text(cfg2.read_text(encoding="utf-8").replace("epochs: 6", "epochs: 8"), encoding="utf-8")
    res = luodi(env, "train", "vision", "--config", str(cfg2), "--resume", str(run_dir), "--no-export", cwd=data)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "resumed after epoch 6" in res.stderr and json.loads(res.stdout)["epochs"] == 8
    rows = list(csv.DictReader(io.StringIO((run_dir / "metrics.csv").read_text(encoding="utf-8"))))
    assert [int(r["epoch"]) for r in rows] == list(range(1, 9))

    ev = luodi(env, "eval", "vision", str(data / "test"), "--model", "tiles", "--confusion", str(data / "cm.png"))
    assert ev.returncode == 0, ev.stderr[-2000:]
    report = json.loads(ev.stdout)
    assert report["n"] == 20 and report["accuracy"] >= 0.8, report
    assert set(report["per_class"]) == {"good", "scratch", "spot"}
    assert (data / "cm.png").stat().st_size > 1000

    one = luodi(env, "inspect", str(data / "test" / "spot" / "spot_0.jpg"), "--model", "tiles")
    assert one.returncode == 0, one.stderr[-2000:]
    r = json.loads(one.stdout)
    assert r["kind"] == "classify" and set(r["probabilities"]) == {"good", "scratch", "spot"}
    assert r["decision"] == ("ok" if r["label"] == "good" else "defect")

    # a folder: masks beside images are not inspected; a corrupt file is reported, the rest still come out
    (data / "test" / "good" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 nope")
    many = luodi(env, "inspect", str(data / "test" / "good"), "--model", "tiles", "--format", "csv")
    assert many.returncode == 1
    table = list(csv.DictReader(io.StringIO(many.stdout)))
    assert len(table) == 11 and sum(1 for t in table if t["error"]) == 1
    assert "broken.jpg" in many.stderr
    (data / "test" / "good" / "broken.jpg").unlink()


def test_quantize_a_classifier(env: dict[str, str], data: Path) -> None:
    # runs after the classifier test, which registered "tiles"
    run = luodi(
        env,
        "quantize",
        "tiles",
        "--calib",
        str(data / "train"),
        "--name",
        "tiles-int8",
        "--toolchain",
        "ort",
        "--threads",
        "1",
        "--eval-labels",
        str(data / "test"),
    )
    assert run.returncode == 0, run.stderr[-2000:]
    report = json.loads(run.stdout)
    assert report["runtime"] == "onnxruntime" and report["calibration_images"] >= 8
    assert set(report["latency_ms_per_image"]) == {"fp32_onnxruntime", "int8_onnxruntime"}
    assert report["fp32"]["n"] == report["int8"]["n"] == 20
    out = luodi(env, "inspect", str(data / "test" / "spot" / "spot_0.jpg"), "--model", "tiles-int8")
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout)["model"] == "tiles-int8"


def test_one_class_is_refused_with_a_pointer_to_anomaly_mode(env: dict[str, str], data: Path) -> None:
    make_classes(data / "one", {"good": 4})
    (data / "one.yml").write_text("Train:\n  data: one\n", encoding="utf-8")
    run = luodi(env, "train", "vision", "--config", str(data / "one.yml"), "--name", "x", cwd=data)
    assert run.returncode != 0
    assert "luodi train anomaly --good" in run.stderr


def test_anomaly_model_trains_scores_and_draws_heat_maps(env: dict[str, str], data: Path) -> None:
    run = luodi(
        env,
        "train",
        "anomaly",
        "--good",
        str(data / "train" / "good"),
        "--name",
        "tiles-ad",
        "--image-size",
        "96",
        "--holdout",
        "0.25",
    )
    assert run.returncode == 0, run.stderr[-2000:]
    summary = json.loads(run.stdout)
    assert summary["bank_size"] <= summary["patches"] and summary["held_images"] >= 5

    ev = luodi(env, "eval", "vision", str(data / "test"), "--model", "tiles-ad")
    assert ev.returncode == 0, ev.stderr[-2000:]
    report = json.loads(ev.stdout)
    assert report["good_class"] == "good" and report["image_auroc"] >= 0.9, report
    assert report["pixel_auroc"] >= 0.8 and report["pixel_images"] == 20
    assert 0.0 <= report["false_alarm_rate"] <= 1.0 and "recall_at_threshold" in report

    vis = data / "vis"
    out = luodi(
        env, "inspect", str(data / "test" / "spot"), "--model", "tiles-ad", "--format", "jsonl", "--visualize", str(vis)
    )
    assert out.returncode == 0, out.stderr[-2000:]
    recs = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(recs) == 5 and all(r["kind"] == "anomaly" and r["threshold"] > 0 for r in recs)
    assert sum(r["decision"] == "defect" for r in recs) >= 4
    assert sorted(p.name for p in vis.iterdir()) == [f"spot_{i}.png" for i in range(5)]

    from luodi.vision import Inspector

    os.environ["LUODI_HOME"] = env["LUODI_HOME"]
    try:
        inspector = Inspector("tiles-ad", home=env["LUODI_HOME"])
        import numpy as np

        wide = np.full((60, 300, 3), 128, np.uint8)  # another size: resized in, heat map back at 60 x 300
        res = inspector(wide)
        assert res.heatmap is not None and res.heatmap.shape == (60, 300)
        # the default bank lies on the 96 principal axes of the 208 stage-3+4 values
        assert dict(inspector.meta.extra)["projected_to"] == 96
        from luodi.vision.bundle import read_bank, read_projection
        from luodi.zoo.generic import bundle_file

        bank = read_bank(inspector.bundle)
        proj = read_projection(inspector.bundle, bank)
        assert bank.shape[1] == 96 and proj is not None and proj.shape == (209, 96)
        # a projection that does not fit the bank is refused, naming it (the same bytes: the zoo's
        # size check passes, the shape check must catch it)
        bad = bundle_file(inspector.bundle, "projection")
        np.save(bad, np.ascontiguousarray(proj.T))
        from luodi.errors import ModelError

        with pytest.raises(ModelError, match=r"projection must be \(features \+ 1\) x 96"):
            Inspector("tiles-ad", home=env["LUODI_HOME"])
        np.save(bad, proj)
    finally:
        del os.environ["LUODI_HOME"]


def test_quantize_an_anomaly_model_keeps_its_bank_and_projection(env: dict[str, str], data: Path) -> None:
    # runs after the anomaly test, which registered "tiles-ad" (bank on 96 principal axes)
    run = luodi(
        env,
        "quantize",
        "tiles-ad",
        "--calib",
        str(data / "train" / "good"),
        "--name",
        "tiles-ad-int8",
        "--toolchain",
        "ort",
        "--threads",
        "1",
        "--eval-labels",
        str(data / "test"),
    )
    assert run.returncode == 0, run.stderr[-2000:]
    report = json.loads(run.stdout)
    assert report["fp32"]["n"] == report["int8"]["n"] == 20
    # the INT8 copy scores with the same bank and projection: close to FP32 on these images
    assert report["int8"]["image_auroc"] >= report["fp32"]["image_auroc"] - 0.1, report
    models = Path(env["LUODI_HOME"]) / "models"
    files = {p.name for p in (models / "tiles-ad-int8").iterdir()}
    assert {"bank.npy", "projection.npy", "vision.json"} <= files, files
    # the INT8 copy searches its bank in int8; the FP32 bundle's vision.json is untouched (float)
    meta = json.loads((models / "tiles-ad-int8" / "vision.json").read_text(encoding="utf-8"))
    base = json.loads((models / "tiles-ad" / "vision.json").read_text(encoding="utf-8"))
    assert meta.pop("search") == "int8" and "search" not in base
    # without --held the threshold is mapped from the calibration images, and says so
    thr = report["threshold"]
    assert thr["source"] == "mapped" and thr["fp32"] == base["threshold"] and "--held" in thr["warning"]
    assert "warning: the INT8 threshold" in run.stderr
    assert (meta.pop("threshold"), meta.pop("threshold_source"), meta.pop("fp32_threshold")) == (
        thr["int8"],
        "mapped",
        base["threshold"],
    )
    assert meta.pop("score_scale") == pytest.approx(base.pop("score_scale") * thr["int8"] / base.pop("threshold"))
    assert meta == base
    from luodi.vision.inspector import Inspector

    img = data / "test" / "spot" / "spot_0.jpg"
    fp32 = Inspector("tiles-ad", home=env["LUODI_HOME"])
    int8 = Inspector("tiles-ad-int8", home=env["LUODI_HOME"])
    as_before = Inspector("tiles-ad-int8", home=env["LUODI_HOME"], search="float")
    assert (fp32.search, int8.search, as_before.search) == ("float", "int8", "float")
    assert fp32._search is None and as_before._search is None and int8._search is not None
    # same backbone, two searches: the int8 search's score is the float distance to the row it
    # chose, never below the float search's nearest (a little float noise aside)
    a, b = int8(str(img)), as_before(str(img))
    assert b.score - 1e-3 <= a.score <= b.score * 1.05 + 1e-3, (a.score, b.score)


def test_anomaly_threshold_from_a_separate_folder_of_good_parts(env: dict[str, str], data: Path) -> None:
    run = luodi(
        env,
        "train",
        "anomaly",
        "--good",
        str(data / "train" / "good"),
        "--held",
        str(data / "test" / "good"),
        "--name",
        "tiles-ad-held",
        "--image-size",
        "96",
    )
    assert run.returncode == 0, run.stderr[-2000:]
    summary = json.loads(run.stdout)
    # every --good image builds the bank; the threshold comes from the --held folder's 10
    assert summary["bank_images"] == 36 and summary["held_images"] == 10, summary
    meta = json.loads(
        (Path(env["LUODI_HOME"]) / "models" / "tiles-ad-held" / "vision.json").read_text(encoding="utf-8")
    )
    # held_scores are stored rounded to 5 decimals; the threshold is just above the highest score
    assert len(meta["held_scores"]) == 10 and round(meta["threshold"], 5) >= max(meta["held_scores"])
    assert meta["resize"] == "native" and meta["score_border"] == 1 and meta["score_top"] == 3
    assert meta["score_mode"] == "heat_max" and meta["sigma"] == 16.0


def test_quantize_an_anomaly_model_chooses_its_threshold_on_held_good_parts(env: dict[str, str], data: Path) -> None:
    # runs after the anomaly test, which registered "tiles-ad"
    held = data / "test" / "good"  # good parts the bank never saw
    (data / "empty-held").mkdir(exist_ok=True)
    for bad, says in ((data / "no-such-folder", "no such folder"), (data / "empty-held", "holds no images")):
        run = luodi(env, "quantize", "tiles-ad", "--calib", str(held), "--name", "x-int8", "--held", str(bad))
        assert run.returncode == 1 and says in run.stderr, run.stderr
        assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr, run.stderr
    run = luodi(
        env,
        "quantize",
        "tiles-ad",
        "--calib",
        str(data / "train" / "good"),
        "--name",
        "tiles-ad-int8-held",
        "--toolchain",
        "ort",
        "--threads",
        "1",
        "--held",
        str(held),
    )
    assert run.returncode == 0, run.stderr[-2000:]
    thr = json.loads(run.stdout)["threshold"]
    assert thr["source"] == "held" and thr["held_images"] == 10 and "warning" not in thr
    import numpy as np

    from luodi.vision.inspector import Inspector
    from luodi.vision.patchcore import threshold_for

    int8 = Inspector("tiles-ad-int8-held", home=env["LUODI_HOME"])
    fp32 = Inspector("tiles-ad", home=env["LUODI_HOME"])
    assert int8.meta.threshold == thr["int8"] and fp32.meta.threshold == thr["fp32"]
    assert int8.meta.false_alarm_rate == fp32.meta.false_alarm_rate == thr["false_alarm_rate"]
    # the threshold is the one the INT8 copy's own scores of the held parts give at the rate
    scores = np.array([int8(str(p)).score for p in sorted(held.glob("*.jpg"))])
    assert len(scores) == 10
    assert thr["int8"] == pytest.approx(threshold_for(scores, thr["false_alarm_rate"]), rel=1e-6)
    assert np.mean(scores >= thr["int8"]) <= thr["false_alarm_rate"]
    assert thr["held_flagged_at_fp32_threshold"] == pytest.approx(np.mean(scores >= thr["fp32"]), abs=1e-4)
    assert dict(int8.meta.extra)["held_scores"] == [round(float(s), 5) for s in sorted(scores)]
