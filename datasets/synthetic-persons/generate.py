"""Generate two synthetic person files to link: a census extract and an administrative register.

Run ``python generate.py`` to rewrite the CSV files next to this script, or
``python generate.py --out DIR`` to write them elsewhere. The output depends only on
SEED and numpy's random generator; the tests check it against datapackage.json.

Both files describe people of one invented population. Most people are in both files,
some in only one. The register copy of a person carries the errors real files have:
typing mistakes, swapped day and month, a married name, a move to a new address,
missing values. ``person_id`` is the true identity, kept so that a linkage can be
scored; a real pair of files would not have it.
"""

from __future__ import annotations

import argparse
import csv
from datetime import date, timedelta
from pathlib import Path

import numpy as np

SEED = 19690101
N_PEOPLE = 3000
SHARE_IN_CENSUS = 0.85
SHARE_IN_REGISTER = 0.80

FEMALE = (
    "anna maria sofia emma julia laura sara elena eva lucia marta clara ines nora lena paula rosa alice irene "
    "helena carla diana olga vera zoe mia lisa hanna amira fatima leila yasmin aisha chloe grace ruth esther "
    "judith agnes beatriz teresa monica silvia"
).split()
MALE = (
    "john peter paul mark david daniel michael thomas james robert lucas adam jan piotr marco luca pablo diego "
    "ahmed omar yusuf karim ali ivan igor tomas martin simon victor hugo leon felix oscar noah elias samuel "
    "jonas erik lars anders mikkel"
).split()
SURNAMES = (
    "smith jones brown taylor wilson evans thomas roberts walker wright green hall wood harris clarke "
    "jackson white turner hill moore martin cooper ward morris king lee baker hughes edwards lewis young "
    "morgan allen scott carter phillips mitchell davies parker bennett murphy kelly ryan walsh byrne "
    "obrien doyle mccarthy gallagher doherty kennedy lynch murray quinn moran novak kowalski nowak "
    "wisniewski horvath nagy kovacs szabo muller schmidt schneider fischer weber meyer wagner becker "
    "schulz hoffmann rossi russo ferrari esposito bianchi romano colombo ricci marino greco garcia "
    "fernandez gonzalez rodriguez lopez martinez sanchez perez gomez diaz silva santos ferreira pereira "
    "oliveira costa rodrigues martins jensen nielsen hansen pedersen andersen larsen johansson karlsson "
    "nilsson eriksson larsson olsen yilmaz kaya demir sahin celik hassan ibrahim mohamed khan rahman "
    "dubois durand leroy moreau laurent lefebvre janssens peeters maes jacobs devries bakker visser "
    "smit meijer dekker"
).split()
STREETS = (
    "high street|station road|church lane|mill road|park avenue|school street|market square|bridge street|"
    "river walk|oak crescent|elm grove|harbour road|castle hill|north parade|green lane|victoria road|"
    "orchard close|meadow way|forest drive|lake view"
).split("|")
TOWNS = {  # town: postcode prefix
    "ashford": "11",
    "brookfield": "12",
    "clayton": "13",
    "dunmore": "14",
    "eastwick": "15",
    "fairview": "16",
    "glenville": "17",
    "hillcrest": "18",
    "kingsport": "19",
    "lakeside": "20",
    "millbrook": "21",
    "northam": "22",
}
KEYBOARD = "qwertyuiopasdfghjklzxcvbnm"
COLUMNS = [
    "record_id",
    "given_name",
    "surname",
    "sex",
    "date_of_birth",
    "street_address",
    "town",
    "postcode",
    "person_id",
]


def typo(rng: np.random.Generator, word: str) -> str:
    """One typing mistake: a letter replaced, dropped, doubled, or two letters swapped."""
    if len(word) < 3:
        return word
    i = int(rng.integers(1, len(word) - 1))
    kind = int(rng.integers(4))
    if kind == 0:
        return word[:i] + KEYBOARD[int(rng.integers(len(KEYBOARD)))] + word[i + 1 :]
    if kind == 1:
        return word[:i] + word[i + 1 :]
    if kind == 2:
        return word[:i] + word[i] + word[i:]
    return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]


