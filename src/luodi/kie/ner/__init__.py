"""Character-level named-entity tagging of express contact texts (name, phone, address parts).

Inference (:mod:`luodi.kie.ner.model`) is numpy only; :mod:`luodi.kie.ner.train` needs PaddlePaddle.
"""

from __future__ import annotations

from luodi.kie.ner.data import ENTITY_TYPES, TAGS, EntitySpan, Record, read_bio, tags_to_spans
from luodi.kie.ner.model import NerModel, Prediction, load_ner_model
from luodi.kie.ner.store import MODEL_NAME, default_model_dir

__all__ = [
    "ENTITY_TYPES",
    "MODEL_NAME",
    "TAGS",
    "EntitySpan",
    "NerModel",
    "Prediction",
    "Record",
    "default_model_dir",
    "load_ner_model",
    "read_bio",
    "tags_to_spans",
]
