"""`pipelines.batching.full_batches`: the fill that makes evaluation batches
full (static shapes under JAX and keras.distribution)."""

import numpy as np
import pytest

from pipelines.batching import full_batches


def test_copies_of_the_first_example_fill_the_last_batch_with_weight_zero():
    (texts, labels), weights = full_batches([["a", "b", "c"], np.array([1, 0, 1])], 4)
    assert texts == ["a", "b", "c", "a"] and labels == [1, 0, 1, 1]
    np.testing.assert_array_equal(weights, [1, 1, 1, 0])
    assert weights.dtype == np.float32


def test_a_multiple_of_the_batch_size_is_left_as_it_is():
    (texts,), weights = full_batches([["a", "b"]], 2)
    assert texts == ["a", "b"] and weights.tolist() == [1, 1]


@pytest.mark.parametrize("columns", [[["a", "b"], [1]], [[], []]])
def test_columns_of_other_or_no_lengths_are_refused(columns):
    with pytest.raises(ValueError, match=r"one item per example.*Received lengths"):
        full_batches(columns, 4)
