"""Data shipped with luodi (each folder with its licence): what the product needs to set itself up."""

from __future__ import annotations

from pathlib import Path

__all__ = ["EXPRESS_NER"]

#: The express-waybill NER train/dev sets (Apache-2.0): the contact model's training data and the
#: parties synthetic waybills are drawn from.
EXPRESS_NER = Path(__file__).resolve().parent / "express_ner"
