"""Text understanding: classification, intent and slots trained on the user's own texts.

``TextModel(name)(texts)`` runs a model registered by ``luodi train text --name NAME`` on ONNX
Runtime (Paddle is needed for training only). Data readers take PaddleNLP TSV, JSON/JSONL (SMP /
GlobalPointer shapes) and CoNLL with a parallel intent file.
"""

from luodi.text.data import Span, TextExample, read_examples
from luodi.text.model import Slot, TextModel, TextResult

__all__ = ["Slot", "Span", "TextExample", "TextModel", "TextResult", "read_examples"]
