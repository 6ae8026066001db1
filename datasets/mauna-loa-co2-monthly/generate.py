"""Derive the monthly Mauna Loa CO2 series from the weekly data that ship with statsmodels.

Run ``python generate.py`` to rewrite co2-monthly.csv next to this script, or
``python generate.py --out DIR`` to write it elsewhere. The monthly value is the mean
of the weekly measurements of the month; a month without any measurement is filled by
linear interpolation between its neighbours and flagged. The tests rerun this script
in the user image and compare its output with the hash in datapackage.json.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from statsmodels.datasets import co2


def main(out: Path) -> None:
    weekly = co2.load_pandas().data["co2"]
    monthly = weekly.resample("MS").mean()
    interpolated = monthly.isna()
    monthly = monthly.interpolate(method="linear")
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "co2-monthly.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["month", "co2_ppm", "weeks_measured", "interpolated"])
        counts = weekly.resample("MS").count()
        for month, value in monthly.items():
            writer.writerow(
                [
                    month.strftime("%Y-%m"),
                    f"{value:.3f}",
                    int(counts[month]),
                    "true" if interpolated[month] else "false",
                ]
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    main(parser.parse_args().out)
