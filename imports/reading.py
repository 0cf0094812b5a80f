"""Safe reading of uploaded rosters (.xlsx): refuse hostile or unusable files, then stream the rows.

`inspect_workbook` must pass before `iter_rows` is called. It works from the zip directory first (cheap
refusals: not an xlsx, encrypted or .xls, macros, external links, zip bombs), then decompresses only the
parts the reader will load, each capped at its declared size, and streams the worksheet XML once to
measure it. Nothing is loaded whole except three tiny parts (content types, workbook, workbook rels).

Why the worksheet is measured here rather than by the reader: python-calamine decodes the whole sheet into
a dense grid (last row x last column) before the first row comes out, so the limits have to be enforced on
the XML before calamine sees it.

Limits:
- `max_rows` bounds the last Excel row holding a value (title and header rows included), and
  `max_columns` the last column holding a value: that extent is what the reader allocates. A stray value
  far below the data is refused with its row number, so the clerk can delete it.
- A cell counts for those limits as soon as it carries a value element (`<v>` or `<is>`), even an empty
  one: calamine makes a cell of `<is><t></t></is>` and widens its grid to it. `max_cells` bounds the
  grid itself (last row x last column), so that two cells at opposite corners cannot make the reader
  allocate hundreds of MB; a sheet past it is refused with the rows (or columns) its width allows.
- The `<dimension ref=...>` a sheet declares is never trusted: it is reported (`claimed_dimension`) and
  the streaming count decides. A claimed extent over the limits is not refused on its own, because Excel
  writes stale or formatting-wide dimensions; a real oversized sheet is refused anyway as soon as the
  stream passes the limit.
- The reader must read the very parts that were checked: zip entry names that a reader could take for a
  checked part (case, backslashes, `./`, `..`), sheet targets that climb, and two worksheets of one name
  are refused, and so are cell references that are not plain `A1` references (calamine reads `AAAAAAA1`
  as column 321,272,407).

Cell values (calamine): strings, floats (every number, integers included), bools, `date`/`datetime` for
cells with a date format (a date without one is a float serial), `time`/`timedelta` for time formats.
Formula cells give the value Excel last calculated and saved; a formula saved without a value (files
written by some programs) reads as empty, and `WorkbookInfo.warnings` says which cells.
"""

import posixpath
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import BinaryIO
from xml.etree.ElementTree import Element, ParseError
from xml.parsers import expat

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as defused_fromstring
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from python_calamine import CalamineWorkbook

MB = 1024 * 1024
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# A real roster's sheet XML compresses about 10:1; ratios only matter on entries big enough to hurt.
RATIO_FLOOR = 1 * MB
SMALL_PART_LIMIT = 10 * MB
READ_CHUNK = 64 * 1024
LISTED_CELLS = 10

MAIN_CONTENT_TYPES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
}
WORKSHEET_REL = "/worksheet"

