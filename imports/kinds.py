"""Sheet kinds plug into the import pipeline here: a kind says which columns it reads, what a row means,
and how staged rows are written. The pipeline (reading, progress, staging, the pages) knows none of it."""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class StagedRow:
    row_number: int
    outcome: str  # an imports.models.RowOutcome value
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # column key -> message
    changes: dict[str, list] = field(default_factory=dict)
    target_id: int | None = None
    note: str = ""


class SheetKind(Protocol):
    key: str
    label: str  # what the sheet is called, in the file names of its template
    description: str  # what the sheet holds, for the upload page
    columns: tuple  # objects with key, label, synonyms, required
    whole_numbers_permission: str  # who may see the uploaded rows as they are
    upload_permission: str  # who may upload it (besides imports.add_importjob)
    outcomes: tuple  # (outcome, label, style) of the counts the preview shows, in order
    save_note: str  # what saving does, under the save button

    def check_rows(self, *, job, rows: Iterable[tuple[int, dict[str, Any]]]) -> Iterator[StagedRow]:
        """Validate and classify every row (new, update, unchanged, rejected, transfer)."""

    def commit(self, *, job, actor) -> dict[str, int]:
        """Write the job's staged rows in the caller's transaction; return what was written."""

    def commit_message(self, written: dict[str, int]) -> str:
        """What the job says once `commit` has written."""

    def refused_message(self) -> str:
        """What the job says when the records changed under the commit and nothing was written."""

    def template(self, county_code: str) -> bytes:
        """The blank workbook a county hands out to be filled in."""

    def error_workbook(self, **rows_and_errors) -> bytes:
        """The rejected rows as uploaded, each bad cell marked with its reason."""


KINDS: dict[str, SheetKind] = {}


def register(kind: SheetKind) -> SheetKind:
    KINDS[kind.key] = kind
    return kind


def get_kind(key: str) -> SheetKind:
    return KINDS[key]
