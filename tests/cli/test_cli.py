"""`python -m colbridge inspect|schema|stats|head|convert`: output, JSON, temporal statistics,
argument checks and clean failures."""

import datetime as dt
import json
import subprocess
import sys
import textwrap

import pytest

import colbridge

from ..conftest import parquet_file


@pytest.fixture
def sample(tmp_path):
    columns = {"a": list(range(25)), "b": [f"s{i}" for i in range(25)]}
    return parquet_file(
        tmp_path / "sample.parquet", columns, compression="snappy", row_group_size=10
    )


def run(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "colbridge", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
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


def test_help_is_plain_text_listing_every_command():
    out = run("--help")
    assert out.returncode == 0
    assert "``" not in out.stdout and ":class:" not in out.stdout
    for command in ("inspect", "schema", "stats", "head", "convert"):
        assert f"python -m colbridge {command}" in out.stdout


def test_head_refuses_a_negative_count(sample):
    out = run("head", sample, "-n", "-3")
    assert out.returncode == 2
    assert "the number of rows cannot be negative, got -3" in out.stderr


def test_head_of_zero_rows_shows_the_header(sample):
    out = run("head", sample, "-n", "0")
    assert out.returncode == 0 and "(0 of 25 rows)" in out.stdout


@pytest.fixture
def temporal(tmp_path):
    """Timestamps in seconds (naive), milliseconds in Berlin and nanoseconds in UTC, dates and
    times of day, each with a null."""
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    utc = [dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.UTC), None]
    table = pa.table(
        {
            "naive_s": pa.array([dt.datetime(2023, 11, 14, 22, 13, 20), None], pa.timestamp("s")),
            "berlin_ms": pa.array(utc, pa.timestamp("ms", tz="Europe/Berlin")),
            "utc_ns": pa.array(utc, pa.timestamp("ns", tz="UTC")),
            "day": pa.array([dt.date(2023, 11, 14), None]),
            "clock": pa.array([dt.time(8, 30, 15), None]),
        }
    )
    path = tmp_path / "temporal.parquet"
    pq.write_table(table, path)
    return path


def test_inspect_shows_timestamp_statistics_in_the_columns_unit_and_zone(temporal):
    out = run("inspect", temporal)
    assert out.returncode == 0, out.stderr
    lines = {
        line.split(":")[0].strip(): line for line in out.stdout.splitlines() if ": INT" in line
    }
    # pyarrow stores timestamp[s] as milliseconds, which is the unit colbridge reads back
    assert "TIMESTAMP(MILLIS, local)" in lines["naive_s"]
    assert "min='2023-11-14 22:13:20.000' max='2023-11-14 22:13:20.000' nulls=1" in lines["naive_s"]
    assert "min='2023-11-14 23:13:20.000+01:00'" in lines["berlin_ms"]
    assert "min='2023-11-14 22:13:20.000000000+00:00'" in lines["utc_ns"]
    assert "min='2023-11-14'" in lines["day"]
    assert "min='08:30:15.000000'" in lines["clock"]


def test_a_seconds_timestamp_is_stored_and_shown_in_milliseconds(tmp_path):
    """timestamp[s] is written as milliseconds, as pyarrow writes it (Parquet has no seconds
    unit); its statistics are shown in the unit the file stores."""
    np = pytest.importorskip("numpy")
    seconds = np.array([1_700_000_000, 1_700_000_600], dtype="datetime64[s]")
    path = parquet_file(tmp_path / "s.parquet", {"t": seconds})
    out = run("inspect", path)
    assert "t: INT64 TIMESTAMP(MILLIS, local) ZSTD" in out.stdout
    assert "min='2023-11-14 22:13:20.000' max='2023-11-14 22:23:20.000' nulls=0" in out.stdout


def test_stats_and_json_show_temporal_statistics_as_such(temporal):
    out = run("stats", temporal, "--json")
    assert out.returncode == 0, out.stderr
    stats = {c["column"]: c for c in json.loads(out.stdout)}
    assert stats["berlin_ms"]["min"] == "2023-11-14 23:13:20.000+01:00"
    assert stats["berlin_ms"]["nulls"] == 1
    assert stats["day"]["max"] == "2023-11-14"
    info = json.loads(run("inspect", temporal, "--json").stdout)
    column = info["row_groups"][0]["columns"][0]
    assert column["statistics"]["min"] == "2023-11-14 22:13:20.000"
    assert (column["logical_type"], column["time_unit"]) == ("TIMESTAMP(MILLIS, local)", "ms")


def test_stats_summarises_every_column_over_all_row_groups(sample):
    out = run("stats", sample)
    assert out.returncode == 0, out.stderr
    header, _, a, b = out.stdout.splitlines()
    assert header.split()[:5] == ["column", "type", "nulls", "min", "max"]
    assert a.split()[:5] == ["a", "int64", "0", "0", "24"]
    assert b.split()[:5] == ["b", "string", "0", "s0", "s9"]