MESSAGES = {
    "not_xlsx": gettext_noop(
        "The file is not an Excel workbook (.xlsx). Open it in Excel and save it as "
        "“Excel Workbook (*.xlsx)”."
    ),
    "ole_file": gettext_noop(
        "The file is password-protected or is an old Excel 97-2003 workbook (.xls). Remove the password, "
        "or open it in Excel and save it as “Excel Workbook (*.xlsx)”."
    ),
    "macros": gettext_noop(
        "The file contains macros (a macro-enabled .xlsm workbook). Open it in Excel and save it as "
        "“Excel Workbook (*.xlsx)”, which removes the macros."
    ),
    "too_many_entries": gettext_noop(
        "The file is made of %(count)s parts, more than the %(limit)s accepted; it is not a normal roster."
    ),
    "too_large": gettext_noop(
        "The file unpacks to %(size)s MB, more than the %(limit)s MB accepted. Split the roster into "
        "smaller files."
    ),
    "compression_ratio": gettext_noop(
        "The part %(part)s is compressed %(ratio)s to 1, far more than in a normal workbook; the file was "
        "refused as a possible zip bomb."
    ),
    "size_mismatch": gettext_noop(
        "The part %(part)s unpacks to a different size than it declares; the file is damaged or crafted "
        "and was refused."
    ),
    "external_links": gettext_noop(
        "The workbook links to other workbooks (external links). In Excel, use Data > Edit Links > "
        "Break Link, save, and upload the file again."
    ),
    "xml_entities": gettext_noop(
        "The part %(part)s declares a DOCTYPE or XML entities, which Excel never writes; the file was "
        "refused."
    ),
    "malformed": gettext_noop(
        "The part %(part)s of the file is damaged or unreadable. Open the file in Excel, save it again as "
        ".xlsx, and upload it again."
    ),
    "no_worksheet": gettext_noop("The workbook has no visible worksheet."),
    "empty_sheet": gettext_noop("The worksheet “%(sheet)s” is empty."),
    "too_many_rows": gettext_noop(
        "The worksheet “%(sheet)s” has values down to row %(row)s, but at most %(limit)s rows are "
        "accepted. Split the roster, or delete stray values below the data."
    ),
    "too_many_columns": gettext_noop(
        "The worksheet “%(sheet)s” has a value in column %(column)s (cell %(cell)s), but at most "
        "%(limit)s columns are accepted. Delete the extra columns."
    ),
    "merged_header": gettext_noop(
        "The header row (row %(row)s) has merged cells %(cells)s; unmerge them and keep a single header row."
    ),
    "formula_without_value": gettext_noop(
        "%(count)s formula cells were saved without a value and are read as empty (%(cells)s). Open the "
        "file in Excel, let it calculate, save it, and upload it again."
    ),
}


class ReadingError(Exception):
    """A refusal the clerk can act on: a stable `code` and a translated `message`."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class UnsafeWorkbook(ReadingError):
    pass


@dataclass(frozen=True)
class ReadingWarning:
    code: str
    message: str


@dataclass(frozen=True)
class WorkbookInfo:
    sheet_name: str
    sheet_part: str
    rows: int  # the last Excel row holding a value
    columns: int  # the last column (1-based) holding a value
    value_rows: int  # rows holding at least one value
    claimed_dimension: str | None
    merged_cells: tuple[str, ...]
    formula_cells: int
    formulas_without_value: tuple[str, ...]  # the first few, as cell references
    unpacked_bytes: int
    warnings: tuple[ReadingWarning, ...] = ()


def refusal(code: str, **params: object) -> UnsafeWorkbook:
    message = _(MESSAGES[code])
    return UnsafeWorkbook(code, message % params if params else message)


def listing(items: list[str] | tuple[str, ...]) -> str:
    return _(", ").join(items)


# --- cell references ---------------------------------------------------------------------------------

_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]{1,7})")


def column_letter(index: int) -> str:
    """1 -> A, 27 -> AA."""
    letters = ""
    while index > 0:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def column_index(letters: str) -> int:
    index = 0
    for char in letters.upper():
        index = index * 26 + ord(char) - 64
    return index


# Any run of letters and digits: calamine takes `AAAAAAA1` or `A99999999` at face value, so the scan must too.
_CELL_REF = re.compile(r"\s*\$?([A-Za-z]+)\$?([0-9]+)\s*")
_COLUMNS: dict[str, int] = {}  # column letters -> index, as met while scanning


def parse_ref(ref: str) -> tuple[int, int] | None:
    """'B12' -> (12, 2); None when it is not a single cell reference."""
    match = _REF.fullmatch(ref.strip())
    return (int(match[2]), column_index(match[1])) if match else None


@dataclass(frozen=True)
class CellRange:
    first_row: int
    first_column: int
    last_row: int
    last_column: int

    @classmethod
    def parse(cls, ref: str) -> "CellRange | None":
        first, _sep, last = ref.partition(":")
        start, end = parse_ref(first), parse_ref(last or first)
        if start is None or end is None:
            return None
        return cls(min(start[0], end[0]), min(start[1], end[1]), max(start[0], end[0]), max(start[1], end[1]))

    def __str__(self) -> str:
        first = f"{column_letter(self.first_column)}{self.first_row}"
        return f"{first}:{column_letter(self.last_column)}{self.last_row}"


# --- the zip layer -----------------------------------------------------------------------------------


def _open_zip(path: Path) -> zipfile.ZipFile:
    with path.open("rb") as handle:
        magic = handle.read(8)
    if magic == OLE_MAGIC:
        raise refusal("ole_file")
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise refusal("not_xlsx") from None


def _normal_name(name: str) -> str:
    """The name a lenient reader looks an entry up by: calamine's zip reader folds case and backslashes."""
    return posixpath.normpath("/" + name.replace("\\", "/")).lstrip("/").lower()


