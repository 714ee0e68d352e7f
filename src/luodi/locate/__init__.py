"""Document location: find every label or sheet in a frame (quadrilateral and outline).

``DocumentLocator.from_store()`` loads the model ``make setup`` trained (see :mod:`luodi.locate.train`);
``DocumentLocator(None)`` is the classical-geometry locator alone. The OCR pipeline
(:mod:`luodi.ocr.pipeline`) runs it on photos and reads each document straightened.
"""

from __future__ import annotations

from luodi.locate.locator import DocumentLocator, LocatedDocument, Location, bright_on_dark, fit_quad, order_quad

__all__ = ["DocumentLocator", "LocatedDocument", "Location", "bright_on_dark", "fit_quad", "order_quad"]
