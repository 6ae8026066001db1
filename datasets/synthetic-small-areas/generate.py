"""Generate a household survey too small for direct estimates in most of its 40 areas.

Run ``python generate.py`` to rewrite the CSV files next to this script, or
``python generate.py --out DIR`` to write them elsewhere. The output depends only on
SEED and numpy's random generator; the tests check it against datapackage.json.

A synthetic country of 40 municipalities and about 190,000 households. Each household
has an annual disposable income; the municipalities differ in their mean income, which
follows two register variables known for every municipality (mean taxable income per
household, registered unemployment rate) plus an effect of their own. A survey of about
1,000 households is drawn, stratified by municipality, with sample sizes from none to
about 100: what is left for the small municipalities is far too little for a direct
estimate. Written out: the sample (``sample.csv``), the register variables and household
counts of every municipality (``areas.csv``) and, because the country is synthetic, the
true mean income of every municipality (``truth.csv``).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

SEED = 1979  # the year of Fay and Herriot's paper
N_AREAS = 40
N_SAMPLE = 1000
OUT_OF_SAMPLE = 3  # municipalities with no sampled household
INCOME_SPREAD = 0.5  # standard deviation of log income within a municipality
AREA_EFFECT_SD = 2.5  # thousands: what the register variables do not explain


def write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def main(out: Path) -> None:
    rng = np.random.default_rng(SEED)
    households = np.round(np.exp(rng.normal(8.0, 0.95, N_AREAS))).astype(int) + 300
    urban = (households > np.quantile(households, 0.7)).astype(int)
    register_income = np.round(rng.normal(30.0, 4.0, N_AREAS) + 2.5 * urban, 1)
    unemployment = np.round(rng.uniform(3.0, 14.0, N_AREAS), 1)
    effect = rng.normal(0.0, AREA_EFFECT_SD, N_AREAS)
    mean_income = 29.0 + 0.85 * (register_income - 30.0) - 0.45 * (unemployment - 8.0) + effect
    # Sample sizes: roughly proportional to the size, none in a few small areas.
    share = households / households.sum()
    sizes = np.maximum(2, np.round(share * N_SAMPLE)).astype(int)
    smallest = np.argsort(households)[: OUT_OF_SAMPLE * 3]
    sizes[rng.choice(smallest, OUT_OF_SAMPLE, replace=False)] = 0
    area_rows, truth_rows, sample_rows = [], [], []
    number = 0
    for d in range(N_AREAS):
        code = f"M{d + 1:02d}"
        incomes = mean_income[d] * np.exp(rng.normal(-(INCOME_SPREAD**2) / 2, INCOME_SPREAD, households[d]))
        incomes = np.round(incomes, 1)
        area_rows.append([code, int(households[d]), float(register_income[d]), float(unemployment[d]), int(urban[d])])
        truth_rows.append([code, round(float(incomes.mean()), 3)])
        picked = np.sort(rng.choice(households[d], sizes[d], replace=False))
        for k in picked:
            number += 1
            weight = households[d] / sizes[d]
            sample_rows.append([f"H{number:05d}", code, round(float(weight), 4), float(incomes[k])])
    out.mkdir(parents=True, exist_ok=True)
    write_csv(out / "sample.csv", ["household_id", "area", "weight", "income"], sample_rows)
    write_csv(
        out / "areas.csv", ["area", "households", "register_mean_income", "unemployment_rate", "urban"], area_rows
    )
    write_csv(out / "truth.csv", ["area", "mean_income"], truth_rows)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    main(parser.parse_args().out)