def _check_directory(
    entries: list[zipfile.ZipInfo], *, max_entries: int, max_uncompressed_bytes: int, max_ratio: int
) -> None:
    """Everything that can be refused from the central directory, before anything is decompressed."""
    names = [entry.filename for entry in entries]
    if len(entries) > max_entries:
        raise refusal("too_many_entries", count=len(entries), limit=max_entries)
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise refusal("not_xlsx")
    lowered = [_normal_name(name) for name in names]
    seen: set[str] = set()
    for name, normal in zip(names, lowered, strict=True):
        # Two parts of one name (as a reader may look it up): which one it takes is up to the reader, so
        # nothing can be checked. A name that is not already plain is what such a pair is made of.
        if normal in seen or name.lower().removesuffix("/") != normal:
            raise refusal("malformed", part=name)
        seen.add(normal)
    if any(n.endswith("vbaproject.bin") or n.startswith("xl/macrosheets/") for n in lowered):
        raise refusal("macros")
    if any(n.startswith("xl/externallinks/") for n in lowered):
        raise refusal("external_links")
    total = sum(entry.file_size for entry in entries)
    if total > max_uncompressed_bytes:
        raise refusal("too_large", size=_megabytes(total), limit=_megabytes(max_uncompressed_bytes))
    for entry in entries:
        if entry.file_size > RATIO_FLOOR and entry.file_size > max_ratio * max(entry.compress_size, 1):
            ratio = entry.file_size // max(entry.compress_size, 1)
            raise refusal("compression_ratio", part=entry.filename, ratio=ratio)


def _megabytes(size: int) -> str:
    return f"{size / MB:.1f}".removesuffix(".0")


def _entry_chunks(handle: BinaryIO, entry: zipfile.ZipInfo) -> Iterator[bytes]:
    """The entry's bytes, decompressed here rather than by zipfile so that the output is capped at the
    declared size: a part that unpacks to more (or less) than it declares is refused, not trusted."""
    if entry.flag_bits & 0x1 or entry.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise refusal("malformed", part=entry.filename)
    handle.seek(entry.header_offset)
    header = handle.read(30)
    if len(header) != 30 or header[:4] != b"PK\x03\x04":
        raise refusal("malformed", part=entry.filename)
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    handle.seek(entry.header_offset + 30 + name_length + extra_length)
    inflate = zlib.decompressobj(-15) if entry.compress_type == zipfile.ZIP_DEFLATED else None
    left, produced, crc = entry.compress_size, 0, 0
    while left > 0:
        raw = handle.read(min(READ_CHUNK, left))
        if not raw:
            raise refusal("malformed", part=entry.filename)
        left -= len(raw)
        pending = raw
        while pending:
            if inflate is None:
                piece, pending = pending, b""
            else:
                # One byte past the declared size is enough to catch a lie without inflating all of it.
                piece = _decompress(
                    inflate, pending, min(entry.file_size - produced + 1, 4 * READ_CHUNK), entry
                )
                pending = inflate.unconsumed_tail
            produced += len(piece)
            if produced > entry.file_size:
                raise refusal("size_mismatch", part=entry.filename)
            crc = zlib.crc32(piece, crc)
            yield piece
    if produced != entry.file_size or (inflate is not None and not inflate.eof):
        raise refusal("size_mismatch", part=entry.filename)
    if crc != entry.CRC:
        raise refusal("malformed", part=entry.filename)


