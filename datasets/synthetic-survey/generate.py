"""Generate the synthetic survey: a population, a stratified sample with non-response, and its margins.

Run ``python generate.py`` to rewrite the CSV files next to this script, or
``python generate.py --out DIR`` to write them elsewhere. The output depends only on
SEED and on numpy's random generator: the same numpy gives the same bytes, which the
tests check against the hashes in datapackage.json.

The population (120,000 persons aged 15 to 89 in six regions) is never written out:
only what a statistical office would have. That is the respondents of a survey (with
their design weights), the population totals by region, sex and age group that a
register gives (margins.csv), and, because the data are synthetic, the true values of
a few indicators (truth.csv) to judge estimates against.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

SEED = 20261125
REGIONS = {  # code: (name, population)
    "R1": ("Capital", 30000),
    "R2": ("Coast", 25000),
    "R3": ("North", 20000),
    "R4": ("Valley", 20000),
    "R5": ("Highlands", 15000),
    "R6": ("Islands", 10000),
}
SAMPLE_PER_REGION = 600
AGE_GROUPS = (
    (15, 24, "15-24"),
    (25, 34, "25-34"),
    (35, 44, "35-44"),
    (45, 54, "45-54"),
    (55, 64, "55-64"),
    (65, 89, "65+"),
)
EDUCATION = ("low", "medium", "high")
# Response propensity by age group: young people answer surveys least.
RESPONSE_BY_AGE = {"15-24": 0.42, "25-34": 0.52, "35-44": 0.60, "45-54": 0.66, "55-64": 0.72, "65+": 0.78}


def age_group(age: int) -> str:
    for low, high, label in AGE_GROUPS:
        if low <= age <= high:
            return label
    raise ValueError(age)


def logistic(x):
    return 1 / (1 + np.exp(-x))


def population(rng: np.random.Generator) -> dict[str, np.ndarray]:
    region = np.concatenate([np.full(size, code) for code, (_, size) in REGIONS.items()])
    n = region.size
    sex = np.where(rng.random(n) < 0.51, "F", "M")
    ages = np.arange(15, 90)
    weight = np.where(ages < 65, 1.0, np.maximum(0.15, 1.0 - (ages - 65) * 0.035))
    age = rng.choice(ages, size=n, p=weight / weight.sum())
    group = np.array([age_group(a) for a in age])
    # Younger cohorts have more education; the capital more than elsewhere.
    score = -0.03 * (age - 45) + np.where(region == "R1", 0.6, 0.0) + rng.normal(0, 1, n)
    education = np.select([score < -0.5, score < 0.9], ["low", "medium"], "high")
    edu_effect = np.select([education == "low", education == "medium"], [-0.7, 0.2], 0.9)
    region_effect = np.select([region == "R1", region == "R6", region == "R5"], [0.4, -0.5, -0.2], 0.0)
    age_effect = np.select([age < 20, age < 25, age < 55, age < 60, age < 65], [-2.2, -0.6, 1.2, 0.6, -0.3], -3.0)
    sex_effect = np.where(sex == "F", -0.25, 0.0)
    employed = rng.random(n) < logistic(0.3 + edu_effect + region_effect + age_effect + sex_effect)
    # ISCO-08 major groups 1-9 of the employed, by education.
    occ_probs = {
        "low": [0.02, 0.02, 0.05, 0.07, 0.18, 0.06, 0.20, 0.18, 0.22],
        "medium": [0.05, 0.08, 0.20, 0.16, 0.20, 0.04, 0.12, 0.09, 0.06],
        "high": [0.12, 0.48, 0.20, 0.08, 0.06, 0.01, 0.02, 0.02, 0.01],
    }
    occupation = np.zeros(n, dtype=int)
    for level, probs in occ_probs.items():
        rows = employed & (education == level)
        occupation[rows] = rng.choice(np.arange(1, 10), size=rows.sum(), p=probs)
    occ_level = np.array([0, 0.55, 0.45, 0.2, 0.0, -0.05, -0.2, 0.05, -0.05, -0.3])
    log_earn = (
        7.75
        + occ_level[occupation]
        + 0.01 * np.clip(age - 20, 0, 35)
        + np.where(sex == "F", -0.12, 0.0)
        + np.where(region == "R1", 0.12, 0.0)
        + rng.normal(0, 0.35, n)
    )
    earnings = np.where(employed, np.round(np.exp(log_earn) / 10) * 10, 0).astype(int)
    household = np.clip(rng.poisson(np.where((age > 30) & (age < 55), 2.2, 1.2)) + 1, 1, 8)
    return {
        "region": region,
        "sex": sex,
        "age": age,
        "age_group": group,
        "education": education,
        "household_size": household,
        "employed": employed.astype(int),
        "occupation": occupation,
        "monthly_earnings": earnings,
    }


def write_csv(path: Path, header: list[str], rows) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def main(out: Path) -> None:
    rng = np.random.default_rng(SEED)
    pop = population(rng)
    n = pop["region"].size
    out.mkdir(parents=True, exist_ok=True)

    # Stratified simple random sample: SAMPLE_PER_REGION in each region, whatever its size.
    sampled = np.concatenate(
        [
            np.sort(rng.choice(np.flatnonzero(pop["region"] == code), SAMPLE_PER_REGION, replace=False))
            for code in REGIONS
        ]
    )
    # Non-response: by age group, lower for the employed (harder to reach).
    propensity = np.array([RESPONSE_BY_AGE[g] for g in pop["age_group"][sampled]]) - 0.08 * pop["employed"][sampled]
    responded = sampled[rng.random(sampled.size) < propensity]
    design_weight = {code: size / SAMPLE_PER_REGION for code, (_, size) in REGIONS.items()}
    rows = []
    for number, i in enumerate(responded, start=1):
        employed = bool(pop["employed"][i])
        rows.append(
            [
                f"P{number:05d}",
                pop["region"][i],
                pop["sex"][i],
                int(pop["age"][i]),
                pop["age_group"][i],
                pop["education"][i],
                int(pop["household_size"][i]),
                int(employed),
                int(pop["occupation"][i]) if employed else "",
                int(pop["monthly_earnings"][i]) if employed else "",
                f"{design_weight[pop['region'][i]]:.4f}",
            ]
        )
    write_csv(
        out / "respondents.csv",
        [
            "person_id",
            "region",
            "sex",
            "age",
            "age_group",
            "education",
            "household_size",
            "employed",
            "occupation",
            "monthly_earnings",
            "design_weight",
        ],
        rows,
    )

    margins = [["region", code, int((pop["region"] == code).sum())] for code in REGIONS]
    margins += [["sex", s, int((pop["sex"] == s).sum())] for s in ("F", "M")]
    margins += [["age_group", g, int((pop["age_group"] == g).sum())] for _, _, g in AGE_GROUPS]
    write_csv(out / "margins.csv", ["variable", "category", "population"], margins)

    employed = pop["employed"] == 1
    truth = [
        ["population", n],
        ["employed", int(employed.sum())],
        ["employment_rate", f"{employed.mean():.4f}"],
        ["mean_monthly_earnings_of_employed", f"{pop['monthly_earnings'][employed].mean():.2f}"],
        ["employment_rate_15_24", f"{employed[pop['age_group'] == '15-24'].mean():.4f}"],
    ]
    write_csv(out / "truth.csv", ["indicator", "value"], truth)
    write_csv(out / "regions.csv", ["region", "name"], [[code, name] for code, (name, _) in REGIONS.items()])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    main(parser.parse_args().out)
