"""Generate synthetic descriptions of business activities coded to NACE Rev. 2 divisions.

Run ``python generate.py`` to rewrite the CSV files next to this script, or
``python generate.py --out DIR`` to write them elsewhere. The output depends only on
SEED and numpy's random generator; the tests check it against datapackage.json.

Each description is what a new business might write in the "main activity" box of a
registration form or a survey: a few words, sometimes a full sentence, in any case, now
and then misspelt. Some are ambiguous on purpose: a "bakery" may bake (division 10), sell
(47) or serve (56); "consultancy" or "repairs" say little; and some name a secondary
activity after the main one, which alone decides the code, as in real registers. The
titles of the divisions and sections are those of NACE Rev. 2 (Regulation (EC)
No 1893/2006); the descriptions are invented.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

SEED = 1893
N_DESCRIPTIONS = 3000

SECTIONS = {
    "A": "Agriculture, forestry and fishing",
    "C": "Manufacturing",
    "F": "Construction",
    "G": "Wholesale and retail trade; repair of motor vehicles and motorcycles",
    "H": "Transportation and storage",
    "I": "Accommodation and food service activities",
    "J": "Information and communication",
    "K": "Financial and insurance activities",
    "L": "Real estate activities",
    "M": "Professional, scientific and technical activities",
    "N": "Administrative and support service activities",
    "P": "Education",
    "Q": "Human health and social work activities",
    "R": "Arts, entertainment and recreation",
    "S": "Other service activities",
}

# division: (section, title, relative frequency, activity phrases)
DIVISIONS = {
    "01": (
        "A",
        "Crop and animal production, hunting and related service activities",
        3,
        [
            "dairy farm",
            "growing vegetables and potatoes",
            "organic fruit farm",
            "pig farming",
            "cereal and oilseed farming",
            "poultry and egg production",
            "vineyard, growing grapes",
        ],
    ),
    "03": (
        "A",
        "Fishing and aquaculture",
        1,
        ["fishing vessel, sea fishing", "trout farm", "shellfish and oyster farming", "inland fishing"],
    ),
    "10": (
        "C",
        "Manufacture of food products",
        3,
        [
            "industrial bakery producing bread",
            "cheese production",
            "meat processing plant",
            "production of jams and preserves",
            "chocolate and confectionery manufacturer",
            "bakery",
        ],
    ),
    "11": (
        "C",
        "Manufacture of beverages",
        1,
        ["craft brewery", "wine production", "distillery producing gin and whisky", "soft drinks bottling"],
    ),
    "14": (
        "C",
        "Manufacture of wearing apparel",
        1,
        ["sewing workshop making dresses", "manufacture of work clothing", "knitwear production"],
    ),
    "16": (
        "C",
        "Manufacture of wood and of products of wood and cork, except furniture; "
        "manufacture of articles of straw and plaiting materials",
        1,
        ["sawmill", "production of wooden pallets", "joinery making windows and doors", "wood pellets"],
    ),
    "25": (
        "C",
        "Manufacture of fabricated metal products, except machinery and equipment",
        2,
        [
            "metal workshop, welding and machining",
            "steel structures for buildings",
            "cnc machining of parts",
            "manufacture of metal tools",
        ],
    ),
    "31": (
        "C",
        "Manufacture of furniture",
        1,
        ["furniture maker", "kitchen cabinets production", "upholstered sofas manufacturing"],
    ),
    "41": (
        "F",
        "Construction of buildings",
        3,
        [
            "building contractor, houses",
            "construction of residential buildings",
            "general builder",
            "construction of office buildings",
        ],
    ),
    "43": (
        "F",
        "Specialised construction activities",
        4,
        [
            "plumbing and heating installation",
            "electrician",
            "painting and decorating",
            "roofing",
            "tiling and flooring",
            "installation of solar panels",
            "plastering",
        ],
    ),
    "45": (
        "G",
        "Wholesale and retail trade and repair of motor vehicles and motorcycles",
        3,
        ["car repair garage", "used car dealer", "tyre fitting and car service", "motorcycle shop and repairs"],
    ),
    "46": (
        "G",
        "Wholesale trade, except of motor vehicles and motorcycles",
        3,
        [
            "wholesale of fruit and vegetables",
            "import and wholesale of electronics",
            "wholesale of building materials",
            "distributor of medical supplies to pharmacies",
            "wholesale of clothing to shops",
        ],
    ),
    "47": (
        "G",
        "Retail trade, except of motor vehicles and motorcycles",
        6,
        [
            "grocery shop",
            "clothes shop",
            "online shop selling cosmetics",
            "pharmacy",
            "hardware store",
            "bakery",
            "florist",
            "bookshop",
            "webshop for sports equipment",
            "convenience store",
        ],
    ),
    "49": (
        "H",
        "Land transport and transport via pipelines",
        3,
        [
            "road haulage, freight transport by lorry",
            "taxi service",
            "bus company",
            "removal company",
            "transport of goods by truck",
        ],
    ),
    "52": (
        "H",
        "Warehousing and support activities for transportation",
        1,
        ["warehouse and storage", "freight forwarding", "parking garage operator", "customs brokerage"],
    ),
    "53": (
        "H",
        "Postal and courier activities",
        1,
        ["courier service", "parcel delivery", "bicycle courier for documents"],
    ),
    "55": (
        "I",
        "Accommodation",
        2,
        ["hotel", "bed and breakfast", "campsite", "holiday apartments for rent to tourists", "youth hostel"],
    ),
    "56": (
        "I",
        "Food and beverage service activities",
        5,
        ["restaurant", "cafe", "pizzeria", "bar", "catering for events", "food truck", "bakery with tea room"],
    ),
    "58": (
        "J",
        "Publishing activities",
        1,
        ["book publisher", "publishing a regional newspaper", "magazine publishing", "software publisher"],
    ),
    "62": (
        "J",
        "Computer programming, consultancy and related activities",
        4,
        [
            "software development",
            "it consultancy",
            "web development and apps",
            "custom software for businesses",
            "it support and network management",
            "programming services",
        ],
    ),
    "64": (
        "K",
        "Financial service activities, except insurance and pension funding",
        1,
        ["holding company", "savings bank", "investment fund", "credit union"],
    ),
    "66": (
        "K",
        "Activities auxiliary to financial services and insurance activities",
        1,
        ["insurance broker", "mortgage advisor", "independent financial adviser", "insurance agent"],
    ),
    "68": (
        "L",
        "Real estate activities",
        3,
        ["real estate agency", "letting of own apartments", "property management", "renting out commercial property"],
    ),
    "69": (
        "M",
        "Legal and accounting activities",
        3,
        ["accountant", "law firm", "bookkeeping and payroll services", "tax advisor", "notary"],
    ),
    "71": (
        "M",
        "Architectural and engineering activities; technical testing and analysis",
        2,
        [
            "architect",
            "engineering consultancy",
            "structural engineer",
            "land surveyor",
            "vehicle inspection and testing",
        ],
    ),
    "73": (
        "M",
        "Advertising and market research",
        1,
        ["advertising agency", "market research and opinion polls", "social media marketing agency"],
    ),
    "75": ("M", "Veterinary activities", 1, ["veterinary clinic", "vet for farm animals", "animal hospital"]),
    "79": (
        "N",
        "Travel agency, tour operator and other reservation service and related activities",
        1,
        ["travel agency", "tour operator", "organising guided tours"],
    ),
    "81": (
        "N",
        "Services to buildings and landscape activities",
        3,
        ["cleaning company", "office cleaning", "gardening and landscaping", "window cleaning", "facility services"],
    ),
    "85": (
        "P",
        "Education",
        2,
        ["driving school", "language school", "private tutoring", "music lessons", "primary school"],
    ),
    "86": (
        "Q",
        "Human health activities",
        3,
        ["general practitioner", "dentist", "physiotherapy practice", "private hospital", "medical laboratory"],
    ),
    "87": (
        "Q",
        "Residential care activities",
        1,
        ["nursing home", "care home for the elderly", "residential care for people with disabilities"],
    ),
    "93": (
        "R",
        "Sports activities and amusement and recreation activities",
        2,
        ["fitness centre", "football club", "amusement park", "gym", "climbing hall"],
    ),
    "95": (
        "S",
        "Repair of computers and personal and household goods",
        1,
        ["repair of mobile phones", "computer repair", "shoe repair", "repair of household appliances"],
    ),
    "96": (
        "S",
        "Other personal service activities",
        3,
        ["hairdresser", "beauty salon", "dry cleaning and laundry", "funeral services", "barber shop", "nail studio"],
    ),
}

OPENINGS = [
    "",
    "",
    "",
    "",
    "we run a ",
    "our company: ",
    "small ",
    "family business, ",
    "self-employed, ",
    "main activity: ",
    "independent ",
]
ENDINGS = [
    "",
    "",
    "",
    "",
    " in the city centre",
    " since 2015",
    " and related services",
    " for private customers",
    " for companies",
    ", 3 employees",
    " (franchise)",
    " in the region",
]
NEIGHBOURS = "qwertyuiopasdfghjklzxcvbnm"
# Vague answers that occur under several divisions, as in real registers.
VAGUE = {
    "trading company": ["46", "47"],
    "consultancy": ["62", "66", "69", "71"],
    "shop": ["45", "47"],
    "repairs": ["43", "45", "95"],
    "services": ["62", "81", "96"],
    "transport": ["49", "52", "53"],
    "online business": ["47", "62", "73"],
    "workshop": ["16", "25", "31", "95"],
    "care services": ["86", "87"],
    "rentals": ["55", "68"],
}


def typo(rng: np.random.Generator, text: str) -> str:
    positions = [i for i, ch in enumerate(text) if ch.isalpha()]
    if len(positions) < 4:
        return text
    i = int(rng.choice(positions))
    kind = rng.integers(0, 3)
    if kind == 0:  # a letter dropped
        return text[:i] + text[i + 1 :]
    if kind == 1 and i + 1 < len(text):  # two letters swapped
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    return text[:i] + str(rng.choice(list(NEIGHBOURS))) + text[i + 1 :]  # a wrong letter


def describe(rng: np.random.Generator, code: str) -> str:
    """An answer for division ``code``: vague now and then, sometimes naming a secondary activity too."""
    vague = [text for text, codes in VAGUE.items() if code in codes]
    draw = rng.random()
    if vague and draw < 0.25:
        activity = str(rng.choice(vague))
    else:
        activity = str(rng.choice(DIVISIONS[code][3]))
        if draw > 0.85:  # the main activity first, then a secondary one of another division
            other = str(rng.choice([c for c in DIVISIONS if c != code]))
            activity += " and " + str(rng.choice(DIVISIONS[other][3]))
    text = str(rng.choice(OPENINGS)) + activity + str(rng.choice(ENDINGS))
    if rng.random() < 0.15:
        text = typo(rng, text)
    draw = rng.random()
    if draw < 0.2:
        text = text.upper()
    elif draw < 0.6:
        text = text[0].upper() + text[1:]
    return text


def main(out: Path) -> None:
    rng = np.random.default_rng(SEED)
    codes = list(DIVISIONS)
    weights = np.array([DIVISIONS[c][2] for c in codes], dtype=float)
    drawn = rng.choice(len(codes), size=N_DESCRIPTIONS, p=weights / weights.sum())
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "descriptions.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["description_id", "description", "nace_division", "nace_section"])
        for number, k in enumerate(drawn, start=1):
            code = codes[k]
            writer.writerow([f"B{number:05d}", describe(rng, code), code, DIVISIONS[code][0]])
    with open(out / "nace-divisions.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["nace_division", "title", "nace_section", "section_title"])
        for code in codes:
            section = DIVISIONS[code][0]
            writer.writerow([code, DIVISIONS[code][1], section, SECTIONS[section]])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    main(parser.parse_args().out)
