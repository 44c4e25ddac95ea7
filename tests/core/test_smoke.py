import numpy as np

import colbridge

from ..conftest import address


def test_numpy_input_is_shared_with_numpy_output():
    source = np.arange(10, dtype=np.int64)
    arr = colbridge.array(source)
    assert arr.values.address == address(source)
    assert np.shares_memory(arr.to_numpy(), source)


def test_table_round_trips_python_values():
    data = {"a": [1, None, 3], "b": ["x", "y", None]}
    assert colbridge.table(data).to_pydict() == data
