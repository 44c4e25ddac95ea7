"""Load Parquet into pandas with no copy and plot a result with matplotlib.

Writes the figure next to this script (examples/data/distance_by_zone.png).

Run: python examples/plot.py
"""

from __future__ import annotations

from _data import DATA, bundled_file

import colbridge


def main() -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: skipping")
        return
    df = colbridge.read_pandas(bundled_file(), columns=["zone", "distance_km"])
    means = df.groupby("zone")["distance_km"].mean().sort_index()
    fig, ax = plt.subplots(figsize=(7, 3))
    means.plot.bar(ax=ax, color="#4c72b0")
    ax.set_ylabel("mean distance (km)")
    ax.set_title("Mean trip distance by zone")
    fig.tight_layout()
    out = DATA.parent / "distance_by_zone.png"
    fig.savefig(out, dpi=100)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
