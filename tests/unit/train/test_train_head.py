"""Extending the CTC head: old classes keep their exact logits, new ones start small and unlikely."""

from __future__ import annotations

import numpy as np
import pytest

from luodi.errors import ModelError
from luodi.train.charset import NEW_BIAS, Charset, extend_head, old_class_positions


@pytest.fixture(scope="module")
def paddle():  # type: ignore[no-untyped-def]
    from luodi.train.trainer import import_paddle

    return import_paddle()


def tiny_model(paddle, classes: int):  # type: ignore[no-untyped-def]
    class Tiny(paddle.nn.Layer):
        def __init__(self) -> None:
            super().__init__()
            self.head = paddle.nn.Linear(6, classes)

        def forward(self, x):  # type: ignore[no-untyped-def]
            return self.head(x)

    paddle.seed(0)
    return Tiny()


def test_old_logits_unchanged_and_new_rows_small(paddle) -> None:  # type: ignore[no-untyped-def]
    old = Charset(("a", "b", "c"))
    new = old.extended(["䶮", "㑇"])
    model = tiny_model(paddle, old.num_classes)
    x = paddle.to_tensor(np.random.default_rng(0).normal(size=(5, 6)).astype(np.float32))
    before = model(x).numpy()
    assert extend_head(model, old, new, seed=1) == 2
    after = model(x).numpy()
    assert after.shape == (5, new.num_classes)
    # old classes, space included (it moved to the end), give bit-identical logits
    np.testing.assert_array_equal(after[:, old_class_positions(old, new)], before)
    new_cols = after[:, old.num_classes - 1 : new.num_classes - 1]
    assert np.abs(new_cols - NEW_BIAS).max() < 0.05
    # so the argmax of every row is still an old class
    assert set(after.argmax(axis=1)) <= set(old_class_positions(old, new))
    # and the new rows are trainable parameters of the model
    assert model.head.weight.shape == [6, new.num_classes]
    assert not model.head.weight.stop_gradient


def test_nothing_to_add_keeps_the_head(paddle) -> None:  # type: ignore[no-untyped-def]
    old = Charset(("a", "b"))
    model = tiny_model(paddle, old.num_classes)
    head = model.head
    assert extend_head(model, old, old.extended(["a"])) == 0
    assert model.head is head


def test_mismatched_head_is_refused(paddle) -> None:  # type: ignore[no-untyped-def]
    old = Charset(("a", "b"))
    model = tiny_model(paddle, 7)
    with pytest.raises(ModelError, match="classes"):
        extend_head(model, old, old.extended(["z"]))
