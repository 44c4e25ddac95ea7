"""`python -m colbridge inspect|head`: output, JSON, and clean failures."""

import json
import subprocess
import sys

import pytest

from ..conftest import parquet_file


@pytest.fixture
def sample(tmp_path):
    columns = {"a": list(range(25)), "b": [f"s{i}" for i in range(25)]}
    return parquet_file(
        tmp_path / "sample.parquet", columns, compression="snappy", row_group_size=10
    )


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "colbridge", *map(str, args)], capture_output=True, text=True
    )


def test_inspect_shows_schema_row_groups_and_statistics(sample):
    out = run("inspect", sample)
    assert out.returncode == 0, out.stderr
    assert "rows:        25" in out.stdout
    assert "row groups:  3" in out.stdout
    assert "a  int64" in out.stdout
    assert "SNAPPY" in out.stdout
    assert "min=0 max=9 nulls=0" in out.stdout


def test_inspect_json_is_machine_readable(sample):
    out = run("inspect", sample, "--json")
    info = json.loads(out.stdout)
    assert info["num_rows"] == 25
    assert [rg["num_rows"] for rg in info["row_groups"]] == [10, 10, 5]
    assert info["schema"][1] == {"name": "b", "type": "string", "nullable": True}


def test_head_previews_selected_columns(sample):
    out = run("head", sample, "-n", "3", "--columns", "b")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].strip() == "b"
    assert [line.strip() for line in lines[2:5]] == ["s0", "s1", "s2"]
    assert "(3 of 25 rows)" in out.stdout


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: None, "no such file"),
        (lambda p: p.write_text("not parquet at all"), "Parquet"),
        (lambda p: p.write_bytes(b"PAR1" + b"\0" * 20 + b"PAR1"), "Parquet"),
    ],
    ids=["missing", "not-parquet", "corrupt"],
)
def test_bad_files_exit_non_zero_with_a_clear_message(tmp_path, make, message):
    path = tmp_path / "bad.parquet"
    make(path)
    for command in ("inspect", "head"):
        out = run(command, path)
        assert out.returncode == 1
        assert out.stderr.startswith("error:") and message in out.stderr
        assert "Traceback" not in out.stderr and "panicked" not in out.stderr
