"""Dictionary columns through read_pandas: every key type, nulls, several row groups."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import colbridge

from .conftest import lease_of


@pytest.mark.parametrize("key", ["int8", "uint8", "int16", "int32", "uint32", "int64"])
def test_categoricals_match_pyarrow_for_every_key_type(tmp_path, key):
    indices = pa.array([0, 1, None, 2, 1, None, 0, 2], type=key)
    column = pa.DictionaryArray.from_arrays(indices, pa.array(["low", "mid", "high"]))
    path = tmp_path / f"{key}.parquet"
    pq.write_table(pa.table({"level": column}), path, row_group_size=3)  # 3 row groups
    got = colbridge.read_pandas(path)
    want = pq.read_table(path).to_pandas()
    assert list(got["level"].cat.categories) == list(want["level"].cat.categories)
    # Same categories, values and code width (int8 for 3 categories, as pandas).
    pd.testing.assert_series_equal(got["level"], want["level"])
    got.loc[0, "level"] = "high"  # a writable, ordinary frame
    assert got.loc[0, "level"] == "high"


def test_categorical_codes_are_the_decoded_buffer(tmp_path):
    path = tmp_path / "codes.parquet"
    # 200 categories: pandas' codes are int16, so the decoder's int16 codes are handed over.
    values = pa.DictionaryArray.from_arrays(
        pa.array(np.arange(10_000) % 200, type="int16"), pa.array([f"v{i}" for i in range(200)])
    )
    pq.write_table(pa.table({"v": values}), path, row_group_size=2_500)
    df = colbridge.read_pandas(path)
    base = df["v"].array._ndarray
    assert lease_of(base) is not None  # the Arrow buffer colbridge decoded, not a copy
    assert base.dtype == np.int16 and base.flags.writeable
    assert (base == np.arange(10_000) % 200).all()


@pytest.mark.parametrize(("n", "width"), [(5, np.int8), (126, np.int8), (300, np.int16)])
def test_codes_are_decoded_in_pandas_width(tmp_path, n, width):
    # The file's indices are int32; pandas' codes for n categories are int8 (n < 127) or int16:
    # the decoder writes that width directly, so the codes are the decoded buffer, not a copy.
    path = tmp_path / "narrow.parquet"
    cats = pa.array([f"v{i}" for i in range(n)])
    codes = pa.array(np.arange(5_000) % n, type="int32", mask=np.arange(5_000) % 7 == 0)
    pq.write_table(pa.table({"v": pa.DictionaryArray.from_arrays(codes, cats)}), path)
    df = colbridge.read_pandas(path)
    base = df["v"].array._ndarray
    assert base.dtype == width
    assert lease_of(base) is not None
    pd.testing.assert_frame_equal(df, pd.read_parquet(path))


def test_int64_with_nulls_becomes_float64_in_the_decoded_buffer(tmp_path):
    path = tmp_path / "ints.parquet"
    values = pa.array(np.arange(10_000, dtype=np.int64), mask=np.arange(10_000) % 5 == 0)
    pq.write_table(pa.table({"i": values}), path)
    df = colbridge.read_pandas(path)
    col = df["i"].to_numpy()
    assert col.dtype == np.float64
    assert lease_of(col) is not None  # converted in place: the decoded buffer, as float64
    pd.testing.assert_frame_equal(df, pd.read_parquet(path))
