"""PP-OCR pipeline: DB detection, 0/180 classification, CTC recognition, reading order.

The engine is :class:`luodi.ocr.pipeline.OCR` (also ``luodi.OCR``) with per-call
:class:`luodi.ocr.options.OCROptions`; results are the frozen types of :mod:`luodi.ocr.result`.
Each stage module (``det``, ``cls``, ``rec``, ``ctc``, ``crop``, ``order``) is pure pre- and
post-processing around one inference session, so it can be tested with a fake session.
"""
