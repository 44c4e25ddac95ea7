"""Query a colbridge Table with DuckDB SQL (DuckDB reads it through the Arrow C stream).

Run: python examples/duckdb_sql.py
"""

from __future__ import annotations

from _data import bundled_file

import colbridge


def main() -> None:
    trips = colbridge.read_parquet(bundled_file())  # noqa: F841 (DuckDB finds it by name)
    try:
        import duckdb
    except ImportError:
        print("duckdb not installed: skipping")
        return
    result = duckdb.sql(
        "select zone, count(*) as trips, round(avg(distance_km), 2) as avg_km "
        "from trips group by zone order by trips desc, zone limit 5"
    )
    print(result)
    back = colbridge.table(result)  # and back into colbridge, without a copy
    print(back.column_names, back.num_rows)


if __name__ == "__main__":
    main()
