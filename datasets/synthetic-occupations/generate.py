"""Generate synthetic free-text occupation descriptions coded to ISCO-08 unit groups.

Run ``python generate.py`` to rewrite the CSV files next to this script, or
``python generate.py --out DIR`` to write them elsewhere. The output depends only on
SEED and numpy's random generator; the tests check it against datapackage.json.

Each description is what a respondent might write in answer to "What is your main
job?": a job title or a few words about the tasks, sometimes with a workplace, in any
case, now and then misspelt. Some answers are vague on purpose ("nurse", "driver",
"manager") and could belong to more than one unit group, as in real surveys. The code
titles come from ISCO-08 (International Labour Organization); the descriptions are
invented.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

SEED = 2008
N_DESCRIPTIONS = 4000

MAJOR_GROUPS = {
    "1": "Managers",
    "2": "Professionals",
    "3": "Technicians and associate professionals",
    "4": "Clerical support workers",
    "5": "Service and sales workers",
    "6": "Skilled agricultural, forestry and fishery workers",
    "7": "Craft and related trades workers",
    "8": "Plant and machine operators, and assemblers",
    "9": "Elementary occupations",
}

# unit group: (ISCO-08 title, relative frequency, phrases a respondent might write)
GROUPS = {
    "1120": (
        "Managing directors and chief executives",
        1,
        [
            "managing director",
            "chief executive",
            "ceo of a company",
            "general manager of the firm",
            "~run the company",
            "director of a small business",
            "manager",
        ],
    ),
    "1211": (
        "Finance managers",
        1,
        [
            "finance manager",
            "head of finance",
            "financial controller",
            "chief financial officer",
            "~manage the finance department",
            "manager",
        ],
    ),
    "1411": (
        "Hotel managers",
        1,
        ["hotel manager", "~manage a hotel", "~run a guest house", "hotel director", "manager"],
    ),
    "1420": (
        "Retail and wholesale trade managers",
        2,
        [
            "shop manager",
            "store manager",
            "supermarket manager",
            "~manage a clothes shop",
            "branch manager retail",
            "manager",
        ],
    ),
    "2142": (
        "Civil engineers",
        1,
        [
            "civil engineer",
            "structural engineer",
            "~design bridges and roads",
            "site engineer construction",
            "engineer",
        ],
    ),
    "2211": (
        "Generalist medical practitioners",
        2,
        ["doctor", "general practitioner", "gp", "family doctor", "medical doctor in a health centre", "physician"],
    ),
    "2221": (
        "Nursing professionals",
        3,
        [
            "registered nurse",
            "nurse",
            "staff nurse on a ward",
            "nurse practitioner",
            "ward sister",
            "intensive care nurse",
        ],
    ),
    "2330": (
        "Secondary education teachers",
        3,
        [
            "secondary school teacher",
            "~teach maths at high school",
            "teacher",
            "history teacher secondary",
            "~teach english to teenagers",
            "high school chemistry teacher",
        ],
    ),
    "2341": (
        "Primary school teachers",
        3,
        [
            "primary school teacher",
            "teacher",
            "~teach young children at primary school",
            "class teacher year 3",
            "elementary school teacher",
        ],
    ),
    "2411": (
        "Accountants",
        2,
        [
            "chartered accountant",
            "accountant",
            "auditor",
            "tax accountant",
            "~prepare annual accounts for clients",
            "~accounts",
        ],
    ),
    "2512": (
        "Software developers",
        3,
        [
            "software developer",
            "programmer",
            "software engineer",
            "java developer",
            "~write code for apps",
            "web developer",
            "developer",
        ],
    ),
    "2611": ("Lawyers", 1, ["lawyer", "solicitor", "barrister", "attorney", "legal advisor in a law firm"]),
    "3115": (
        "Mechanical engineering technicians",
        1,
        ["mechanical technician", "maintenance technician machines", "engineering technician", "technician"],
    ),
    "3221": (
        "Nursing associate professionals",
        2,
        ["nurse", "assistant nurse", "enrolled nurse", "practical nurse", "nursing assistant in hospital"],
    ),
    "3313": (
        "Accounting associate professionals",
        1,
        ["accounting technician", "assistant accountant", "~accounts", "payroll officer"],
    ),
    "3512": (
        "Information and communications technology user support technicians",
        2,
        ["it support", "help desk technician", "computer support", "~it technician fixing laptops", "technician"],
    ),
    "4110": (
        "General office clerks",
        4,
        [
            "office clerk",
            "clerk",
            "office worker",
            "administrative assistant",
            "~admin",
            "~filing and office work",
            "office job",
        ],
    ),
    "4120": ("Secretaries (general)", 2, ["secretary", "personal assistant", "school secretary", "~typing and admin"]),
    "4222": (
        "Contact centre information clerks",
        2,
        [
            "call centre agent",
            "~call center",
            "~customer service on the phone",
            "helpline adviser",
            "~answer calls from customers",
        ],
    ),
    "4311": (
        "Accounting and bookkeeping clerks",
        2,
        ["bookkeeper", "accounts clerk", "~bookkeeping", "~accounts", "~invoices and payments"],
    ),
    "5120": ("Cooks", 3, ["cook", "chef", "cook in a restaurant", "line cook", "~cooking in a canteen", "~kitchen"]),
    "5131": ("Waiters", 3, ["waiter", "waitress", "~serve tables in a cafe", "restaurant server", "~bar and tables"]),
    "5141": ("Hairdressers", 1, ["hairdresser", "barber", "hair stylist", "~cut hair in a salon"]),
    "5223": (
        "Shop sales assistants",
        5,
        [
            "shop assistant",
            "sales assistant",
            "cashier",
            "~work in a supermarket",
            "~sell clothes in a shop",
            "checkout operator",
            "~retail",
        ],
    ),
    "5311": ("Child care workers", 2, ["childminder", "nursery nurse", "nanny", "~look after children in a creche"]),
    "5322": (
        "Home-based personal care workers",
        3,
        [
            "home carer",
            "care worker",
            "carer for elderly people at home",
            "home help",
            "personal assistant disabled",
            "care assistant",
        ],
    ),
    "5414": ("Security guards", 2, ["security guard", "security officer", "night watchman", "bouncer", "~security"]),
    "6111": (
        "Field crop and vegetable growers",
        1,
        ["farmer", "vegetable grower", "~grow potatoes and wheat", "arable farmer", "~farm work"],
    ),
    "6121": (
        "Livestock and dairy producers",
        1,
        ["dairy farmer", "farmer", "cattle farmer", "~raise pigs", "sheep farmer", "~milk cows"],
    ),
    "7112": ("Bricklayers and related workers", 1, ["bricklayer", "builder", "mason", "~lay bricks", "~construction"]),
    "7115": ("Carpenters and joiners", 2, ["carpenter", "joiner", "~woodwork", "builder", "roofing carpenter"]),
    "7126": ("Plumbers and pipe fitters", 1, ["plumber", "pipe fitter", "heating engineer", "~fix pipes and boilers"]),
    "7231": (
        "Motor vehicle mechanics and repairers",
        2,
        ["car mechanic", "motor mechanic", "mechanic", "~repair cars in a garage", "vehicle technician"],
    ),
    "7411": (
        "Building and related electricians",
        2,
        ["electrician", "electrical installer", "~wiring houses", "sparky", "~electrical work"],
    ),
    "7512": (
        "Bakers, pastry-cooks and confectionery makers",
        1,
        ["baker", "pastry chef", "~make bread", "confectioner", "~bakery"],
    ),
    "8160": (
        "Food and related products machine operators",
        1,
        ["machine operator food factory", "production operative", "factory worker", "~operate packing machines"],
    ),
    "8322": ("Car, taxi and van drivers", 2, ["taxi driver", "van driver", "delivery driver", "driver", "~uber"]),
    "8331": ("Bus and tram drivers", 2, ["bus driver", "tram driver", "coach driver", "driver", "~city buses"]),
    "8332": (
        "Heavy truck and lorry drivers",
        2,
        ["lorry driver", "truck driver", "hgv driver", "long distance trucker", "driver"],
    ),
    "9112": (
        "Cleaners and helpers in offices, hotels and other establishments",
        4,
        ["cleaner", "office cleaner", "~cleaning", "chambermaid", "~housekeeping in a hotel", "janitor"],
    ),
    "9211": ("Crop farm labourers", 1, ["farm labourer", "~farm work", "fruit picker", "~seasonal harvest work"]),
    "9321": ("Hand packers", 1, ["packer", "~packing boxes", "~warehouse packing", "~pack orders by hand"]),
    "9333": (
        "Freight handlers",
        2,
        ["warehouse operative", "loader", "~forklift", "baggage handler", "~load trucks in a warehouse", "~warehouse"],
    ),
    "9412": ("Kitchen helpers", 2, ["kitchen porter", "dishwasher", "kitchen assistant", "~kitchen", "~wash dishes"]),
}
# Phrases starting with "~" describe tasks or a field rather than name a job: they take no
# "senior" or "i am a" around them.
PREFIXES = ["", "", "", "", "", "senior ", "assistant ", "trainee ", "part time ", "self employed ", "head "]
SUFFIXES = [
    "",
    "",
    "",
    "",
    "",
    " in the city",
    " for the council",
    " in a small firm",
    " for a big company",
    " since 2019",
    " - full time",
]
TITLE_TEMPLATES = ["{}", "{}", "{}", "i am a {}", "work as a {}", "{}"]
TASK_TEMPLATES = ["{}", "{}", "i {}", "{}"]
KEYBOARD = "qwertyuiopasdfghjklzxcvbnm"
VERBS = {
    "run",
    "manage",
    "design",
    "teach",
    "prepare",
    "write",
    "answer",
    "serve",
    "work",
    "sell",
    "cut",
    "look",
    "grow",
    "raise",
    "milk",
    "lay",
    "fix",
    "repair",
    "make",
    "operate",
    "pack",
    "load",
    "wash",
}


def typo(rng: np.random.Generator, text: str) -> str:
    if len(text) < 4:
        return text
    i = int(rng.integers(1, len(text) - 1))
    kind = int(rng.integers(3))
    if kind == 0:
        return text[:i] + KEYBOARD[int(rng.integers(len(KEYBOARD)))] + text[i + 1 :]
    if kind == 1:
        return text[:i] + text[i + 1 :]
    return text[: i - 1] + text[i] + text[i - 1] + text[i + 1 :]


def describe(rng: np.random.Generator, phrases: list[str]) -> str:
    phrase = phrases[int(rng.integers(len(phrases)))]
    suffix = SUFFIXES[int(rng.integers(len(SUFFIXES)))]
    if phrase.startswith("~"):
        template = TASK_TEMPLATES[int(rng.integers(len(TASK_TEMPLATES)))]
        verb = phrase.split()[0][1:] in VERBS
        text = (template if verb else "{}").format(phrase[1:] + suffix)
    else:
        prefix = PREFIXES[int(rng.integers(len(PREFIXES)))]
        text = TITLE_TEMPLATES[int(rng.integers(len(TITLE_TEMPLATES)))].format(prefix + phrase + suffix)
        text = text.replace(" a a", " an a").replace(" a e", " an e").replace(" a i", " an i").replace(" a o", " an o")
    if rng.random() < 0.12:
        text = typo(rng, text)
    draw = rng.random()
    if draw < 0.25:
        text = text.upper()
    elif draw < 0.55:
        text = text[0].upper() + text[1:]
    return text


def write_csv(path: Path, header: list[str], rows) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def main(out: Path) -> None:
    rng = np.random.default_rng(SEED)
    codes = list(GROUPS)
    weights = np.array([GROUPS[c][1] for c in codes], dtype=float)
    drawn = rng.choice(len(codes), size=N_DESCRIPTIONS, p=weights / weights.sum())
    rows = []
    for number, k in enumerate(drawn, start=1):
        code = codes[k]
        rows.append([f"D{number:05d}", describe(rng, GROUPS[code][2]), code, code[0]])
    out.mkdir(parents=True, exist_ok=True)
    write_csv(
        out / "descriptions.csv", ["description_id", "description", "isco08_unit_group", "isco08_major_group"], rows
    )
    write_csv(
        out / "isco08-groups.csv",
        ["isco08_unit_group", "title", "isco08_major_group", "major_group_title"],
        [[c, GROUPS[c][0], c[0], MAJOR_GROUPS[c[0]]] for c in codes],
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    main(parser.parse_args().out)
