"""``luodi train anomaly``: a PatchCore memory bank from good parts only, and its threshold.

1. The good images are split by a hash of their file names: most build the memory bank, a
   held-back share (``holdout``) is never put in the bank and gives the false-alarm threshold.
   With ``held``, a separate folder of good images sets the threshold and all of ``good`` builds
   the bank: needed when the folder holds several shots of the same part, as the magnetic tiles'
   six exposures do. A held-back shot whose sibling is in the bank scores like a seen part, the
   threshold comes out too low, and new parts are flagged far above the rate asked for (measured:
   13.6% false alarms on unseen good tiles for a 1% target).
2. Each bank image's stage-3 and stage-4 patch features (EfficientNet-Lite, frozen, ImageNet weights) go into
   one matrix, projected onto its ``project_to`` principal axes; greedy coreset subsampling keeps
   ``coreset`` of the rows (at most ``max_bank``).
3. The held-back good images are scored; the threshold is the score that flags at most
   ``false_alarm_rate`` of them.
4. The feature extractor (ONNX), the bank and ``vision.json`` are registered in the zoo.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from luodi.errors import ConfigError, EmptyInputError, ModelExistsError
from luodi.vision.bundle import ANOMALY_BACKBONE, TASK_ANOMALY, VisionMeta, backbone_state
from luodi.vision.data import NATIVE, RESIZE_MODES, DataReport, scan_good, split_holdout
from luodi.vision.extract import extract_maps, onnx_session
from luodi.vision.patchcore import HEAT_MAX, SCORE_MODES, SIGMA, fit_projection, greedy_coreset, project
from luodi.vision.scoring import MIN_HELD_IMAGES, score_samples, with_threshold

log = logging.getLogger(__name__)

MIN_BANK_IMAGES = 5
# The bank: the patches projected onto their PROJECT principal axes, then the greedy coreset keeps
# CORESET of them (at most MAX_BANK). On the magnetic tiles' dev splits (Lite2, stages 3+4, 208
# values; bench/results/vision.md) 96 axes and a 20% coreset against all 208 values and 10%: image
# AUROC 0.950 -> 0.959 on the file split (the held-back images' draw), 0.824 -> 0.819 on parts
# never seen (noise), pixel AUROC +0.9 pt on both, for 1.13x the CPU per image (22,538 x 96
# against 11,269 x 208 products). All 208 values at 20% scored 0.961 for 1.59x; the projection
# alone (10%) lost on parts never seen. The CLI's help names these defaults.
PROJECT = 96
CORESET = 0.2
MAX_BANK = 32768


@dataclass(frozen=True, slots=True)
class AnomalyTrainResult:
    name: str
    bank_images: int
    held_images: int
    patches: int
    bank_size: int
    threshold: float
    false_alarm_rate: float
    held_scores: tuple[float, ...]
    report: DataReport
    seconds: dict[str, float]


def _check_options(
    coreset: float,
    false_alarm_rate: float,
    resize: str,
    stages: tuple[int, ...],
    score_mode: str,
    sigma: float,
    holdout: float,
    project_to: int,
) -> None:
    if not 0 < coreset <= 1:
        raise ConfigError(f"coreset must be in (0, 1], got {coreset}")
    if not 0 < false_alarm_rate < 1:
        raise ConfigError(f"the false-alarm rate must be in (0, 1), got {false_alarm_rate}")
    if resize not in RESIZE_MODES:
        raise ConfigError(f"resize must be one of {', '.join(RESIZE_MODES)}, got {resize!r}")
    if not stages or any(not 0 <= st <= 6 for st in stages):
        raise ConfigError(f"stages are backbone stages from 0 to 6, got {stages}")
    if score_mode not in SCORE_MODES:
        raise ConfigError(f"score_mode must be one of {', '.join(SCORE_MODES)}, got {score_mode!r}")
    if not 0 <= sigma <= 64:
        raise ConfigError(f"sigma must be in [0, 64], got {sigma}")
    if not 0 < holdout < 0.9:
        raise ConfigError(f"holdout must be in (0, 0.9), got {holdout}")
    if project_to < 0:
        raise ConfigError(f"project_to must be 0 (no projection) or a number of dimensions, got {project_to}")


def train_anomaly(  # noqa: PLR0913, PLR0915 - keyword-only options; one linear recipe, each step named
    good: str | Path,
    name: str,
    *,
    backbone: str | None = None,  # None: ANOMALY_BACKBONE
    # measured on the magnetic tiles' validation split (bench/results/vision.md): a 320 px cap on
    # the long side against 640 (= every tile at full size) gave image AUROC 0.838 vs 0.851, pixel
    # AUROC 0.817 vs 0.772 (large, diffuse defects fit a stride-16 patch's view better), half the time
    image_size: int = 320,
    resize: str = NATIVE,
    # stages 3 and 4 (both stride 16; 80 + 112 channels) against stage 4 alone, on the tiles' dev
    # split: image AUROC 0.943 -> 0.948, pixel 0.816 -> 0.831; finer grids (stride 8: stages 2+3)
    # and a 5x5 neighbourhood scored worse (bench/results/vision.md)
    stages: tuple[int, ...] = (3, 4),
    score_border: int = 1,
    score_top: int = 3,
    score_mode: str = HEAT_MAX,
    sigma: float = SIGMA,
    coreset: float = CORESET,
    max_bank: int = MAX_BANK,
    project_to: int = PROJECT,  # 0: no projection (the features as the network gives them)
    holdout: float = 0.2,
    held: str | Path | None = None,
    false_alarm_rate: float = 0.01,
    seed: int = 0,
    force: bool = False,
    home: Path | None = None,
    on_log: Callable[[str], None] | None = None,
) -> AnomalyTrainResult:
    """Build and register the anomaly model ``name`` from the good images under ``good``."""
    from luodi.zoo import register_files, resolve_home
    from luodi.zoo.store import MANIFEST, bundle_dir, check_name

    say = on_log or (lambda msg: log.info("%s", msg))
    check_name(name, ConfigError)
    _check_options(coreset, false_alarm_rate, resize, stages, score_mode, sigma, holdout, project_to)
    home_path = resolve_home(home)
    if (bundle_dir(home_path, name) / MANIFEST).is_file() and not force:
        raise ModelExistsError(f"model {name!r} already exists; pass --force to replace it")
    samples, report = scan_good(good)
    if held is not None:
        bank_samples = samples
        held_samples, held_report = scan_good(held)
        report.masks_without_image += held_report.masks_without_image
    else:
        bank_samples, held_samples = split_holdout(samples, holdout, salt="luodi-anomaly:")
    if len(bank_samples) < MIN_BANK_IMAGES or len(held_samples) < MIN_HELD_IMAGES:
        raise EmptyInputError(
            f"{good}: {len(samples)} good images give {len(bank_samples)} for the memory bank and "
            f"{len(held_samples)} for the threshold; need at least {MIN_BANK_IMAGES} and {MIN_HELD_IMAGES} "
            + ("" if held is not None else f" (about {int((MIN_HELD_IMAGES + 1) / holdout)} images in all)")
        )
    say(f"good images: {report.summary()}; {len(bank_samples)} for the bank, {len(held_samples)} held back")
    from luodi.vision.nets import PatchFeatures, export_onnx, pretrained_backbone

    backbone = backbone or ANOMALY_BACKBONE
    variant, state = backbone_state(backbone, home_path)
    seconds: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="luodi-anomaly-") as tmp:
        work = Path(tmp)
        t = time.perf_counter()
        onnx_path = work / "model.onnx"
        net = PatchFeatures(pretrained_backbone(variant, state), stages)
        export_onnx(net, image_size, onnx_path, dynamic=resize == NATIVE)
        session = onnx_session(onnx_path)
        seconds["export"] = time.perf_counter() - t
        t = time.perf_counter()
        fmaps, kept, _ = extract_maps(session, bank_samples, report, image_size, resize=resize)
        if len(kept) < MIN_BANK_IMAGES:
            raise EmptyInputError(f"{good}: only {len(kept)} bank images could be read ({len(report.skipped)} skipped)")
        d = fmaps[0].shape[1]
        patches = np.concatenate([m.transpose(0, 2, 3, 1).reshape(-1, d) for m in fmaps]).astype(np.float32)
        seconds["features"] = time.perf_counter() - t
        t = time.perf_counter()
        projection = fit_projection(patches, project_to) if 0 < project_to < d else None
        patches = project(patches, projection)
        n = min(max_bank, max(1, round(coreset * len(patches))))
        bank = patches[greedy_coreset(patches, n, seed=seed)]
        seconds["coreset"] = time.perf_counter() - t
        say(
            f"memory bank: {len(bank)} of {len(patches)} patches ({d} values"
            + (f", projected to {bank.shape[1]}" if projection is not None else "")
            + f") in {seconds['coreset']:.0f} s"
        )
        t = time.perf_counter()
        meta = VisionMeta(
            kind="anomaly",
            image_size=image_size,
            resize=resize,
            score_border=score_border,
            score_top=score_top,
            score_mode=score_mode,
            sigma=sigma,
            backbone=backbone,
            extra=(
                ("bank_images", len(kept)),
                ("coreset", coreset),
                ("projected_to", int(bank.shape[1]) if projection is not None else None),
                ("stages", list(stages)),
                ("patches", len(patches)),
            ),
        )
        scores, held_kept = score_samples(session, held_samples, report, meta, bank, projection)
        if len(held_kept) < MIN_HELD_IMAGES:
            raise EmptyInputError(f"{good}: only {len(held_kept)} held-back images could be read")
        meta = with_threshold(meta, scores, false_alarm_rate)
        assert meta.threshold is not None  # with_threshold sets it
        threshold = meta.threshold
        seconds["threshold"] = time.perf_counter() - t
        say(
            f"threshold {threshold:.4f}: held-back good scores {scores.min():.3f}..{scores.max():.3f} "
            f"(false-alarm rate {false_alarm_rate})"
        )
        bank_path = work / "bank.npy"
        np.save(bank_path, bank.astype(np.float32))
        files = {"model": onnx_path, "bank": bank_path, "meta": meta.write(work / "vision.json")}
        if projection is not None:
            np.save(work / "projection.npy", projection)
            files["projection"] = work / "projection.npy"
        register_files(
            name,
            task=TASK_ANOMALY,
            files=files,
            description=f"anomaly model (PatchCore over {backbone}, weights under its licence) "
            f"from {len(kept)} good images of {good}",
            source=f"luodi train anomaly --good {good}",
            force=force,
            home=home_path,
        )
    return AnomalyTrainResult(
        name=name,
        bank_images=len(kept),
        held_images=len(held_kept),
        patches=len(patches),
        bank_size=len(bank),
        threshold=threshold,
        false_alarm_rate=false_alarm_rate,
        held_scores=tuple(float(s) for s in scores),
        report=report,
        seconds=seconds,
    )