def test_schema_lists_names_types_and_nullability(sample):
    out = run("schema", sample)
    assert out.stdout.splitlines() == ["a  int64", "b  string"]
    fields = json.loads(run("schema", sample, "--json").stdout)
    assert fields == [
        {"name": "a", "type": "int64", "nullable": True},
        {"name": "b", "type": "string", "nullable": True},
    ]


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p.mkdir(), "is a directory"),
        (lambda p: None, "no such file"),
    ],
    ids=["directory", "missing"],
)
@pytest.mark.parametrize("command", ["inspect", "schema", "stats", "head"])
def test_every_command_names_a_bad_path(tmp_path, make, message, command):
    path = tmp_path / "in.parquet"
    make(path)
    if message == "is a directory" and command in ("inspect", "head"):
        # These two take datasets: a directory is one, so give it a file that is no Parquet.
        (path / "part-0.parquet").write_bytes(b"not parquet")
        message = "part-0.parquet"
    out = run(command, path)
    assert out.returncode == 1
    assert out.stderr.startswith("error:") and message in out.stderr and str(path) in out.stderr


def test_an_empty_directory_is_an_empty_dataset(tmp_path):
    out = run("inspect", tmp_path)
    assert out.returncode == 0, out.stderr
    assert "files:       0" in out.stdout and "rows:        0" in out.stdout


def test_a_glob_is_inspected_as_a_dataset(sample):
    out = run("inspect", sample.parent / "*.parquet")
    assert out.returncode == 0, out.stderr
    assert "dataset:" in out.stdout and "files:" in out.stdout


def test_convert_round_trips_through_csv(sample, tmp_path):
    pytest.importorskip("pyarrow")
    middle, back = tmp_path / "sample.csv", tmp_path / "back.parquet"
    first = run("convert", sample, middle)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == f"wrote {middle} (csv, 25 rows)"
    assert middle.read_text().splitlines()[:2] == ['"a","b"', '0,"s0"']
    second = run("convert", middle, back, "--compression", "snappy")
    assert second.returncode == 0, second.stderr
    assert colbridge.read_parquet(back).to_pydict() == colbridge.read_parquet(sample).to_pydict()
    codecs = {
        c["compression"] for c in colbridge.ParquetFile(back).metadata["row_groups"][0]["columns"]
    }
    assert codecs == {"SNAPPY"}


def test_convert_keeps_the_columns_asked_for(sample, tmp_path):
    out = tmp_path / "b.parquet"
    done = run("convert", sample, out, "--columns", "b")
    assert done.returncode == 0, done.stderr
    assert colbridge.read_parquet(out).column_names == ["b"]


@pytest.mark.parametrize("suffix", [".arrow", ".feather", ".arrows"])
@pytest.mark.parametrize("compression", [None, "lz4", "zstd"])
def test_convert_round_trips_through_arrow_ipc(sample, tmp_path, suffix, compression):
    middle = tmp_path / f"mid{suffix}"
    extra = () if compression is None else ("--compression", compression)
    first = run("convert", sample, middle, *extra)
    assert first.returncode == 0, first.stderr
    table = colbridge.read_ipc(middle)
    assert table.to_pydict() == colbridge.read_parquet(sample).to_pydict()
    back = tmp_path / "back.parquet"
    second = run("convert", middle, back)
    assert second.returncode == 0, second.stderr
    assert colbridge.read_parquet(back).to_pydict() == table.to_pydict()


def test_convert_refuses_an_unknown_ipc_codec(sample, tmp_path):
    out = run("convert", sample, tmp_path / "out.arrow", "--compression", "snappy")
    assert out.returncode == 1 and "ipc output takes none, lz4, zstd" in out.stderr
    assert not (tmp_path / "out.arrow").exists()


def test_convert_parquet_to_parquet_recompresses(sample, tmp_path):
    out = tmp_path / "plain.parquet"
    assert run("convert", sample, out, "--compression", "none").returncode == 0
    assert colbridge.read_parquet(out).to_pydict() == colbridge.read_parquet(sample).to_pydict()


@pytest.mark.parametrize(
    "args, message",
    [
        (["out.txt"], "cannot tell the format of output 'out.txt' from its extension"),
        (["out.txt", "--to", "xml"], "invalid choice: 'xml'"),
        (["out.csv", "--compression", "zstd"], "--compression zstd: csv output takes none"),
        (["out.parquet", "--compression", "lzo"], "parquet output takes zstd, snappy"),
        (["nowhere/out.csv"], "cannot write nowhere/out.csv: no such directory: nowhere"),
    ],
)
def test_convert_refuses_what_it_cannot_do_saying_what_it_can(sample, tmp_path, args, message):
    out = run("convert", sample, *args, cwd=tmp_path)
    assert out.returncode in (1, 2)
    assert message in out.stderr and "Traceback" not in out.stderr


def test_convert_to_csv_without_pyarrow_says_how_to_install_it(sample, tmp_path):
    code = textwrap.dedent(
        f"""
        import sys
        sys.modules["pyarrow"] = None
        from colbridge.cli import main
        sys.exit(main(["convert", {str(sample)!r}, {str(tmp_path / "out.csv")!r}]))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 1
    assert out.stderr.strip() == ("error: writing CSV needs pyarrow: pip install pyarrow")
    assert not (tmp_path / "out.csv").exists()
