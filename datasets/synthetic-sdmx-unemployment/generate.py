"""Generate a small SDMX data set: monthly unemployment by region, sex and age, with its structure.

Run ``python generate.py`` to rewrite the files next to this script, or
``python generate.py --out DIR`` to write them elsewhere. The output depends only on
SEED and numpy's random generator; the tests check it against datapackage.json.

Three files describe the same invented labour force survey results, as an SDMX web
service would return them:

- ``structure.xml``: an SDMX-ML 2.1 structure message with the dataflow, its data
  structure definition (DSD), the concepts and the code lists;
- ``data.xml``: an SDMX-ML 2.1 structure-specific data message: 60 series of 36 months
  (2022-01 to 2024-12) of unemployed persons (thousands) and unemployment rates (%),
  for the country and its four regions, by sex and for two age groups;
- ``data.csv``: the same observations in SDMX-CSV 1.0, one row per observation.

Numbers add up as in a real release: regions sum to the country, women and men to the
total, and rates are unemployed over the labour force. The last three months are
provisional; a few youth figures of the smallest region are confidential (no value).
Only the standard library and numpy are used, so the bytes do not depend on an SDMX package.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np

SEED = 17369  # ISO 17369 is SDMX
AGENCY = "STATCOMMONS"
VERSION = "1.0"
DSD = "DSD_LFS_UNEMP"
FLOW = "LFS_UNEMP"
PREPARED = "2025-01-31T10:00:00"
MONTHS = [f"{y}-{m:02d}" for y in (2022, 2023, 2024) for m in range(1, 13)]
MES = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message"
STR = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/structure"
COM = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common"
SS = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/data/structurespecific"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
URN = f"urn:sdmx:org.sdmx.infomodel.datastructure.DataStructure={AGENCY}:{DSD}({VERSION})"

CODELISTS = {  # id: (name, {code: name})
    "CL_FREQ": ("Frequency", {"M": "Monthly"}),
    "CL_AREA": (
        "Reference area",
        {"NAT": "Whole country", "NORTH": "Northland", "SOUTH": "Southland", "EAST": "Eastmarch", "WEST": "Westshore"},
    ),
    "CL_SEX": ("Sex", {"T": "Total", "F": "Females", "M": "Males"}),
    "CL_AGE": ("Age class", {"Y15-74": "From 15 to 74 years", "Y15-24": "From 15 to 24 years"}),
    "CL_UNIT": ("Unit of measure", {"PC_ACT": "Percentage of the labour force", "THS_PER": "Thousand persons"}),
    "CL_OBS_STATUS": (
        "Observation status",
        {"A": "Normal value", "P": "Provisional value", "C": "Confidential, not for publication"},
    ),
}
DIMENSIONS = [  # concept id, name, code list
    ("FREQ", "Frequency", "CL_FREQ"),
    ("REF_AREA", "Reference area", "CL_AREA"),
    ("SEX", "Sex", "CL_SEX"),
    ("AGE", "Age class", "CL_AGE"),
    ("UNIT_MEASURE", "Unit of measure", "CL_UNIT"),
]
CONCEPTS = [(c, n) for c, n, _ in DIMENSIONS] + [
    ("TIME_PERIOD", "Time period"),
    ("OBS_VALUE", "Observation value"),
    ("OBS_STATUS", "Observation status"),
]
REGIONS = {"NORTH": 900.0, "SOUTH": 1400.0, "EAST": 650.0, "WEST": 250.0}  # labour force 15-74, thousands
REGION_LEVEL = {"NORTH": 0.0, "SOUTH": -0.8, "EAST": 1.5, "WEST": 0.6}  # percentage points


def unemployed(rng: np.random.Generator) -> dict:
    """Unemployed and labour force (thousands) for each region, sex, age class and month (F and M only)."""
    t = np.arange(len(MONTHS))
    trend = 6.4 - 0.9 * np.sin(t / 11.0) + 0.025 * t
    season = 0.35 * np.cos(2 * np.pi * (t - 1) / 12)
    cells = {}
    for region, force in REGIONS.items():
        for sex, share, gap in (("F", 0.47, 0.3), ("M", 0.53, 0.0)):
            for age, part, factor in (("Y15-24", 0.11, 2.3), ("Y25-74", 0.89, 0.85)):
                labour = force * share * part * (1 + 0.002 * t + rng.normal(0, 0.004, t.size))
                rate = (trend + season + REGION_LEVEL[region] + gap) * factor + rng.normal(0, 0.25 * factor, t.size)
                cells[region, sex, age] = (labour * np.clip(rate, 0.5, None) / 100, labour)
    return cells


def series(rng: np.random.Generator) -> list[tuple[dict, list[tuple[str, float | None, str]]]]:
    cells = unemployed(rng)
    out = []
    for area in CODELISTS["CL_AREA"][1]:
        regions = list(REGIONS) if area == "NAT" else [area]
        for sex in ("T", "F", "M"):
            sexes = ["F", "M"] if sex == "T" else [sex]
            for age in ("Y15-74", "Y15-24"):
                ages = ["Y15-24", "Y25-74"] if age == "Y15-74" else ["Y15-24"]
                keys = [(r, s, a) for r in regions for s in sexes for a in ages]
                number = sum(cells[k][0] for k in keys)
                labour = sum(cells[k][1] for k in keys)
                for unit, values in (("THS_PER", number), ("PC_ACT", 100 * number / labour)):
                    obs = []
                    for i, month in enumerate(MONTHS):
                        status = "P" if i >= len(MONTHS) - 3 else "A"
                        value: float | None = round(float(values[i]), 1)
                        if area == "WEST" and age == "Y15-24" and sex != "T" and rng.random() < 0.15:
                            value, status = None, "C"
                        obs.append((month, value, status))
                    key = {"FREQ": "M", "REF_AREA": area, "SEX": sex, "AGE": age, "UNIT_MEASURE": unit}
                    out.append((key, obs))
    return out


def ref(id_: str, package: str, cls: str, parent: str | None = None) -> str:
    if parent:
        return (
            f'<Ref id="{id_}" maintainableParentID="{parent}" maintainableParentVersion="{VERSION}" '
            f'agencyID="{AGENCY}" package="{package}" class="{cls}"/>'
        )
    return f'<Ref id="{id_}" version="{VERSION}" agencyID="{AGENCY}" package="{package}" class="{cls}"/>'


def name(text: str) -> str:
    return f'<com:Name xml:lang="en">{text}</com:Name>'


def header(prefix: str, message_id: str) -> list[str]:
    return [
        f"  <{prefix}:Header>",
        f"    <{prefix}:ID>{message_id}</{prefix}:ID>",
        f"    <{prefix}:Test>false</{prefix}:Test>",
        f"    <{prefix}:Prepared>{PREPARED}</{prefix}:Prepared>",
        f'    <{prefix}:Sender id="{AGENCY}"/>',
    ]


def structure_xml() -> str:
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<mes:Structure xmlns:mes="{MES}" xmlns:str="{STR}" xmlns:com="{COM}">',
    ]
    lines += header("mes", "STRUCTURE_LFS_UNEMP") + ["  </mes:Header>", "  <mes:Structures>"]
    lines += ["    <str:Dataflows>", f'      <str:Dataflow id="{FLOW}" agencyID="{AGENCY}" version="{VERSION}">']
    lines += [f"        {name('Unemployment by region, sex and age, monthly')}"]
    lines += [f"        <str:Structure>{ref(DSD, 'datastructure', 'DataStructure')}</str:Structure>"]
    lines += ["      </str:Dataflow>", "    </str:Dataflows>", "    <str:Codelists>"]
    for cl, (cl_name, codes) in CODELISTS.items():
        lines += [f'      <str:Codelist id="{cl}" agencyID="{AGENCY}" version="{VERSION}">', f"        {name(cl_name)}"]
        for code, code_name in codes.items():
            lines += [f'        <str:Code id="{code}">{name(code_name)}</str:Code>']
        lines += ["      </str:Codelist>"]
    lines += ["    </str:Codelists>", "    <str:Concepts>"]
    lines += [
        f'      <str:ConceptScheme id="CS_LFS" agencyID="{AGENCY}" version="{VERSION}">',
        f"        {name('Labour force survey concepts')}",
    ]
    for concept, concept_name in CONCEPTS:
        lines += [f'        <str:Concept id="{concept}">{name(concept_name)}</str:Concept>']
    lines += ["      </str:ConceptScheme>", "    </str:Concepts>", "    <str:DataStructures>"]
    lines += [
        f'      <str:DataStructure id="{DSD}" agencyID="{AGENCY}" version="{VERSION}">',
        f"        {name('Unemployment, monthly')}",
    ]
    lines += ["        <str:DataStructureComponents>", '          <str:DimensionList id="DimensionDescriptor">']

    def identity(concept: str) -> str:
        return f"<str:ConceptIdentity>{ref(concept, 'conceptscheme', 'Concept', 'CS_LFS')}</str:ConceptIdentity>"

    def enumeration(codelist: str) -> str:
        inner = ref(codelist, "codelist", "Codelist")
        return f"<str:LocalRepresentation><str:Enumeration>{inner}</str:Enumeration></str:LocalRepresentation>"

    for position, (concept, _, codelist) in enumerate(DIMENSIONS, start=1):
        lines += [f'            <str:Dimension id="{concept}" position="{position}">']
        lines += [
            f"              {identity(concept)}",
            f"              {enumeration(codelist)}",
            "            </str:Dimension>",
        ]
    lines += [f'            <str:TimeDimension id="TIME_PERIOD" position="{len(DIMENSIONS) + 1}">']
    lines += [f"              {identity('TIME_PERIOD')}"]
    lines += [
        "              <str:LocalRepresentation>"
        '<str:TextFormat textType="ObservationalTimePeriod"/></str:LocalRepresentation>'
    ]
    lines += ["            </str:TimeDimension>", "          </str:DimensionList>"]
    lines += [
        '          <str:AttributeList id="AttributeDescriptor">',
        '            <str:Attribute id="OBS_STATUS" assignmentStatus="Mandatory">',
    ]
    lines += [f"              {identity('OBS_STATUS')}", f"              {enumeration('CL_OBS_STATUS')}"]
    lines += [
        "              <str:AttributeRelationship>"
        '<str:PrimaryMeasure><Ref id="OBS_VALUE"/></str:PrimaryMeasure></str:AttributeRelationship>'
    ]
    lines += ["            </str:Attribute>", "          </str:AttributeList>"]
    lines += ['          <str:MeasureList id="MeasureDescriptor">', '            <str:PrimaryMeasure id="OBS_VALUE">']
    lines += [
        f"              {identity('OBS_VALUE')}",
        "            </str:PrimaryMeasure>",
        "          </str:MeasureList>",
    ]
    lines += ["        </str:DataStructureComponents>", "      </str:DataStructure>", "    </str:DataStructures>"]
    lines += ["  </mes:Structures>", "</mes:Structure>", ""]
    return "\n".join(lines)


def data_xml(all_series) -> str:
    structure_id = f"{AGENCY}_{DSD}_{VERSION.replace('.', '_')}"
    namespace = f"{URN}:ObsLevelDim:TIME_PERIOD"
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<message:StructureSpecificData xmlns:message="{MES}" xmlns:common="{COM}" xmlns:ss="{SS}" '
        f'xmlns:xsi="{XSI}" xmlns:ns1="{namespace}">',
    ]
    lines += header("message", "DATA_LFS_UNEMP")
    lines += [
        f'    <message:Structure structureID="{structure_id}" namespace="{namespace}" '
        'dimensionAtObservation="TIME_PERIOD">'
    ]
    lines += [f'      <common:Structure><Ref agencyID="{AGENCY}" id="{DSD}" version="{VERSION}"/></common:Structure>']
    lines += ["    </message:Structure>", "  </message:Header>"]
    lines += [
        f'  <message:DataSet ss:dataScope="DataStructure" xsi:type="ns1:DataSetType" ss:structureRef="{structure_id}">'
    ]
    for key, obs in all_series:
        attributes = " ".join(f"{k}={quoteattr(v)}" for k, v in key.items())
        lines.append(f"    <Series {attributes}>")
        for month, value, status in obs:
            shown = "NaN" if value is None else f"{value:.1f}"
            lines.append(f'      <Obs TIME_PERIOD="{month}" OBS_VALUE="{shown}" OBS_STATUS="{status}"/>')
        lines.append("    </Series>")
    lines += ["  </message:DataSet>", "</message:StructureSpecificData>", ""]
    return "\n".join(lines)


def main(out: Path) -> None:
    rng = np.random.default_rng(SEED)
    all_series = series(rng)
    out.mkdir(parents=True, exist_ok=True)
    (out / "structure.xml").write_text(structure_xml(), encoding="utf-8")
    (out / "data.xml").write_text(data_xml(all_series), encoding="utf-8")
    with open(out / "data.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["DATAFLOW", *(d for d, _, _ in DIMENSIONS), "TIME_PERIOD", "OBS_VALUE", "OBS_STATUS"])
        for key, obs in all_series:
            for month, value, status in obs:
                shown = "" if value is None else f"{value:.1f}"
                writer.writerow([f"{AGENCY}:{FLOW}({VERSION})", *key.values(), month, shown, status])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    main(parser.parse_args().out)
