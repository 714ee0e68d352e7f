"""Find every document (waybill label, sheet) in a frame: its quadrilateral and its outline.

Two locators, one answer type:

- the trained model (:mod:`luodi.locate.train`): on a thumbnail (448 px on the long side) it
  predicts a document mask and a kernel per document; kernels split touching labels, mask pixels go
  to their nearest kernel, and each document's outline gives its quadrilateral;
- classical geometry (:func:`bright_on_dark`): a bright, rectangular, text-bearing blob on a darker
  surface (a white label on a black bag). Where it finds the same document as the model, its corners
  are used (they come from a four times finer image); with no model installed it works alone.

Two refinements of the model's regions: where it found a small document (under 2% of the frame: a
sorting-line frame of many parcels) it looks again at 896 px and keeps the small documents that pass
finds; a region only the model outlined, of 4-80% of the frame, is cut down to the blocks of dense
print inside it where they span under half of it (the model marks a bright bag with its label as one
region), and dropped where it holds no print at all. Last, every region must show a label's print —
dark grey strokes on its paper, not a mailer's coloured slogan, not a bare bag — or it is dropped
before anything is warped or detected on it (:func:`_label_print`).

A page is *flat* (a scan, a screenshot, a photo of one sheet filling the frame) when one document
covers most of it, whatever else was found beside it: the caller then reads it whole, as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from luodi.locate.inputs import normalise
from luodi.runtime.base import InferenceSession

__all__ = [
    "DocumentLocator",
    "LocatedDocument",
    "Location",
    "bright_on_dark",
    "fit_quad",
    "normalise",
    "order_quad",
    "refine_quad",
]

MODEL_SIDE = 448  # the trained model's input: long side of the thumbnail
GEOMETRY_SIDE = 896  # classical geometry runs on a finer thumbnail (cheap: thresholds and contours)
# small documents (a sorting-line frame of many parcels) get a second look by the model at twice the
# resolution: at 448 px a label of 0.7% of the frame is ~40 px, under the sizes it was trained on
FINE_SIDE = 896
SMALL_DOCUMENT = 0.02  # fraction of the frame


@dataclass(frozen=True, slots=True, eq=False)
class LocatedDocument:
    """One document in a frame. ``quad``: 4×2 frame pixels, clockwise from the corner nearest the
    frame's top-left (the document's own orientation is decided later, from its text); ``polygon``:
    its outline (it follows a bent label); ``cut_off``: it touches the frame edge."""

    quad: np.ndarray
    polygon: np.ndarray
    score: float
    method: str  # "model" or "geometry"
    cut_off: bool
    area: float  # fraction of the frame


@dataclass(frozen=True, slots=True, eq=False)
class Location:
    documents: tuple[LocatedDocument, ...]
    flat: bool  # one document fills the frame: read the page whole
    coverage: float  # fraction of the frame the documents cover
    method: str  # "model", "geometry" or "model+geometry"


def order_quad(quad: np.ndarray) -> np.ndarray:
    """Clockwise (in image coordinates, y down) starting from the corner nearest the top-left."""
    pts = np.asarray(quad, np.float32).reshape(4, 2)
    centre = pts.mean(0)
    angles = np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0])
    pts = pts[np.argsort(angles)]  # increasing angle = clockwise on screen
    start = int(np.argmin(pts.sum(1)))
    return np.roll(pts, -start, axis=0)


def fit_quad(contour: np.ndarray) -> tuple[np.ndarray, float]:
    """The quadrilateral of an outline and how well it fits (area of the outline's hull / the quad's).

    The convex hull is simplified with a growing tolerance until four corners remain; when no
    tolerance gives four, or they fit badly (a bent label), the minimum-area rectangle is used."""
    hull = cv2.convexHull(contour.reshape(-1, 1, 2).astype(np.float32))
    # the hull's area: text running into a cut-off edge notches the outline, not the document
    area = float(cv2.contourArea(hull))
    perimeter = float(cv2.arcLength(hull, True))
    for eps in (0.01, 0.02, 0.03, 0.05, 0.08):
        approx = cv2.approxPolyDP(hull, eps * perimeter, True)
        if len(approx) == 4:
            quad = refine_quad(contour, order_quad(approx.reshape(4, 2)))
            qa = float(cv2.contourArea(quad))
            if qa > 0 and 0.85 <= area / qa <= 1.1:
                return quad, area / qa
            break
        if len(approx) < 4:
            break
    rect = cv2.boxPoints(cv2.minAreaRect(hull))
    qa = float(cv2.contourArea(rect))
    return order_quad(rect), (area / qa if qa > 0 else 0.0)


def refine_quad(contour: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """Corners where lines fitted to the outline's four sides meet. Simplified corners sit inside
    a rounded or eroded corner; the middle of each side is where the edge really is."""
    pts = np.asarray(contour, np.float64).reshape(-1, 2)
    lines = []
    for i in range(4):
        a, b = quad[i].astype(np.float64), quad[(i + 1) % 4].astype(np.float64)
        side = b - a
        length = float(np.hypot(*side))
        if length < 4:
            return quad
        u = side / length
        n = np.array([-u[1], u[0]])
        rel = pts - a
        t, d = rel @ u, rel @ n
        near = (t > 0.15 * length) & (t < 0.85 * length) & (np.abs(d) < max(3.0, 0.05 * length))
        if near.sum() < 5:
            lines.append((a, u))
            continue
        vx, vy, x0, y0 = cv2.fitLine(pts[near].astype(np.float32), cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
        lines.append((np.array([x0, y0], np.float64), np.array([vx, vy], np.float64)))
    corners = []
    for i in range(4):
        (p1, d1), (p2, d2) = lines[i - 1], lines[i]
        den = d1[0] * d2[1] - d1[1] * d2[0]
        if abs(den) < 1e-6:
            return quad
        s = ((p2[0] - p1[0]) * d2[1] - (p2[1] - p1[1]) * d2[0]) / den
        corners.append(p1 + s * d1)
    refined = np.asarray(corners, np.float32)
    w = min(float(np.hypot(*(quad[1] - quad[0]))), float(np.hypot(*(quad[3] - quad[0]))))
    if np.abs(refined - quad).max() > 0.15 * w:  # a side that is not straight: keep the simple corners
        return quad
    return refined


def _thumbnail(
    image: np.ndarray, side: int, multiple: int = 1, *, base: np.ndarray | None = None
) -> tuple[np.ndarray, float, float]:
    """``image`` shrunk to ``side`` on its long side (sides a multiple of ``multiple``) and the
    frame/thumbnail scales. ``base``: the same image already shrunk (larger than the result), to
    shrink from instead of the full frame."""
    h, w = image.shape[:2]
    k = min(1.0, side / max(h, w))
    th = max(multiple, round(h * k / multiple) * multiple)
    tw = max(multiple, round(w * k / multiple) * multiple)
    src = image if base is None or base.shape[0] < th or base.shape[1] < tw else base
    # INTER_AREA over a 12 MP frame is slow; an exact integer pre-step keeps its quality
    sh, sw = src.shape[:2]
    step = int(min(sh / th, sw / tw) // 2)
    if step >= 2:
        src = cv2.resize(src, (sw // step, sh // step), interpolation=cv2.INTER_AREA)
    thumb = cv2.resize(src, (tw, th), interpolation=cv2.INTER_AREA)
    return thumb, w / tw, h / th


def _touches_edge(polygon: np.ndarray, h: int, w: int) -> bool:
    tol = 0.004 * max(h, w)
    xs, ys = polygon[:, 0], polygon[:, 1]
    return bool(xs.min() <= tol or ys.min() <= tol or xs.max() >= w - tol or ys.max() >= h - tol)


def _quad_iou(a: np.ndarray, b: np.ndarray) -> float:
    from shapely.geometry import Polygon

    pa, pb = Polygon(a).buffer(0), Polygon(b).buffer(0)
    union = pa.union(pb).area
    return float(pa.intersection(pb).area / union) if union > 0 else 0.0


def bright_on_dark(
    image: np.ndarray, *, min_area: float = 0.004, base: np.ndarray | None = None
) -> list[LocatedDocument]:
    """Labels that are bright, rectangular and hold dark text on a clearly darker surface.
    ``base``: the frame already shrunk (at least 896 px long), to work from."""
    h, w = image.shape[:2]
    thumb, sx, sy = _thumbnail(image, GEOMETRY_SIDE, base=base)
    th, tw = thumb.shape[:2]
    lab = cv2.cvtColor(thumb, cv2.COLOR_RGB2LAB)
    light = lab[..., 0]
    chroma = np.abs(lab[..., 1].astype(np.int16) - 128) + np.abs(lab[..., 2].astype(np.int16) - 128)
    otsu, _ = cv2.threshold(light, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    level = max(float(otsu), 110.0)
    bright = ((light > level) & (chroma < 40)).astype(np.uint8)
    k = max(3, round(0.012 * max(th, tw)) | 1)
    closed = cv2.morphologyEx(bright, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    closed = cv2.morphologyEx(closed, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    contours, _ = cv2.findContours(closed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    found: list[LocatedDocument] = []
    if not contours:
        return found
    strokes = cv2.morphologyEx(light, cv2.MORPH_BLACKHAT, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    for contour in contours:
        area = cv2.contourArea(contour) / (th * tw)
        if area < min_area or area > 0.97:
            continue
        quad, fit = fit_quad(contour.reshape(-1, 2))
        if fit < 0.9:
            continue
        inside = np.zeros((th, tw), np.uint8)
        cv2.fillPoly(inside, [np.round(quad).astype(np.int32)], 1)
        ring = cv2.dilate(inside, np.ones((2 * k + 1, 2 * k + 1), np.uint8)) - inside
        if ring.sum() < 10:
            continue
        lin = float(light[inside > 0].mean())
        lout = float(light[ring > 0].mean())
        # text: thin dark strokes (a black-hat response) or black print, not the smooth shading of a bag
        ink = (strokes > 40) | (light < min(level - 80, 90))  # thin dark strokes, or print black
        dark_text = float((ink & (inside > 0)).sum() / max(inside.sum(), 1))
        paper = light[(inside > 0) & (strokes < 20)]
        # measured on rendered scenes: labels 0.11-0.20 text, paper std 8-43; bright bags and glare
        # mostly 0.00-0.05 text, std 25-62
        if lin - lout < 45 or not 0.06 <= dark_text <= 0.5 or paper.size == 0 or float(paper.std()) > 55:
            continue
        scale = np.array([sx, sy], np.float32)
        frame_quad = quad * scale
        # its hull: text running into a cut-off edge notches the contour, not the label
        hull = cv2.convexHull(contour)
        polygon = cv2.approxPolyDP(hull, 0.004 * cv2.arcLength(hull, True), True).reshape(-1, 2) * scale
        score = float(min(1.0, (lin - lout) / 100.0))
        found.append(
            LocatedDocument(
                frame_quad, polygon.astype(np.float32), score, "geometry", _touches_edge(frame_quad, h, w), area
            )
        )
    return found


class DocumentLocator:
    """Locate documents in frames. Immutable and thread-safe (the session is)."""

    __slots__ = (
        "check_print",
        "fine_side",
        "flat_coverage",
        "join_pieces",
        "min_area",
        "session",
        "side",
        "small",
        "thresh",
    )

    def __init__(  # noqa: PLR0913 - keyword-only: each stage of location can be tuned or turned off
        self,
        session: InferenceSession | None,
        *,
        side: int = MODEL_SIDE,
        thresh: float = 0.5,
        min_area: float = 0.004,
        flat_coverage: float = 0.8,
        fine_side: int = FINE_SIDE,
        small: float = SMALL_DOCUMENT,
        check_print: bool = True,
        join_pieces: bool = True,
    ) -> None:
        self.session = session
        self.side = side
        self.thresh = thresh
        self.min_area = min_area
        self.flat_coverage = flat_coverage
        self.fine_side = fine_side  # 0: no second look
        self.small = small
        self.check_print = check_print  # regions without a label's grey print are dropped (_label_print)
        self.join_pieces = join_pieces  # touching regions printed across their boundary are one (_join_pieces)

    @classmethod
    def from_onnx(cls, path: str | Path, *, threads: int | None = None) -> DocumentLocator:
        from luodi.runtime.onnx import OnnxSession

        return cls(OnnxSession(path, threads=threads))

    @classmethod
    def from_store(cls, home: Path | None = None, *, threads: int | None = None) -> DocumentLocator:
        """The locator trained into the model store (``ModelNotPulledError`` names the command when absent)."""
        from luodi.locate.store import default_model_dir, verify_model_dir

        folder = default_model_dir(home)
        verify_model_dir(folder)
        return cls.from_onnx(folder / "locator.onnx", threads=threads)

    @property
    def has_model(self) -> bool:
        return self.session is not None

    def maps(
        self, image: np.ndarray, *, base: np.ndarray | None = None, side: int | None = None
    ) -> tuple[np.ndarray, float, float]:
        """The document and kernel probability maps (2×h×w, thumbnail size) and the frame/map scales.
        ``base``: the frame already shrunk, to work from; ``side``: the thumbnail's long side."""
        if self.session is None:
            raise RuntimeError("this locator has no model")
        thumb, sx, sy = _thumbnail(image, side or self.side, 32, base=base)
        out = self.session.run({self.session.input_names[0]: normalise(thumb[None].astype(np.float32))})[0][0]
        th, tw = thumb.shape[:2]
        up = np.stack([cv2.resize(m, (tw, th), interpolation=cv2.INTER_LINEAR) for m in out])
        return up, sx, sy

    def locate(self, image: np.ndarray) -> Location:
        h = image.shape[0]
        # one pass over the full frame: both thumbnails come from this one
        base, _, _ = _thumbnail(image, GEOMETRY_SIDE)
        geometric = bright_on_dark(image, min_area=self.min_area, base=base)
        if self.session is None:
            docs = geometric
            method = "geometry"
        else:
            docs = self._model_documents(image, base, self.side)
            if self.fine_side > self.side and any(d.area < self.small for d in docs):
                docs = _with_fine(docs, self._model_documents(image, base, self.fine_side), self.small)
            method = "model"
            refined = []
            for doc in docs:
                match = max(geometric, key=lambda g: _quad_iou(g.quad, doc.quad), default=None)
                if match is not None and _quad_iou(match.quad, doc.quad) >= 0.8:
                    refined.append(match)
                    method = "model+geometry"
                else:
                    refined.append(doc)
            docs = _to_text_blocks(refined, base, (h, image.shape[1]), self.flat_coverage)
        # neither judges a page with a region filling it: it is read whole, as a scan
        if (self.check_print or self.join_pieces) and docs and max(d.area for d in docs) < self.flat_coverage:
            lab, strokes = _lab_strokes(base)
            if self.check_print:
                docs = _label_print(docs, lab, strokes, (h, image.shape[1]))
            if self.join_pieces:
                docs = _join_pieces(docs, strokes > _STROKE, (h, image.shape[1]))
        coverage = float(sum(d.area for d in docs))
        # one document filling the frame makes it flat even beside a sliver the model also marked
        # (a 300 dpi scan with margins: the page and a strip of its edge); reading it whole reads both
        flat = bool(docs) and max(d.area for d in docs) >= self.flat_coverage
        docs = sorted(docs, key=lambda d: (float(d.quad[:, 1].min()) // (0.25 * h), float(d.quad[:, 0].min())))
        return Location(tuple(docs), flat, min(coverage, 1.0), method)

    def _model_documents(self, image: np.ndarray, base: np.ndarray, side: int) -> list[LocatedDocument]:
        h, w = image.shape[:2]
        maps, sx, sy = self.maps(image, base=base, side=side)
        th, tw = maps.shape[1:]
        mask = (maps[0] > self.thresh).astype(np.uint8)
        kernel = (maps[1] > self.thresh).astype(np.uint8)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(kernel, connectivity=4)
        seeds = [k for k in range(1, n) if stats[k, cv2.CC_STAT_AREA] >= 0.0005 * th * tw]
        instances: list[np.ndarray] = []
        if seeds:
            # every document pixel joins its nearest kernel
            background = np.where(np.isin(labels, seeds), 0, 1).astype(np.uint8)
            _, nearest = cv2.distanceTransformWithLabels(background, cv2.DIST_L2, 3, labelType=cv2.DIST_LABEL_CCOMP)
            for k in seeds:
                ys, xs = np.nonzero(labels == k)
                inst = (mask > 0) & (nearest == nearest[ys[0], xs[0]])
                instances.append(inst.astype(np.uint8))
        docs: list[LocatedDocument] = []
        scale = np.array([sx, sy], np.float32)
        for inst in instances:
            contours, _ = cv2.findContours(inst, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
            if not contours:
                continue
            contour = max(contours, key=cv2.contourArea).reshape(-1, 2)
            area = cv2.contourArea(contour) / (th * tw)
            if area < self.min_area:
                continue
            quad, _ = fit_quad(contour)
            polygon = cv2.approxPolyDP(
                contour.reshape(-1, 1, 2), 0.005 * cv2.arcLength(contour.reshape(-1, 1, 2), True), True
            )
            score = float(maps[0][inst > 0].mean())
            frame_quad = quad * scale
            docs.append(
                LocatedDocument(
                    frame_quad,
                    polygon.reshape(-1, 2).astype(np.float32) * scale,
                    score,
                    "model",
                    _touches_edge(frame_quad, h, w),
                    float(area),
                )
            )
        return docs


def _with_fine(coarse: list[LocatedDocument], fine: list[LocatedDocument], small: float) -> list[LocatedDocument]:
    """The coarse pass's large documents, and the fine pass's documents outside them: the fine pass
    finds and parts small labels; a large label looks unlike anything it was trained on at twice
    the scale (it may split), so large ones come from the coarse pass."""
    from shapely.geometry import Polygon

    kept = [d for d in coarse if d.area >= small]
    shapes = [Polygon(d.quad).buffer(0) for d in kept]
    out = list(kept)
    for doc in fine:
        shape = Polygon(doc.quad).buffer(0)
        if shape.area <= 0:
            continue
        if any(shape.intersection(k).area > 0.3 * min(shape.area, k.area) for k in shapes):
            continue
        out.append(doc)
    return out


TEXT_BLOCK_SHARE = 0.5  # a model region whose text blocks cover less than this is cut down to them
TEXT_BLOCK_REGION = 0.04  # ... if it is at least this share of the frame
TEXT_BLOCK_MIN = 0.04  # a block (with its margin) smaller than this share of its region is a stray line
_LABEL_MARGIN = 0.08  # a label's paper beyond its text, each side, as a share of the text block


def _ink(base: np.ndarray) -> np.ndarray:
    """Thin dark strokes (a black-hat response) of the finer thumbnail: printed text."""
    gray = cv2.cvtColor(base, cv2.COLOR_RGB2GRAY)
    k = max(3, round(0.012 * max(gray.shape)) | 1)
    strokes = cv2.morphologyEx(gray, cv2.MORPH_BLACKHAT, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    return (strokes > 35).astype(np.uint8)


def _to_text_blocks(
    docs: list[LocatedDocument], base: np.ndarray, frame: tuple[int, int], flat: float
) -> list[LocatedDocument]:
    """Model regions (not those geometry outlined) cut down to the blocks of dense text inside them,
    where those span less than half of the region: on a bright bag or mailer the model marks the bag
    with its label (or two labels on one bag) as one region; the label is where the print is. A
    region with no print is dropped (glare, a bright bag). Only regions from 4% of the frame up to a flat page's share:
    smaller ones hold text too small for the thumbnail, and a page filling the frame is read whole."""
    if not docs:
        return docs
    h, w = frame
    ink = _ink(base)
    scale = np.array([w / base.shape[1], h / base.shape[0]], np.float32)
    out: list[LocatedDocument] = []
    for doc in docs:
        if not TEXT_BLOCK_REGION <= doc.area < flat or doc.method != "model":
            out.append(doc)
            continue
        region = np.zeros(ink.shape, np.uint8)
        cv2.fillPoly(region, [np.round(doc.polygon / scale).astype(np.int32)], 1)
        area = float(region.sum())
        blocks = _blocks(ink * region, doc.quad / scale, area)
        if not blocks:  # a large region without print is a bag or glare, not a label
            continue
        # one label printed in sections gives several blocks: what they span decides, not their sum
        span = cv2.convexHull(np.concatenate(blocks).reshape(-1, 1, 2))
        if float(cv2.contourArea(span)) >= TEXT_BLOCK_SHARE * area:
            out.append(doc)
            continue
        for block in blocks:
            quad = order_quad(block) * scale
            share = float(cv2.contourArea(quad)) / (h * w)
            out.append(LocatedDocument(quad, quad.copy(), doc.score, doc.method, _touches_edge(quad, h, w), share))
    return out


def _blocks(ink: np.ndarray, quad: np.ndarray, area: float) -> list[np.ndarray]:
    """Rectangles (thumbnail pixels) around the blocks of dense text in ``ink``, widened by a label's margin."""
    short = min(cv2.minAreaRect(quad.astype(np.float32))[1])
    c = max(3, int(0.06 * short) | 1)  # merges characters and lines, not two labels
    element = cv2.getStructuringElement(cv2.MORPH_RECT, (c, c))
    dense = cv2.morphologyEx(cv2.morphologyEx(ink, cv2.MORPH_CLOSE, element), cv2.MORPH_OPEN, element)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(dense)
    out = []
    for j in range(1, n):
        if stats[j, cv2.CC_STAT_AREA] < 0.03 * area:
            continue
        ys, xs = np.nonzero(labels == j)
        (cx, cy), (bw, bh), angle = cv2.minAreaRect(np.stack([xs, ys], 1).astype(np.float32))
        if float(ink[ys, xs].mean()) < 0.1:  # a closed mesh of creases or grout, not print
            continue
        grow = 1 + 2 * _LABEL_MARGIN
        if bw * bh * grow * grow < TEXT_BLOCK_MIN * area:
            continue
        out.append(cv2.boxPoints(((cx, cy), (bw * grow, bh * grow), angle)).astype(np.float32))
    return out


# a label's print is black or grey on its paper: the green slogan of a mailer, a carton's coloured
# logo, glare or a bare bag are not. Measured on the 896-px thumbnail of dev frames (seeds 43, 44, a
# 30-label frame of seed 31; no-label dev frames, seeds 21, 22), in the middle of each region (its quad
# shrunk to 60%: the label, where a region is a little larger than it, not a coloured surround):
# regions over a label, part of one or a label with its surround show 58-100% of their dark strokes
# grey (all but one over 82%), and 3.4-39% of the region grey print; regions over no label 0-34% grey
# strokes (a mailer's coloured characters, each marked as a small document; three exceptions
# 46-65%, one black-printed) or 0-1.3% grey print (a bare bag, glare)
LABEL_GREY_SHARE = 0.5  # of the dark strokes in a region's middle, at least this share grey
LABEL_GREY_MIN = 0.02  # and at least this share of the whole region grey print
_GREY_CHROMA = 30  # a stroke differing from its paper's tint (|a| + |b| of Lab) by less is grey
_MIDDLE = 0.6  # the middle of a region: its quad shrunk about its centre to this
_STROKE = 35  # black-hat response (lightness, 0..255) of a dark stroke


def _lab_strokes(base: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The finer thumbnail in Lab, and its dark strokes (black-hat of lightness, a few pixels wide)."""
    lab = cv2.cvtColor(base, cv2.COLOR_RGB2LAB)
    k = max(3, round(0.012 * max(base.shape[:2])) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    return lab, cv2.morphologyEx(lab[..., 0], cv2.MORPH_BLACKHAT, kernel)


def _label_print(
    docs: list[LocatedDocument], lab: np.ndarray, strokes: np.ndarray, frame: tuple[int, int]
) -> list[LocatedDocument]:
    """The regions that show a label's print (:data:`LABEL_GREY_SHARE`, :data:`LABEL_GREY_MIN`) on the
    finer thumbnail (``lab``, its ``strokes``): a region that does not is dropped before anything is
    warped or detected on it (the probe detection per region is the dearest part of a photo with no
    label)."""
    h, w = frame
    bh, bw = lab.shape[:2]
    scale = np.array([bw / w, bh / h], np.float32)
    out = []
    for doc in docs:
        quad = doc.quad * scale
        x0, y0 = np.clip(np.floor(quad.min(0)).astype(int), 0, [bw - 1, bh - 1])
        x1, y1 = np.clip(np.ceil(quad.max(0)).astype(int) + 1, [x0 + 1, y0 + 1], [bw, bh])
        quad = quad - [x0, y0]
        inside = np.zeros((y1 - y0, x1 - x0), np.uint8)
        middle = inside.copy()
        cv2.fillPoly(inside, [np.round(quad).astype(np.int32)], 1)
        centre = quad.mean(0)
        cv2.fillPoly(middle, [np.round(centre + _MIDDLE * (quad - centre)).astype(np.int32)], 1)
        if _grey_print(lab[y0:y1, x0:x1], strokes[y0:y1, x0:x1], inside > 0, middle > 0):
            out.append(doc)
    return out


def _grey_print(lab: np.ndarray, strokes: np.ndarray, inside: np.ndarray, middle: np.ndarray) -> bool:
    """Whether the pixels ``inside`` a region (of a Lab crop and its black-hat ``strokes``) hold a
    label's print: enough grey strokes, and mostly grey ones in its ``middle``."""
    n = int(inside.sum())
    if n < 20:  # a few pixels of thumbnail: too small to judge here, the reader decides
        return True
    ink = inside & (strokes > _STROKE)
    paper = inside & (strokes < 15)
    if not paper.any():
        return False
    ab = lab[..., 1:].astype(np.int16) - 128
    tint = np.median(ab[paper], axis=0)
    grey = ink & (np.abs(ab - tint).sum(-1) < _GREY_CHROMA)
    centre = int((ink & middle).sum())
    return int(grey.sum()) >= LABEL_GREY_MIN * n and int((grey & middle).sum()) >= LABEL_GREY_SHARE * max(centre, 1)


PIECE_TURN = 10.0  # degrees: two pieces of one label lie the same way (their sides, modulo 90)
PIECE_GAP = 0.01  # of the thumbnail's long side: regions this close touch
PIECE_INK = 0.08  # the band where two regions touch is printed (one label goes on across it) with this share
# a label is at most about twice as long as wide (100x150 to 100x180 mm; 76x130); a piece of one cut off by
# the model's kernels is a strip: at least one of two pieces this elongated, and what they join into not
LABEL_ASPECT = 2.0


def _aspect(quad: np.ndarray) -> float:
    (_, _), (a, b), _ = cv2.minAreaRect(np.asarray(quad, np.float32))
    return float(max(a, b) / max(min(a, b), 1e-6))


def _side_angle(quad: np.ndarray) -> float:
    return float(cv2.minAreaRect(np.asarray(quad, np.float32))[2]) % 90.0


def _join_pieces(docs: list[LocatedDocument], ink: np.ndarray, frame: tuple[int, int]) -> list[LocatedDocument]:
    """Two regions that touch, lie the same way, are printed across the band where they meet (``ink``:
    dark strokes of the finer thumbnail), and of which one is a strip (:data:`LABEL_ASPECT`) that joins
    the other into a label's shape are pieces of one label (the model's kernels split it: its barcode
    strip from its address block), joined into the rectangle around both. Two labels that touch are
    each label-shaped, and meet mostly along blank margins; if text on both sides of a joined region
    still lies apart, the reader's text check parts them again (``luodi.locate.verify``). Pairs are
    joined until none are left (dev frames, seeds 43 and 44: two labels split this way, both joined;
    no labels joined to each other)."""
    out = list(docs)
    pair = _next_pair(out, ink, frame)
    while pair is not None:
        i, j, union = pair
        out[i] = union
        del out[j]
        pair = _next_pair(out, ink, frame)
    return out


def _next_pair(
    docs: list[LocatedDocument], ink: np.ndarray, frame: tuple[int, int]
) -> tuple[int, int, LocatedDocument] | None:
    """The first two of ``docs`` that are pieces of one label (:func:`_join_pieces`), and their union."""
    h, w = frame
    scale = np.array([ink.shape[1] / w, ink.shape[0] / h], np.float32)
    grow = max(3, round(PIECE_GAP * max(ink.shape)))
    quads = [d.quad * scale for d in docs]
    for i in range(len(docs)):
        for j in range(i + 1, len(docs)):
            turn = abs(_side_angle(docs[i].quad) - _side_angle(docs[j].quad))
            if min(turn, 90.0 - turn) > PIECE_TURN or not _printed_band(quads[i], quads[j], ink, grow):
                continue
            union = _union(docs[i], docs[j], frame)
            if max(_aspect(docs[i].quad), _aspect(docs[j].quad)) >= LABEL_ASPECT >= _aspect(union.quad):
                return i, j, union
    return None


def _printed_band(a: np.ndarray, b: np.ndarray, ink: np.ndarray, grow: int) -> bool:
    """Whether quads ``a`` and ``b`` (thumbnail pixels) come within ``2 * grow`` of each other and the
    band where they meet is printed (:data:`PIECE_INK`)."""
    lo = np.maximum(a.min(0), b.min(0)) - 2 * grow
    hi = np.minimum(a.max(0), b.max(0)) + 2 * grow
    if np.any(lo >= hi):  # their boxes, widened, do not meet
        return False
    x0, y0 = np.clip(np.floor(np.minimum(a.min(0), b.min(0))).astype(int) - grow, 0, None)
    x1, y1 = np.ceil(np.maximum(a.max(0), b.max(0))).astype(int) + grow + 1
    crop = ink[y0:y1, x0:x1]
    if crop.size == 0:
        return False
    element = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1))
    masks = []
    for quad in (a, b):
        m = np.zeros(crop.shape, np.uint8)
        cv2.fillPoly(m, [np.round(quad - [x0, y0]).astype(np.int32)], 1)
        masks.append(cv2.dilate(m, element) > 0)
    band = masks[0] & masks[1]
    return bool(band.sum() >= grow * grow and float(crop[band].mean()) >= PIECE_INK)


def _union(a: LocatedDocument, b: LocatedDocument, frame: tuple[int, int]) -> LocatedDocument:
    """The rectangle around two regions, as one model region."""
    h, w = frame
    quad = order_quad(cv2.boxPoints(cv2.minAreaRect(np.concatenate([a.quad, b.quad]).astype(np.float32))))
    area = float(cv2.contourArea(quad)) / (h * w)
    return LocatedDocument(quad, quad.copy(), max(a.score, b.score), "model", _touches_edge(quad, h, w), area)
