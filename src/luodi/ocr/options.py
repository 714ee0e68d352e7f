"""Per-call OCR options: a frozen value passed into each call, never stored in the engine."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from luodi.errors import ConfigError


@dataclass(frozen=True, slots=True)
class OCROptions:
    """What one OCR call should do. ``OCROptions().replace(use_cls=False)`` derives a variant.

    Defaults follow PaddleOCR's inference defaults where they exist; ``det_limit_side`` is the
    longer side the page is shrunk to before detection (``det_limit_type="max"``), or the shorter
    side it is brought up to (``"min"``, RapidOCR's mode, slower on large pages).
    """

    use_det: bool = True
    use_cls: bool = True
    # detection (DB)
    det_limit_side: int = 960
    det_limit_type: Literal["max", "min"] = "max"
    det_max_side: int = 4000  # never feed the detector more than this, whatever limit_type says
    det_thresh: float = 0.3
    det_box_thresh: float = 0.6
    det_unclip_ratio: float = 1.5
    det_max_candidates: int = 1000
    det_dilate: bool = True  # RapidOCR does too; measured: +1..3 of 147 synthetic lines read, no cost
    # line crops
    tall_ratio: float = 1.5  # crops with height/width >= this are turned 90° (vertical text)
    # classification (0/180)
    cls_thresh: float = 0.9
    cls_batch_size: int = 8
    # recognition (CTC)
    rec_batch_size: int = 1
    # pad narrower crops to this width (PaddleOCR pads to 320); 0 = real width; None = the bundle's
    # choice (its rec spec's extra["rec_min_width"], else 0)
    rec_min_width: int | None = None
    drop_score: float = 0.5
    # photos (docs/ocr.md, "Photos"): find each document, straighten it, read it at the resolution
    # its text needs. Pages under locate_min_pixels are read whole, as scans.
    locate: bool = True
    locate_min_pixels: int = 1_500_000
    text_height: int = 24  # median line height the detector should see (its input pixels)
    # a located document's boxes scoring from this up to det_box_thresh are read too, but say nothing
    # about its turn, lean, text size or labels (luodi.locate.verify): a photo's blurred lines score
    # low in DB's map. 0.3 (= det_thresh: every box the map gives) read most on dev frames of three
    # seeds, 0.5 less (bench/results/parcel_blur.md); det_box_thresh or more: as before
    doc_box_thresh: float = 0.3
    doc_max_side: int = 2400  # a straightened document is read at most this large
    max_documents: int = 32  # documents read per page; more are flagged too_many_documents
    # a bent outline is read through a Coons patch of its sides, not its quad. Off: the locator's
    # outlines are traced at 448 px, and the patch follows their noise (measured on rendered dev
    # frames, bench/parcel_loss.py: the 15 labels found read 69 -> 122 of 157 fields with it off, the
    # same as through their true quads; the bench's bent labels read better through their quads too)
    unwarp: bool = False
    # a located region is checked against its text lines: one much larger than its clusters of lines
    # (a light bag marked with its label, two labels on one bag) is cut down to them (luodi.locate.verify)
    verify: bool = True
    # a located region reading fewer characters is no document (glare, a crease, a bag's print, a
    # sliver of a label): dropped; a waybill reads 100+
    min_document_chars: int = 16
    # take the red ink of stamps (印章) out of the page before reading it (luodi.ocr.stamps): text
    # printed under a stamp is read; pixels outside stamps are unchanged. Receipts turn it on.
    drop_stamps: bool = False
    # mark which characters of each line are written in pen-coloured ink (luodi.ocr.ink,
    # Line.char_pen): a handwriting cue for forms filled by hand. Receipts turn it on.
    mark_pen: bool = False

    def __post_init__(self) -> None:
        def check(ok: bool, what: str) -> None:
            if not ok:
                raise ConfigError(f"bad OCR option: {what}")

        check(32 <= self.det_limit_side <= 8192, f"det_limit_side must be in 32..8192, got {self.det_limit_side}")
        check(
            self.det_limit_type in ("max", "min"), f"det_limit_type must be 'max' or 'min', got {self.det_limit_type!r}"
        )
        check(self.det_max_side >= 32, f"det_max_side must be >= 32, got {self.det_max_side}")
        check(0.0 < self.det_thresh < 1.0, f"det_thresh must be in (0, 1), got {self.det_thresh}")
        check(0.0 <= self.det_box_thresh <= 1.0, f"det_box_thresh must be in [0, 1], got {self.det_box_thresh}")
        check(0.0 < self.det_unclip_ratio <= 10.0, f"det_unclip_ratio must be in (0, 10], got {self.det_unclip_ratio}")
        check(self.det_max_candidates >= 1, "det_max_candidates must be >= 1")
        check(self.tall_ratio >= 1.0, f"tall_ratio must be >= 1, got {self.tall_ratio}")
        check(0.0 <= self.cls_thresh <= 1.0, f"cls_thresh must be in [0, 1], got {self.cls_thresh}")
        check(self.cls_batch_size >= 1, "cls_batch_size must be >= 1")
        check(self.rec_batch_size >= 1, "rec_batch_size must be >= 1")
        check(self.rec_min_width is None or 0 <= self.rec_min_width <= 4096, "rec_min_width must be in 0..4096")
        check(0.0 <= self.drop_score <= 1.0, f"drop_score must be in [0, 1], got {self.drop_score}")
        check(self.locate_min_pixels >= 0, "locate_min_pixels must be >= 0")
        check(8 <= self.text_height <= 128, f"text_height must be in 8..128, got {self.text_height}")
        check(0.0 <= self.doc_box_thresh <= 1.0, f"doc_box_thresh must be in [0, 1], got {self.doc_box_thresh}")
        check(256 <= self.doc_max_side <= 8192, f"doc_max_side must be in 256..8192, got {self.doc_max_side}")
        check(1 <= self.max_documents <= 1000, f"max_documents must be in 1..1000, got {self.max_documents}")
        check(
            0 <= self.min_document_chars <= 10_000,
            f"min_document_chars must be in 0..10000, got {self.min_document_chars}",
        )

    def replace(self, **changes: Any) -> OCROptions:
        """A copy with ``changes`` applied (validated again); unknown names raise ConfigError."""
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ConfigError(f"unknown OCR option(s): {', '.join(sorted(unknown))}")
        return dataclasses.replace(self, **changes)
