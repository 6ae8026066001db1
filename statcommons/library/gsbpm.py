"""The Generic Statistical Business Process Model (GSBPM), version 5.1.

GSBPM 5.1 (UNECE, January 2019) describes the production of official statistics
in eight phases and 44 sub-processes. Library items name the parts of the model
they are about with codes: ``"5"`` for a phase, ``"5.1"`` for a sub-process.

The names are those of version 5.1, checked against the UNECE HLG-MOS Core
Ontology for Official Statistics (github.com/linked-statistics/COOS, ``coos.ttl``,
which states it uses GSBPM 5.1) and the GSBPM 5.2 document (github.com/UNECE/GSBPM-5.2),
which renamed 1.5, 2.1, 2.2, 2.6, 7.3 and 7.5 but kept the other names.
"""

from __future__ import annotations

VERSION = "5.1"

PHASES: dict[str, str] = {
    "1": "Specify Needs",
    "2": "Design",
    "3": "Build",
    "4": "Collect",
    "5": "Process",
    "6": "Analyse",
    "7": "Disseminate",
    "8": "Evaluate",
}

SUBPROCESSES: dict[str, str] = {
    "1.1": "Identify needs",
    "1.2": "Consult and confirm needs",
    "1.3": "Establish output objectives",
    "1.4": "Identify concepts",
    "1.5": "Check data availability",
    "1.6": "Prepare and submit business case",
    "2.1": "Design outputs",
    "2.2": "Design variable descriptions",
    "2.3": "Design collection",
    "2.4": "Design frame and sample",
    "2.5": "Design processing and analysis",
    "2.6": "Design production systems and workflow",
    "3.1": "Reuse or build collection instruments",
    "3.2": "Reuse or build processing and analysis components",
    "3.3": "Reuse or build dissemination components",
    "3.4": "Configure workflows",
    "3.5": "Test production systems",
    "3.6": "Test statistical business process",
    "3.7": "Finalise production systems",
    "4.1": "Create frame and select sample",
    "4.2": "Set up collection",
    "4.3": "Run collection",
    "4.4": "Finalise collection",
    "5.1": "Integrate data",
    "5.2": "Classify and code",
    "5.3": "Review and validate",
    "5.4": "Edit and impute",
    "5.5": "Derive new variables and units",
    "5.6": "Calculate weights",
    "5.7": "Calculate aggregates",
    "5.8": "Finalise data files",
    "6.1": "Prepare draft outputs",
    "6.2": "Validate outputs",
    "6.3": "Interpret and explain outputs",
    "6.4": "Apply disclosure control",
    "6.5": "Finalise outputs",
    "7.1": "Update output systems",
    "7.2": "Produce dissemination products",
    "7.3": "Manage release of dissemination products",
    "7.4": "Promote dissemination products",
    "7.5": "Manage user support",
    "8.1": "Gather evaluation inputs",
    "8.2": "Conduct evaluation",
    "8.3": "Agree an action plan",
}


def is_valid(code: object) -> bool:
    """Whether ``code`` names a phase (``"5"``) or a sub-process (``"5.1"``)."""
    return isinstance(code, str) and (code in PHASES or code in SUBPROCESSES)


def phase_of(code: str) -> str:
    """The phase a code belongs to: ``"5"`` for both ``"5"`` and ``"5.1"``."""
    if not is_valid(code):
        raise ValueError(f"{code!r} is not a GSBPM {VERSION} phase or sub-process")
    return code.split(".")[0]


def name(code: str) -> str:
    """The name of a phase or sub-process, such as ``"Integrate data"`` for ``"5.1"``."""
    if not is_valid(code):
        raise ValueError(f"{code!r} is not a GSBPM {VERSION} phase or sub-process")
    return PHASES.get(code) or SUBPROCESSES[code]


def subprocesses_of(phase: str) -> list[str]:
    """The sub-process codes of a phase, in order."""
    return [code for code in SUBPROCESSES if code.split(".")[0] == phase]
