"""Header detection and column mapping for any sheet kind.

A kind declares its columns; `find_header` finds the header row below any title rows and maps each
column by its normalised name, whatever the order. Pure functions: no workbook, no database.
"""

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain, islice

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from .reading import ReadingError, cell_text, column_letter, listing

MESSAGES = {
    "no_header": gettext_noop(
        "No header row found in the first %(count)s rows: none of them holds the required columns %(labels)s."
    ),
    "missing_columns": gettext_noop("The header (row %(row)s) lacks the required columns: %(labels)s."),
    "duplicate_columns": gettext_noop(
        "The header (row %(row)s) has the column “%(label)s” more than once: columns %(columns)s. Keep one."
    ),
}


class HeaderError(ReadingError):
    pass


def _error(code: str, **params: object) -> HeaderError:
    return HeaderError(code, _(MESSAGES[code]) % params)


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # the header in the template
    synonyms: tuple[str, ...] = ()
    required: bool = False


@dataclass(frozen=True)
class HeaderMapping:
    row: int  # the Excel row number of the header
    columns: dict[str, int]  # key -> 0-based column index
    headers: dict[str, str]  # key -> the header as written in the file
    unknown: tuple[tuple[str, str], ...]  # (column letter, header) of columns no kind declares: ignored

    def pick(self, cells: Sequence[object]) -> dict[str, object]:
        """The row's cells by key; a cell past the end of a short row is ''."""
        return {key: cells[index] if index < len(cells) else "" for key, index in self.columns.items()}


# Full-width ASCII (U+FF01-U+FF5E) and the ideographic space fold to their ASCII forms.
_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_SPACES = re.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff]+")
_NOTES = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】|〔[^〔〕]*〕")
_LEFTOVERS = re.compile(r"[()\[\]【】〔〕*:]")


def normalize_header(text: object) -> str:
    """'身份证号码（必填）＊：' -> '身份证号码': the name without spaces, width, marks and notes."""
    folded = cell_text(text).translate(_WIDTH).casefold().translate(_WIDTH)
    name = _SPACES.sub("", folded)
    while (stripped := _NOTES.sub("", name)) != name:
        name = stripped  # nested notes come off from the inside out
    return _LEFTOVERS.sub("", name)


def _lookup(columns: Sequence[Column]) -> dict[str, str]:
    names: dict[str, str] = {}
    for column in columns:
        for name in (column.label, *column.synonyms):
            normalized = normalize_header(name)
            if names.setdefault(normalized, column.key) != column.key:
                raise ValueError(f"{name!r} names both {names[normalized]!r} and {column.key!r}")
    return names


def _matches(cells: Sequence[object], names: dict[str, str]) -> dict[int, str]:
    """0-based column index -> key, for each cell whose header names a declared column."""
    return {index: key for index, cell in enumerate(cells) if (key := names.get(normalize_header(cell)))}


def find_header(
    rows: Iterable[tuple[int, Sequence[object]]], columns: Sequence[Column], *, look_at: int = 20
) -> tuple[int, HeaderMapping]:
    """The header is the first of the first `look_at` rows naming the most required columns.

    Raises HeaderError when no row names any, when a required column is missing from the header, or when
    two columns of the header name the same key (which one holds the data would be a guess).
    """
    names = _lookup(columns)
    required = {column.key for column in columns if column.required} or {column.key for column in columns}
    best: tuple[int, Sequence[object], dict[int, str]] | None = None
    best_score = 0
    for number, cells in islice(rows, look_at):
        found = _matches(cells, names)
        score = len(required & set(found.values()))
        if score > best_score:
            best, best_score = (number, cells, found), score
    if best is None:
        labels = [f"“{column.label}”" for column in columns if column.key in required]
        raise _error("no_header", count=look_at, labels=listing(labels))
    mapping = _mapping(*best, columns)
    return mapping.row, mapping


def _mapping(
    number: int, cells: Sequence[object], found: dict[int, str], columns: Sequence[Column]
) -> HeaderMapping:
    by_key: dict[str, list[int]] = {}
    for index, key in found.items():
        by_key.setdefault(key, []).append(index)
    for indexes in by_key.values():
        if len(indexes) > 1:
            letters = listing([column_letter(index + 1) for index in indexes])
            raise _error("duplicate_columns", row=number, label=cell_text(cells[indexes[0]]), columns=letters)
    missing = [f"“{c.label}”" for c in columns if c.required and c.key not in by_key]
    if missing:
        raise _error("missing_columns", row=number, labels=listing(missing))
    unknown = tuple(
        (column_letter(index + 1), cell_text(cell))
        for index, cell in enumerate(cells)
        if index not in found and cell_text(cell)
    )
    return HeaderMapping(
        row=number,
        columns={key: indexes[0] for key, indexes in by_key.items()},
        headers={key: cell_text(cells[indexes[0]]) for key, indexes in by_key.items()},
        unknown=unknown,
    )


def split_header(
    rows: Iterable[tuple[int, Sequence[object]]], columns: Sequence[Column], *, look_at: int = 20
) -> tuple[HeaderMapping, Iterator[tuple[int, Sequence[object]]]]:
    """For a stream of rows: the header mapping, and the rows below the header, still streaming."""
    stream = iter(rows)
    head = list(islice(stream, look_at))
    row, mapping = find_header(head, columns, look_at=look_at)
    below = (item for item in head if item[0] > row)
    return mapping, chain(below, stream)
