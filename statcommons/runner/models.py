"""The runner API's models: what a request may hold (checked) and what an answer holds (documented).

Request models check what can be checked without asking anyone: a notebook path inside the
home, parameter names, limits below the runner's (given as ``limits`` in the validation
context), a cron expression's syntax. The handlers check the rest: the library item, the
caller's home, the gap between a schedule's times.
"""

from __future__ import annotations

import keyword
import re
from datetime import datetime
from pathlib import PurePosixPath
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from ..kit.validation import Body, Flag, Query, problem, whole_number
from ..platform.units import parse_size, size_text
from .scheduler import cron_problem
from .store import STATUSES

MAX_PAGE = 100
MIN_MEMORY = 64 * 1024**2
ITEM_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
PARAMETER_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"


def _library_id(item: str) -> str:
    if not re.fullmatch(ITEM_PATTERN, item) or len(item) > 80:
        raise problem(f"{item!r} is not a library item id (lowercase letters, digits and -)")
    return item


def notebook_path(path: str) -> str:
    """A notebook path relative to the home: no ``..``, not absolute, a ``.ipynb`` file."""
    if not path.strip():
        raise problem("expected the path of a notebook relative to your home, such as work/report.ipynb")
    if len(path) > 1000 or any(ord(c) < 32 for c in path) or "\\" in path:
        raise problem(f"{path[:80]!r} is not allowed: no control characters or backslashes")
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts:
        raise problem(f"{path!r} is outside your home: give a path relative to it, without ..")
    if pure.suffix != ".ipynb":
        raise problem(f"{path!r} is not a notebook: expected a .ipynb file")
    return str(pure)


def _parameter_names(parameters: dict[str, Any]) -> dict[str, Any]:
    for name in parameters:
        if not name.isidentifier() or keyword.iskeyword(name):
            raise problem(f"{name!r} is not allowed: a parameter name is a Python name", at=name)
    return parameters


def _cron(expression: str) -> str:
    message = cron_problem(expression)
    if message:
        raise problem(message)
    return " ".join(expression.split())


ItemId = Annotated[
    str,
    AfterValidator(_library_id),
    Field(description="the id of a published library notebook", json_schema_extra={"pattern": ITEM_PATTERN}),
]
NotebookPath = Annotated[
    str,
    AfterValidator(notebook_path),
    Field(description="a notebook in the caller's home, relative to it (no ..)", max_length=1000),
]
Parameters = Annotated[
    dict[str, Any],
    AfterValidator(_parameter_names),
    Field(
        description="papermill parameters: Python names and JSON values, injected after the cell tagged parameters",
        json_schema_extra={"propertyNames": {"pattern": PARAMETER_PATTERN}},
    ),
]


class Target(Body):
    """A library notebook (``item``) or a notebook of the caller's home (``path``): one of them."""

    model_config = ConfigDict(json_schema_extra={"oneOf": [{"required": ["item"]}, {"required": ["path"]}]})
    item: ItemId = None
    path: NotebookPath = None
    parameters: Parameters | None = None

    @model_validator(mode="after")
    def _one_target(self) -> Target:
        if (self.item is None) == (self.path is None):
            message = "give either item (a library notebook's id) or path (a notebook in your home), not both"
            if self.item is None:
                message = "missing: give item (a library notebook's id) or path (a notebook in your home)"
            raise problem(message, at="item")
        return self


