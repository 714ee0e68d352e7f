"""INT8 post-training quantization of OCR bundles, with a measured before/after report.

``quantize_bundle(model, calib_dir, name)`` is the API behind ``luodi quantize``. The heavy
quantization libraries are imported only when a quantizer runs.
"""

from luodi.slim.calibrate import MIN_CALIB_PAGES, MIN_REC_CROPS, CalibrationSet, collect
from luodi.slim.quantize import QuantizeResult, default_recipes, quantize_bundle
from luodi.slim.report import QuantizeReport
from luodi.slim.toolchains import TOOLCHAINS, StageRecipe, quantize_onnx

__all__ = [
    "MIN_CALIB_PAGES",
    "MIN_REC_CROPS",
    "TOOLCHAINS",
    "CalibrationSet",
    "QuantizeReport",
    "QuantizeResult",
    "StageRecipe",
    "collect",
    "default_recipes",
    "quantize_bundle",
    "quantize_onnx",
]