def _decompress(inflate, data: bytes, limit: int, entry: zipfile.ZipInfo) -> bytes:
    try:
        return inflate.decompress(data, limit)
    except zlib.error:
        raise refusal("malformed", part=entry.filename) from None


def _read_small(handle: BinaryIO, entry: zipfile.ZipInfo) -> bytes:
    if entry.file_size > SMALL_PART_LIMIT:
        raise refusal("malformed", part=entry.filename)
    return b"".join(_entry_chunks(handle, entry))


def _parse_small(handle: BinaryIO, entry: zipfile.ZipInfo) -> Element:
    data = _read_small(handle, entry)
    try:
        return defused_fromstring(data, forbid_dtd=True)
    except DefusedXmlException:
        raise refusal("xml_entities", part=entry.filename) from None
    except ParseError:
        raise refusal("malformed", part=entry.filename) from None


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


# --- streaming XML with entities refused -------------------------------------------------------------


class _EntityFound(Exception):
    pass


class _PrologDone(Exception):
    pass


def _refusing_parser() -> expat.XMLParserType:
    """An expat parser that stops at any DOCTYPE (entities can only be declared inside one)."""

    def refuse(*_args: object) -> None:
        raise _EntityFound

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    return parser


def _stream(handle: BinaryIO, entry: zipfile.ZipInfo, parser: expat.XMLParserType) -> int:
    """Feed the whole part to `parser`; returns the bytes unpacked."""
    size = 0
    try:
        for chunk in _entry_chunks(handle, entry):
            size += len(chunk)
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except _EntityFound:
        raise refusal("xml_entities", part=entry.filename) from None
    except expat.ExpatError:
        raise refusal("malformed", part=entry.filename) from None
    return size


def _check_prolog(handle: BinaryIO, entry: zipfile.ZipInfo) -> None:
    """For parts the reader never opens: a DOCTYPE can only come before the root element, so stop there."""

    def stop(*_args: object) -> None:
        raise _PrologDone

    parser = _refusing_parser()
    parser.StartElementHandler = stop
    try:
        for chunk in _entry_chunks(handle, entry):
            parser.Parse(chunk, False)
    except (_PrologDone, expat.ExpatError):
        return
    except _EntityFound:
        raise refusal("xml_entities", part=entry.filename) from None


# --- the worksheet scan ------------------------------------------------------------------------------