class NewRun(Target):
    """A run to start now: give item or path."""

    time_limit: int = Field(None, ge=1, description="seconds, at most runner.time_limit")
    mem_limit: str = Field(None, description="a size from 64M to runner.mem_limit, such as 512M")

    @field_validator("time_limit")
    @classmethod
    def _below_the_limit(cls, seconds: int, info: ValidationInfo) -> int:
        ceiling = _limits(info).time_limit if _limits(info) else seconds
        if seconds > ceiling:
            raise problem(f"{seconds!r} is not allowed: seconds from 1 to {ceiling}")
        return seconds

    @field_validator("mem_limit")
    @classmethod
    def _a_size(cls, value: str, info: ValidationInfo) -> int:
        """In bytes."""
        ceiling = _limits(info).mem_limit if _limits(info) else None
        try:
            size = parse_size(value)
        except ValueError:
            size = None
        if size is None or size < MIN_MEMORY or (ceiling is not None and size > ceiling):
            most = size_text(ceiling) if ceiling is not None else "runner.mem_limit"
            raise problem(f"{value!r} is not allowed: a size from 64M to {most}, such as 512M")
        return size


def _limits(info: ValidationInfo):
    return (info.context or {}).get("limits")


class NewSchedule(Target):
    """A notebook to run on a cron schedule: give item or path."""

    cron: Annotated[str, AfterValidator(_cron)] = Field(
        description="five fields: minute hour day month weekday, in UTC"
    )


class RunFilter(Query):
    """Which runs to list."""

    user: str = Field(None, description="someone else's runs (curators and admins)")
    item: str = Field(None, description="runs of this library notebook")
    status: list[Literal[STATUSES]] = Field(default_factory=list, description="any of these statuses")
    failing: Flag = Field(
        False, description="the latest run of each library notebook, where it failed or hit its time limit"
    )
    limit: whole_number(at_least=1) = Field(50, description=f"page size, capped at {MAX_PAGE}")
    offset: whole_number(at_least=0) = 0


class FailingCell(BaseModel):
    """The cell that failed or was running when the run stopped."""

    index: int = Field(description="0 is the notebook's first cell")
    execution_count: int | None = None
    source: str
    error: str = Field(None, description="the error's name and value, when the cell failed")


class Run(BaseModel):
    """One run."""

    id: int
    user: str
    item: str | None
    path: str | None
    parameters: dict[str, Any]
    status: Literal[STATUSES]
    created: datetime | None
    started: datetime | None
    finished: datetime | None
    duration: float | None = Field(description="seconds from the container's start to its end")
    error: str | None = Field(description="why a run did not succeed")
    failing_cell: FailingCell | None
    missing_package: str | None = Field(
        description="the package the error says the image lacks (ModuleNotFoundError in Python, no package in R)"
    )
    image: str = Field(description="the image the run used: that of the profile offering the notebook's kernel")
    image_id: str | None = Field(description="the id (digest) of the image the run used")
    time_limit: int = Field(description="seconds")
    mem_limit: int = Field(description="bytes, swap included")
    retry_of: int | None = Field(description="the interrupted run this one retries")
    schedule: int | None
    notebook_url: str | None = Field(description="the executed notebook, once there is one")


class Runs(BaseModel):
    """A page of runs, newest first."""

    runs: list[Run]
    total: int
    limit: int = Field(le=MAX_PAGE)
    offset: int


class Schedule(BaseModel):
    """One schedule."""

    id: int
    user: str
    item: str | None
    path: str | None
    cron: str
    parameters: dict[str, Any]
    created: datetime | None
    next_run: datetime | None
    last_run: int | None = Field(description="the run it made last")


class Schedules(BaseModel):
    """The schedules."""

    schedules: list[Schedule]


class UserInfo(BaseModel):
    """Who is calling, and the limits of a run and of a schedule."""

    name: str
    admin: bool = Field(description="sees and cancels every run and schedule")
    image: str = Field(description="the image of notebooks naming no kernel (the default profile's)")
    kernels: dict[str, str] = Field(
        description="the kernels a notebook may name, each with the profile whose image runs it"
    )
    time_limit: int = Field(description="seconds, the most a run may ask for")
    mem_limit: str = Field(description="the most memory a run may ask for, such as 2G")
    cpu_limit: float | None
    max_active_per_user: int
    min_schedule_interval: int = Field(description="seconds: the shortest gap between a schedule's times")
    concurrency: int
    failing_statuses: list[str]
