"""Generate a synthetic business register and the raw answers of a structural business survey.

Run ``python generate.py`` to rewrite the CSV files next to this script, or
``python generate.py --out DIR`` to write them elsewhere. The output depends only on
SEED and numpy's random generator; the tests check it against datapackage.json.

``frame.csv`` is what a business register gives a survey statistician: every enterprise
of a population of 2,500, with its economic activity (NACE Rev. 2 section), its size
class and last year's employment and turnover. It is the sampling frame.

``survey-raw.csv`` holds the answers of 400 enterprises to a small structural business
survey (employees, turnover, wages, purchases, other costs and total costs, in thousands
of currency units) as they arrived: about a fifth of them carry the errors real returns
carry (figures in units instead of thousands, a digit typed twice, a component left out of
the total, a value with the wrong sign, a missing value). ``survey-true.csv`` holds the
values before the errors were made, known only because the data are synthetic.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

SEED = 20261206
N_FRAME = 2500
N_SURVEY = 400
SECTIONS = {  # NACE Rev. 2 section: (title, share of enterprises, turnover per employee in thousands)
    "C": ("Manufacturing", 0.14, 190.0),
    "F": ("Construction", 0.18, 140.0),
    "G": ("Wholesale and retail trade; repair of motor vehicles and motorcycles", 0.30, 260.0),
    "I": ("Accommodation and food service activities", 0.14, 60.0),
    "J": ("Information and communication", 0.09, 170.0),
    "M": ("Professional, scientific and technical activities", 0.15, 120.0),
}
SIZE_CLASSES = ((0, 9, "0-9"), (10, 49, "10-49"), (50, 249, "50-249"), (250, 10**9, "250+"))
WAGE_PER_EMPLOYEE = {"C": 42.0, "F": 38.0, "G": 30.0, "I": 22.0, "J": 55.0, "M": 48.0}  # thousands a year
SURVEY_FIELDS = ["employees", "turnover", "wages", "purchases", "other_costs", "total_costs"]


def size_class(employees: int) -> str:
    for low, high, label in SIZE_CLASSES:
        if low <= employees <= high:
            return label
    raise ValueError(employees)


def frame(rng: np.random.Generator) -> list[dict]:
    codes = list(SECTIONS)
    shares = np.array([SECTIONS[c][1] for c in codes])
    section = rng.choice(codes, size=N_FRAME, p=shares / shares.sum())
    # Employment is heavily skewed: most enterprises are small, a few are very large.
    employees = np.floor(np.exp(rng.normal(1.5, 1.6, N_FRAME))).astype(int)
    employees = np.minimum(employees, 4000)
    rows = []
    for i in range(N_FRAME):
        productivity = SECTIONS[section[i]][2] * np.exp(rng.normal(0, 0.45))
        turnover = max(1.0, (employees[i] + 0.6) * productivity)
        rows.append(
            {
                "enterprise_id": f"E{i + 1:05d}",
                "nace_section": str(section[i]),
                "size_class": size_class(int(employees[i])),
                "employees": int(employees[i]),
                "turnover": int(round(turnover)),
            }
        )
    return rows


def answers(rng: np.random.Generator, unit: dict) -> dict:
    """This year's true values for an enterprise of the frame: consistent with every rule."""
    growth = np.exp(rng.normal(0.02, 0.12))
    employees = max(0, int(round(unit["employees"] * np.exp(rng.normal(0, 0.08)))))
    turnover = int(round(unit["turnover"] * growth))
    wages = int(round(employees * WAGE_PER_EMPLOYEE[unit["nace_section"]] * np.exp(rng.normal(0, 0.15))))
    purchases = int(round(turnover * rng.uniform(0.35, 0.6)))
    other = int(round(turnover * rng.uniform(0.05, 0.15)))
    return {
        "employees": employees,
        "turnover": turnover,
        "wages": wages,
        "purchases": purchases,
        "other_costs": other,
        "total_costs": wages + purchases + other,
    }


def with_errors(rng: np.random.Generator, true: dict) -> tuple[dict, str]:
    """The answer as it arrived, and the kind of error made ('' when none, or when it changed nothing)."""
    raw, kind = make_error(rng, true)
    return (raw, kind) if raw != true else (raw, "")


def make_error(rng: np.random.Generator, true: dict) -> tuple[dict, str]:
    raw: dict = dict(true)
    draw = rng.random()
    if draw < 0.74:
        return raw, ""
    if draw < 0.80:  # turnover reported in currency units instead of thousands
        raw["turnover"] = true["turnover"] * 1000
        return raw, "unit"
    if draw < 0.85:  # a digit typed twice in purchases
        text = str(true["purchases"])
        at = int(rng.integers(0, len(text)))
        raw["purchases"] = int(text[: at + 1] + text[at:])
        raw["total_costs"] = true["total_costs"]
        return raw, "typing"
    if draw < 0.90:  # other costs left out of the total
        raw["total_costs"] = true["wages"] + true["purchases"]
        return raw, "total"
    if draw < 0.94:  # wages with a minus sign
        raw["wages"] = -true["wages"]
        return raw, "sign"
    if draw < 0.97:  # wages left empty
        raw["wages"] = None
        return raw, "missing"
    # employees reported as the wage bill (the answer put in the wrong box)
    raw["employees"] = true["wages"]
    return raw, "box"


def write_csv(path: Path, header: list[str], rows: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if row[h] is None else row[h] for h in header])


def main(out: Path) -> None:
    rng = np.random.default_rng(SEED)
    units = frame(rng)
    # The survey's respondents: an equal-probability draw in each size class, larger ones more often.
    probability = {"0-9": 0.08, "10-49": 0.3, "50-249": 0.8, "250+": 1.0}
    chosen = [u for u in units if rng.random() < probability[u["size_class"]]]
    order = rng.permutation(len(chosen))[:N_SURVEY]
    respondents = sorted((chosen[k] for k in order), key=lambda u: u["enterprise_id"])
    raw_rows, true_rows = [], []
    for unit in respondents:
        true = answers(rng, unit)
        raw, error = with_errors(rng, true)
        keys = {"enterprise_id": unit["enterprise_id"], "nace_section": unit["nace_section"]}
        raw_rows.append({**keys, **raw})
        true_rows.append({**keys, **true, "error": error})
    out.mkdir(parents=True, exist_ok=True)
    write_csv(out / "frame.csv", ["enterprise_id", "nace_section", "size_class", "employees", "turnover"], units)
    write_csv(out / "survey-raw.csv", ["enterprise_id", "nace_section", *SURVEY_FIELDS], raw_rows)
    write_csv(out / "survey-true.csv", ["enterprise_id", "nace_section", *SURVEY_FIELDS, "error"], true_rows)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    main(parser.parse_args().out)
