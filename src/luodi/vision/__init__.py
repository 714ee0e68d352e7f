"""Visual inspection (工业质检): defect classification and anomaly detection on part images.

>>> from luodi.vision import Inspector
>>> Inspector("tiles")("part.jpg").to_dict()      # {"label", "score", "decision", ...}

Models are trained with ``luodi train vision`` (labelled defect classes) or ``luodi train anomaly``
(good parts only) and live in the zoo like the OCR bundles. Paddle is imported only by training.
"""

from luodi.vision.data import DataReport, Sample, load_dataset, scan_classes, scan_good
from luodi.vision.evaluate import VisionEval, evaluate_vision
from luodi.vision.inspector import Inspection, Inspector
from luodi.vision.metrics import ClassificationMetrics, auroc, classification_metrics

__all__ = [
    "ClassificationMetrics",
    "DataReport",
    "Inspection",
    "Inspector",
    "Sample",
    "VisionEval",
    "auroc",
    "classification_metrics",
    "evaluate_vision",
    "load_dataset",
    "scan_classes",
    "scan_good",
]
