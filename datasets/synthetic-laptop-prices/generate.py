"""Generate web-scraped laptop prices: two online shops, thirteen months, models coming and going.

Run ``python generate.py`` to rewrite the CSV files next to this script, or
``python generate.py --out DIR`` to write them elsewhere. The output depends only on
SEED and numpy's random generator; the tests check it against datapackage.json.

Each row is what a scraper keeps of one product page in one month: the shop, the page
address, the product title as the shop writes it (brand, model, screen, processor, memory
and storage, in each shop's own style) and the mean of the month's scraped prices. No
quantities: scraped data have none. Most models live four to ten months, a few stay; a new model is
launched at a premium that fades, and a model is cleared at a discount before it goes.
The price of a laptop of constant quality falls by about 1 % a month; ``truth.csv`` gives
that index, known only because the data are synthetic. Brands and shops are invented.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

SEED = 2024
MONTHS = [f"2024-{m:02d}" for m in range(1, 13)] + ["2025-01"]
MONTHLY_CHANGE = -0.01  # of the log price of constant quality
BRANDS = {"Aurex": 0.10, "Belmont": 0.0, "Corvo": -0.08, "Dyna": 0.22, "Elko": -0.15}
LINES = ["Air", "Flow", "Pro", "Edge", "Nova", "Terra"]
SCREENS = {13.3: 0.02, 14.0: 0.0, 15.6: 0.03, 16.0: 0.08}
PROCESSORS = {"P3": -0.25, "P5": 0.0, "P7": 0.28}
RAM = (8, 16, 32)
STORAGE = (256, 512, 1024)
NEW_PER_MONTH = 6


def title(shop: str, product: dict) -> str:
    storage = product["storage"]
    if shop == "shop-a":
        disk = f"{storage // 1024}TB" if storage >= 1024 else f"{storage}GB"
        return (
            f'{product["brand"]} {product["line"]} {product["screen"]:g}" laptop, '
            f"{product['processor']} processor, {product['ram']}GB RAM, {disk} SSD"
        )
    disk = f"{storage // 1024} TB" if storage >= 1024 else f"{storage} GB"
    return (
        f"{product['brand'].upper()} {product['line']} {product['ram']} GB / {disk} SSD - "
        f"{product['processor']} - {product['screen']:.1f} inch"
    )


def new_product(rng: np.random.Generator, number: int, launched: int) -> dict:
    brand = str(rng.choice(list(BRANDS)))
    product = {
        "number": number,
        "brand": brand,
        "line": str(rng.choice(LINES)),
        "screen": float(rng.choice(list(SCREENS))),
        "processor": str(rng.choice(list(PROCESSORS), p=[0.3, 0.45, 0.25])),
        "ram": int(rng.choice(RAM, p=[0.35, 0.45, 0.2])),
        "storage": int(rng.choice(STORAGE, p=[0.3, 0.45, 0.25])),
        "launched": launched,
        "life": int(rng.integers(4, 11)) if rng.random() < 0.85 else 40,  # a few bestsellers stay
        "shops": ["shop-a", "shop-b"][: int(rng.integers(1, 3))] if rng.random() < 0.8 else ["shop-b"],
        "own": float(rng.normal(0, 0.06)),
    }
    product["quality"] = (
        BRANDS[brand]
        + SCREENS[product["screen"]]
        + PROCESSORS[product["processor"]]
        + 0.30 * np.log2(product["ram"] / 8)
        + 0.16 * np.log2(product["storage"] / 256)
    )
    return product


def main(out: Path) -> None:
    rng = np.random.default_rng(SEED)
    products: list[dict] = []
    # Models already on sale in the first month, at various ages.
    for _ in range(40):
        product = new_product(rng, len(products) + 1, launched=-int(rng.integers(0, 6)))
        products.append(product)
    for t in range(1, len(MONTHS)):
        for _ in range(NEW_PER_MONTH):
            products.append(new_product(rng, len(products) + 1, launched=t))
    rows = []
    for t, month in enumerate(MONTHS):
        level = np.log(650.0) + MONTHLY_CHANGE * t
        for product in products:
            age = t - product["launched"]
            if not 0 <= age < product["life"]:
                continue
            left = product["life"] - age
            launch_premium = 0.08 * np.exp(-age / 2.0)
            clearance = -0.12 if left == 1 else (-0.05 if left == 2 else 0.0)
            slug = f"{product['brand']}-{product['line']}-{product['number']:04d}".lower()
            for shop in product["shops"]:
                markup = 0.0 if shop == "shop-a" else 0.03
                log_price = (
                    level + product["quality"] + product["own"] + launch_premium + clearance + markup
                    + rng.normal(0, 0.015)
                )  # fmt: skip
                price = round(float(np.exp(log_price)) / 5) * 5 - 0.01
                rows.append([month, shop, f"https://{shop}.example/laptops/{slug}", title(shop, product), price])
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "prices.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["month", "shop", "url", "title", "price"])
        writer.writerows(rows)
    with open(out / "truth.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["month", "constant_quality_index"])
        for t, month in enumerate(MONTHS):
            writer.writerow([month, round(100 * float(np.exp(MONTHLY_CHANGE * t)), 2)])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    main(parser.parse_args().out)