def address(rng: np.random.Generator) -> tuple[str, str, str]:
    town = list(TOWNS)[int(rng.integers(len(TOWNS)))]
    street = f"{int(rng.integers(1, 120))} {STREETS[int(rng.integers(len(STREETS)))]}"
    return street, town, f"{TOWNS[town]}{int(rng.integers(0, 100)):02d}"


def people(rng: np.random.Generator) -> list[dict]:
    surname_weights = 1 / np.arange(1, len(SURNAMES) + 1) ** 0.6  # a few common surnames, many rare ones
    surname_weights /= surname_weights.sum()
    result = []
    for number in range(1, N_PEOPLE + 1):
        sex = "F" if rng.random() < 0.5 else "M"
        names = FEMALE if sex == "F" else MALE
        born = date(1935, 1, 1) + timedelta(days=int(rng.integers(0, 70 * 365)))
        street, town, postcode = address(rng)
        result.append(
            {
                "given_name": names[int(rng.integers(len(names)))],
                "surname": SURNAMES[int(rng.choice(len(SURNAMES), p=surname_weights))],
                "sex": sex,
                "date_of_birth": born,
                "street_address": street,
                "town": town,
                "postcode": postcode,
                "person_id": f"Q{number:05d}",
            }
        )
    return result


def census_copy(rng: np.random.Generator, person: dict) -> dict:
    record = dict(person)
    if rng.random() < 0.03:
        record["given_name"] = typo(rng, record["given_name"])
    if rng.random() < 0.03:
        record["surname"] = typo(rng, record["surname"])
    return record


def register_copy(rng: np.random.Generator, person: dict) -> dict:
    record = dict(person)
    if rng.random() < 0.12:
        record["given_name"] = typo(rng, record["given_name"])
    if rng.random() < 0.12:
        record["surname"] = typo(rng, record["surname"])
    if record["sex"] == "F" and rng.random() < 0.06:  # a name taken at marriage
        record["surname"] = SURNAMES[int(rng.integers(len(SURNAMES)))]
    born = record["date_of_birth"]
    draw = rng.random()
    if draw < 0.04 and born.day <= 12 and born.day != born.month:  # day and month swapped
        born = date(born.year, born.day, born.month)
    elif draw < 0.08:  # a wrong day
        born = born.replace(day=int(rng.integers(1, 29)))
    elif draw < 0.10:  # a wrong year
        born = born.replace(year=born.year + int(rng.choice([-1, 1])))
    record["date_of_birth"] = born
    if rng.random() < 0.15:  # moved since the census
        record["street_address"], record["town"], record["postcode"] = address(rng)
    elif rng.random() < 0.05:
        record["street_address"] = typo(rng, record["street_address"])
    for field, share in (("given_name", 0.01), ("date_of_birth", 0.02), ("postcode", 0.04), ("street_address", 0.03)):
        if rng.random() < share:
            record[field] = None
    return record


def write(path: Path, prefix: str, records: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(COLUMNS)
        for number, record in enumerate(records, start=1):
            row = {**record, "record_id": f"{prefix}{number:05d}"}
            writer.writerow(["" if row[c] is None else str(row[c]) for c in COLUMNS])


def main(out: Path) -> None:
    rng = np.random.default_rng(SEED)
    population = people(rng)
    in_census = rng.random(N_PEOPLE) < SHARE_IN_CENSUS
    in_register = rng.random(N_PEOPLE) < SHARE_IN_REGISTER
    census = [census_copy(rng, p) for p, keep in zip(population, in_census, strict=True) if keep]
    register = [register_copy(rng, p) for p, keep in zip(population, in_register, strict=True) if keep]
    register = [register[i] for i in rng.permutation(len(register))]  # the register has its own order
    out.mkdir(parents=True, exist_ok=True)
    write(out / "census.csv", "C", census)
    write(out / "register.csv", "R", register)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    main(parser.parse_args().out)