class _SheetScan:
    """Measures the worksheet while expat streams it, and stops at the first cell past the limits."""

    def __init__(self, sheet: str, part: str, *, max_rows: int, max_columns: int, max_cells: int):
        self.sheet, self.part = sheet, part
        self.max_rows, self.max_columns, self.max_cells = max_rows, max_columns, max_cells
        self.row = self.column = 0
        self.last_row = self.last_column = self.value_rows = 0
        self.grid_rows = self.grid_columns = 0  # the extent of every cell the reader makes, empty or not
        self.last_value_row = 0
        self.in_value = self.has_value = self.has_formula = self.occupied = False
        self.dimension: str | None = None
        self.merges: list[CellRange] = []
        self.formulas = 0
        self.empty_formulas: list[str] = []
        self.empty_formula_count = 0

    def attach(self, parser: expat.XMLParserType) -> None:
        parser.StartElementHandler = self.start
        parser.EndElementHandler = self.end
        parser.CharacterDataHandler = self.text
        parser.buffer_text = True
        # The handlers run a few million times for a long sheet: they look the element up by its full
        # (namespaced) name in a table filled on first sight, rather than splitting the name every time.
        self._starts: dict[str, object] = {}
        self._ends: dict[str, object] = {}
        self._start_by_tag = {
            "c": self._start_cell, "v": self._start_text, "t": self._start_text, "is": self._start_inline,
            "f": self._start_formula, "row": self._start_row, "dimension": self._start_dimension,
            "mergeCell": self._start_merge,
        }  # fmt: skip
        self._end_by_tag = {"c": self._end_cell, "v": self._end_text, "t": self._end_text}

    def start(self, name: str, attrs: dict[str, str]) -> None:
        handler = self._starts.get(name, False)
        if handler is False:
            handler = self._starts[name] = self._start_by_tag.get(name.rpartition(" ")[2])
        if handler is not None:
            handler(attrs)

    def end(self, name: str) -> None:
        handler = self._ends.get(name, False)
        if handler is False:
            handler = self._ends[name] = self._end_by_tag.get(name.rpartition(" ")[2])
        if handler is not None:
            handler()

    def _start_cell(self, attrs: dict[str, str]) -> None:
        ref = attrs.get("r")
        if ref is None:
            self.column += 1
        elif match := _CELL_REF.fullmatch(ref):
            letters = match[1]
            column = _COLUMNS.get(letters)
            if column is None:
                column = column_index(letters)
                if len(_COLUMNS) < 20_000:
                    _COLUMNS[letters] = column
            self.row, self.column = int(match[2]), column
        else:
            raise refusal("malformed", part=self.part)
        self.has_value = self.has_formula = self.occupied = False

    def _start_text(self, attrs: dict[str, str]) -> None:
        self.in_value = self.occupied = True

    def _start_inline(self, attrs: dict[str, str]) -> None:
        self.occupied = True

    def _start_formula(self, attrs: dict[str, str]) -> None:
        self.has_formula = True

    def _start_row(self, attrs: dict[str, str]) -> None:
        number = attrs.get("r", "")
        self.row = int(number) if number.isdigit() else self.row + 1
        self.column = 0

    def _start_dimension(self, attrs: dict[str, str]) -> None:
        self.dimension = attrs.get("ref")

    def _start_merge(self, attrs: dict[str, str]) -> None:
        if merged := CellRange.parse(attrs.get("ref", "")):
            self.merges.append(merged)

    def text(self, data: str) -> None:
        if self.in_value and data:
            self.has_value = True

    def _end_text(self) -> None:
        self.in_value = False

    def _end_cell(self) -> None:
        if self.has_formula:
            self.formulas += 1
            if not self.has_value:
                self.empty_formula_count += 1
                if len(self.empty_formulas) < LISTED_CELLS:
                    self.empty_formulas.append(f"{column_letter(self.column)}{self.row}")
        if not (self.occupied or self.has_value):
            return
        if self.row > self.grid_rows or self.column > self.grid_columns:
            self._check_extent()
        if not self.has_value:
            return
        if self.row != self.last_value_row:
            self.value_rows += 1
            self.last_value_row = self.row
        if self.row > self.last_row:
            self.last_row = self.row
        if self.column > self.last_column:
            self.last_column = self.column

    def _check_extent(self) -> None:
        """The reader allocates a grid to the farthest cell it makes: refuse before it can."""
        if self.row > self.max_rows:
            raise refusal("too_many_rows", sheet=self.sheet, row=self.row, limit=self.max_rows)
        if self.column > self.max_columns:
            self._too_many_columns(self.max_columns)
        rows, columns = max(self.grid_rows, self.row), max(self.grid_columns, self.column)
        if rows * columns > self.max_cells:
            # Say it in the terms of the dimension this cell stretched: its width allows so many rows.
            if self.row > self.grid_rows:
                limit = self.max_cells // columns
                raise refusal("too_many_rows", sheet=self.sheet, row=self.row, limit=limit)
            self._too_many_columns(self.max_cells // rows)
        self.grid_rows, self.grid_columns = rows, columns

    def _too_many_columns(self, limit: int) -> None:
        column = column_letter(self.column)
        cell = f"{column}{self.row}"
        raise refusal("too_many_columns", sheet=self.sheet, column=column, cell=cell, limit=limit)


# --- the workbook ------------------------------------------------------------------------------------


@dataclass
class _Package:
    handle: BinaryIO
    entries: dict[str, zipfile.ZipInfo] = field(default_factory=dict)

    def part(self, name: str, *, required: bool = True) -> zipfile.ZipInfo | None:
        entry = self.entries.get(name)
        if entry is None and required:
            raise refusal("not_xlsx")
        return entry


def _check_content_types(package: _Package) -> None:
    types = _parse_small(package.handle, package.entries["[Content_Types].xml"])
    declared = {
        element.get("PartName", "").lstrip("/").lower(): element.get("ContentType", "")
        for element in types
        if _local(element.tag) == "Override"
    }
    declared_types = [element.get("ContentType", "") for element in types]
    if any("macroenabled" in kind.lower() or "vbaproject" in kind.lower() for kind in declared_types):
        raise refusal("macros")
    if declared.get("xl/workbook.xml") not in MAIN_CONTENT_TYPES:
        raise refusal("not_xlsx")


def _first_worksheet(package: _Package) -> tuple[str, str]:
    """(name, part) of the first visible worksheet, in workbook order: the one a clerk sees first."""
    workbook = _parse_small(package.handle, package.entries["xl/workbook.xml"])
    # The reader opens the sheet by name: with two sheets of one name (Excel never allows it, whatever
    # the case), it could open one that was never checked.
    names = [sheet.get("name", "").casefold() for sheet in workbook.iter() if _local(sheet.tag) == "sheet"]
    if len(set(names)) != len(names):
        raise refusal("malformed", part="xl/workbook.xml")
    rels_entry = package.part("xl/_rels/workbook.xml.rels")
    assert rels_entry is not None
    relationships = {
        element.get("Id"): element
        for element in _parse_small(package.handle, rels_entry)
        if _local(element.tag) == "Relationship"
    }
    for sheet in workbook.iter():
        if _local(sheet.tag) != "sheet" or sheet.get("state", "visible") != "visible":
            continue
        rel_id = next((value for key, value in sheet.attrib.items() if _local(key) == "id"), None)
        relationship = relationships.get(rel_id)
        if relationship is None or not relationship.get("Type", "").endswith(WORKSHEET_REL):
            continue
        part = _resolve(relationship.get("Target", ""))
        if part in package.entries:
            return sheet.get("name", ""), part
    raise refusal("no_worksheet")


def _resolve(target: str) -> str:
    joined = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
    # A target that climbs (`..`) or uses backslashes may resolve to another part in the reader.
    if "\\" in joined or posixpath.normpath(joined) != joined:
        raise refusal("malformed", part="xl/_rels/workbook.xml.rels")
    return joined


_READER_PARTS = re.compile(r"xl/[^/]+\.xml|xl/_rels/[^/]+\.rels|\[Content_Types\]\.xml", re.IGNORECASE)


def _is_reader_part(name: str, sheet_part: str) -> bool:
    """Parts calamine reads for one sheet: the top-level xl/*.xml (workbook, sharedStrings, styles)."""
    return name == sheet_part or bool(_READER_PARTS.fullmatch(name))


def inspect_workbook(
    path: Path,
    *,
    max_rows: int = 200_000,
    max_columns: int = 60,
    max_cells: int = 4_000_000,
    max_uncompressed_bytes: int = 200 * MB,
    max_entries: int = 2_000,
    max_ratio: int = 100,
    exact: bool = False,
) -> WorkbookInfo:
    """Refuse the workbook with `UnsafeWorkbook` or describe its first visible worksheet.

    The worksheet is measured by `imports.scan` (the same figures and refusals, in a fraction of the time);
    `exact` measures it with expat's handlers alone, as `scan` does for any part it does not read itself."""
    with _open_zip(Path(path)) as archive:
        entries = archive.infolist()
        _check_directory(
            entries,
            max_entries=max_entries,
            max_uncompressed_bytes=max_uncompressed_bytes,
            max_ratio=max_ratio,
        )
        with Path(path).open("rb") as handle:
            package = _Package(handle, {entry.filename: entry for entry in entries})
            limits = {"max_rows": max_rows, "max_columns": max_columns, "max_cells": max_cells}
            return _inspect_package(package, exact=exact, **limits)


def _inspect_package(package: _Package, *, exact: bool, **limits: int) -> WorkbookInfo:
    from .scan import scan_sheet  # it builds on this module's scan

    _check_content_types(package)
    sheet_name, sheet_part = _first_worksheet(package)
    unpacked = 0
    for name, entry in package.entries.items():
        if name == sheet_part or not name.lower().endswith((".xml", ".rels", ".vml")):
            continue
        if _is_reader_part(name, sheet_part):
            unpacked += _stream(package.handle, entry, _refusing_parser())
        else:
            _check_prolog(package.handle, entry)
    sheet = package.entries[sheet_part]
    scan, size = scan_sheet(package.handle, sheet, sheet_name, sheet_part, exact=exact, **limits)
    unpacked += size
    if scan.value_rows == 0:
        raise refusal("empty_sheet", sheet=sheet_name)
    return _describe(scan, sheet_part, unpacked)


def _describe(scan: _SheetScan, sheet_part: str, unpacked: int) -> WorkbookInfo:
    warnings = []
    if scan.empty_formula_count:
        message = _(MESSAGES["formula_without_value"]) % {
            "count": scan.empty_formula_count,
            "cells": listing(scan.empty_formulas),
        }
        warnings.append(ReadingWarning("formula_without_value", message))
    return WorkbookInfo(
        sheet_name=scan.sheet,
        sheet_part=sheet_part,
        rows=scan.last_row,
        columns=scan.last_column,
        value_rows=scan.value_rows,
        claimed_dimension=scan.dimension,
        merged_cells=tuple(str(merged) for merged in scan.merges),
        formula_cells=scan.formulas,
        formulas_without_value=tuple(scan.empty_formulas),
        unpacked_bytes=unpacked,
        warnings=tuple(warnings),
    )


def merged_header_cells(info: WorkbookInfo, header_row: int) -> list[str]:
    """Merged ranges that touch the header row; merged title rows above it are fine."""
    ranges = [CellRange.parse(ref) for ref in info.merged_cells]
    return [str(r) for r in ranges if r is not None and r.first_row <= header_row <= r.last_row]


def check_header_merges(info: WorkbookInfo, header_row: int) -> None:
    """A merged header usually means a two-row header, whose second row would be read as data."""
    if cells := merged_header_cells(info, header_row):
        raise refusal("merged_header", row=header_row, cells=listing(cells))


# --- rows --------------------------------------------------------------------------------------------

CellValue = str | float | int | bool | date | datetime | time | timedelta


def iter_rows(path: Path, *, sheet: int | str = 0) -> Iterator[tuple[int, list[CellValue]]]:
    """(Excel row number, cells from column A) for each row holding a value; empty cells are ''.

    `sheet` is an index in workbook order or a name: pass `WorkbookInfo.sheet_name`.
    """
    with CalamineWorkbook.from_path(str(path)) as workbook:
        if isinstance(sheet, str):
            worksheet = workbook.get_sheet_by_name(sheet)
        else:
            worksheet = workbook.get_sheet_by_index(sheet)
        # calamine pads the rows above the data but starts each row at the first used column.
        padding: list[CellValue] = [""] * (worksheet.start[1] if worksheet.start else 0)
        for number, cells in enumerate(worksheet.iter_rows(), start=1):
            if any(cell != "" for cell in cells):
                yield number, padding + cells


def iter_rows_openpyxl(path: Path, *, sheet: int | str = 0) -> Iterator[tuple[int, list[object]]]:
    """The same rows through openpyxl's read-only mode; only the benchmark uses it."""
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        worksheet = workbook[sheet] if isinstance(sheet, str) else workbook.worksheets[sheet]
        worksheet.reset_dimensions()  # read-only mode otherwise trusts <dimension> and cuts rows short
        for number, cells in enumerate(worksheet.iter_rows(values_only=True), start=1):
            values = ["" if cell is None else cell for cell in cells]
            if any(value != "" for value in values):
                yield number, values
    finally:
        workbook.close()


def is_numeric_cell(value: object) -> bool:
    """A cell Excel stored as a number: ID validation must see the number, not its text."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def cell_text(value: object) -> str:
    """The text a clerk sees in the cell (General format): integers without '.0', dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return f"{value:.15g}"  # Excel shows 15 significant digits
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value).strip()
