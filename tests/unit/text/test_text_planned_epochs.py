"""optim.max_steps: how many epochs a run plans for its training set's size."""

from __future__ import annotations

from luodi.text.train import planned_epochs


def test_no_budget_keeps_the_epochs() -> None:
    assert planned_epochs(12, 0, 10_000) == 12


def test_a_small_set_keeps_its_epochs_and_a_large_one_plans_fewer() -> None:
    assert planned_epochs(12, 450, 33) == 12  # SMP2019: 2,053 texts in batches of 64, 396 steps in all
    assert planned_epochs(12, 450, 113) == 4  # 8,000 news titles less the held-out 10%
    assert planned_epochs(12, 450, 141) == 4  # 10,000 less 10%
    assert planned_epochs(12, 450, 1_000) == 1  # never zero epochs
    assert planned_epochs(3, 450, 10) == 3  # the budget only ever shortens
