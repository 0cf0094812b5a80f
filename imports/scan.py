"""A fast measure of the worksheet XML, giving what `reading._SheetScan` gives, refusals included.

`reading._SheetScan` runs Python for every element expat meets: about 4 million calls for a roster of
50,000 rows, most of the time `inspect_workbook` takes. Here expat still reads the whole part, but with
no Python handler (it only proves the XML well formed and refuses entities, as before), and the cells are
measured a row at a time by regular expressions, with no Python work per cell:

- A row whose cells are all in the plain form Excel, WPS and openpyxl write (`<c r="B7" t="s"><v>3</v>
  </c>`, an empty `<c r="B7" s="1"/>`, an inline string `<is><t>..</t></is>`), each cell of the row's own
  number, is matched whole; the match says whether the row holds a value. For a block of such rows (one
  chunk of the part), a search for a value right of the widest one met so far finds the widest column.
- Any other row that is still made of cells with a plain `A1` reference (formulas, empty values, spaces
  between tags) is measured cell by cell, by `_SheetScan`'s own rules (its `_end_cell`).
- Anything else (a cell without a reference or with an unusual one, comments, CDATA, namespace prefixes,
  an encoding other than UTF-8, a row too long to buffer, a part expat or the unpacking refuses) sends the
  whole part back to `_SheetScan` and expat's handlers, which decide as they always did.

A cell holds a value when its `<v>` or `<t>` has text; it occupies the grid when it has a `<v>`, `<t>` or
`<is>` at all; rows and columns are those of the cells' references (a row's own number only matters for
cells without one, which take the exact path). A block whose extent would pass a limit is measured again
cell by cell, so that a refusal names the very cell `_SheetScan` would have named.
"""

import re
from itertools import groupby
from typing import BinaryIO
from xml.parsers import expat

from . import reading

# --- the forms read here -------------------------------------------------------------------------------

_ROW_START = rb'<row r="(?P<n>[0-9]{1,7})"(?: [\w:.-]+="[^"]*")* ?>'
_CELL_ATTRIBUTES = rb'(?: [a-z]{1,2}="[^"]*")*'  # t, s, cm, vm, ph
_VALUE = rb'<(?:v>[^<]+</v|is><t(?: xml:space="preserve")?>[^<]+</t></is)>'  # a <v> or <t> with text
# The whole row: its number, and `value` ('' when some cell of it holds a value, else None).
_PLAIN_ROW = re.compile(
    rb"\s*"
    + _ROW_START
    + rb'(?:<c r="[A-Z]{1,3}(?P=n)"'
    + _CELL_ATTRIBUTES
    + rb" ?(?:/>|>"
    + _VALUE
    + rb"(?P<value>)</c>|></c>))*"
)

# Any cell with a plain reference, spaces allowed between tags, in the forms `_SheetScan` tells apart.
_ATTRIBUTE = rb'\s+[\w:.-]+\s*=\s*"[^"<]*"'
_FORMULA = rb"<f(?:" + _ATTRIBUTE + rb")*\s*(?:/>|>[^<]*</f>)"
_T = rb'<t(?:\s+xml:space="preserve")?\s*'
_CELL = (
    rb'<c\s+r="(?P<letters>[A-Z]{1,3})(?P<digits>[0-9]{1,7})"(?:\s+[a-z]{1,2}\s*=\s*"[^"<]*")*\s*'
    rb"(?:/>|>\s*(?:(?P<formula><f)"
    + _FORMULA[2:]
    + rb"\s*)?(?:<v>(?P<v>[^<]*)</v>|(?P<v_empty><v\s*/>)|<is>\s*"
    + _T
    + rb">(?P<t>[^<]*)</t>\s*</is>|(?P<is_empty><is>\s*"
    + _T
    + rb"/>\s*</is>|<is>\s*</is>|<is\s*/>))?\s*</c>)"
)
_ANY_CELL = re.compile(_CELL)
_ROW_TAG = rb"<row(?:" + _ATTRIBUTE + rb")*\s*"
_ANY_ROW = re.compile(
    rb"\s*(?:"
    + _ROW_TAG
    + rb"/>\s*)*(?:"
    + _ROW_TAG
    + rb">\s*(?:"
    + re.sub(rb"\(\?P<\w+>", b"(?:", _CELL)
    + rb"\s*)*)?"
)
_EMPTY_ROWS = re.compile(rb"\s*(?:" + _ROW_TAG + rb"/>\s*)*")

# Outside the rows: the tags `_SheetScan` reacts to, whatever their prefix.
_TAG = re.compile(rb"<(/?)(?:[^\s<>/:=\"']+:)?(c|row|v|t|f|is|dimension|mergeCell|sheetData)(?=[\s/>])")
_DIMENSION = re.compile(rb'<dimension\s+ref="([^"<&]*)"\s*/?>')
_MERGE = re.compile(rb'<mergeCell\s+ref="([^"<&]*)"\s*/?>')
_DECLARATION = re.compile(rb"(?:\xef\xbb\xbf)?<\?xml[^>]*?encoding\s*=\s*[\"']([^\"']*)[\"']")

HEAD_LIMIT = 4 * 1024 * 1024  # bytes before <sheetData>: a few kB in any real sheet
ROW_LIMIT = 4 * 1024 * 1024  # one row, buffered whole


class _NotPlain(Exception):
    """The part holds something read only by `_SheetScan`."""


def scan_sheet(
    handle: BinaryIO,
    entry,
    sheet: str,
    part: str,
    *,
    max_rows: int,
    max_columns: int,
    max_cells: int,
    exact: bool = False,
):
    """(scan, bytes unpacked) of the worksheet part, or the refusal `_SheetScan` would raise.

    The scan is a `reading._SheetScan` holding its figures, with `exact`: whether expat's handlers measured
    it (`exact=True` asks for that)."""
    limits = {"max_rows": max_rows, "max_columns": max_columns, "max_cells": max_cells}
    if not exact:
        scan = reading._SheetScan(sheet, part, **limits)
        scan.exact = False
        try:
            return scan, _Reader(scan).read(handle, entry)
        except _NotPlain:
            pass  # measured again below, by expat's handlers
    scan = reading._SheetScan(sheet, part, **limits)
    scan.exact = True
    parser = reading._refusing_parser()
    scan.attach(parser)
    return scan, reading._stream(handle, entry, parser)


class _Reader:
    """Feeds a `_SheetScan` without expat's handlers: in bulk for plain rows, cell by cell for others."""

    def __init__(self, scan):
        self.scan = scan
        self.state = "head"

    def read(self, handle: BinaryIO, entry) -> int:
        """The bytes unpacked. A refusal raised here is the one `_SheetScan` raises; whatever the unpacking
        or expat refuses is left to `_SheetScan`, which may meet a cell past a limit before it."""
        parser = reading._refusing_parser()
        chunks = reading._entry_chunks(handle, entry)
        pending, size = b"", 0
        while True:
            try:
                chunk = next(chunks, None)
                # First: what is measured below has been found well formed.
                parser.Parse(chunk or b"", chunk is None)
            except (reading.ReadingError, reading._EntityFound, expat.ExpatError):
                raise _NotPlain from None
            if chunk is None:
                self._take(pending, final=True)
                return size
            size += len(chunk)
            pending = self._take(pending + chunk)

    def _take(self, data: bytes, final: bool = False) -> bytes:
        """Measure what `data` completes; return the rest, to be continued by the next chunk."""
        if self.state == "head":
            start = data.find(b"<sheetData")
            if start < 0:
                if len(data) > HEAD_LIMIT:
                    raise _NotPlain
                if final:
                    self._head(data)
                return data
            if len(data) < start + len(b"<sheetData/>") and not final:
                return data  # the tag is not whole yet
            self._head(data[:start])
            if data.startswith(b"<sheetData>", start):
                data, self.state = data[start + len(b"<sheetData>") :], "body"
            elif data.startswith(b"<sheetData/>", start):
                data, self.state = data[start + len(b"<sheetData/>") :], "tail"
            else:
                raise _NotPlain
        if self.state == "body":
            end = data.find(b"</sheetData>")
            if end >= 0:
                self._rows(data[:end], last=True)
                data, self.state = data[end + len(b"</sheetData>") :], "tail"
            else:
                cut = data.rfind(b"</row>")
                if cut >= 0:
                    self._rows(data[: cut + len(b"</row>")])
                    data = data[cut + len(b"</row>") :]
                if len(data) > ROW_LIMIT:
                    raise _NotPlain
                if final and data.strip():
                    raise _NotPlain  # the XML ends inside the rows (expat has refused it already)
                return data
        if self.state == "tail":
            cut = len(data) if final else data.rfind(b">") + 1
            self._tail(data[:cut])
            return data[cut:]
        return data

    # --- outside the rows ---------------------------------------------------------------------------

    def _head(self, data: bytes) -> None:
        if not self._utf8(data):
            raise _NotPlain
        if b"<!" in data or b"\x00" in data:
            raise _NotPlain  # a comment or CDATA could hide a tag; a NUL byte is not UTF-8 text
        for match in _TAG.finditer(data):
            if match[2] != b"dimension":
                raise _NotPlain  # cells or values before the rows, or <sheetData> with a prefix
            self._dimension(data, match)

    @staticmethod
    def _utf8(data: bytes) -> bool:
        """The head is read once, whole: it says how the part is encoded."""
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            return False
        declared = _DECLARATION.match(data)
        return declared is None or declared[1].lower() in (b"utf-8", b"utf8")

    def _tail(self, data: bytes) -> None:
        if b"<!" in data or b"<?" in data:
            raise _NotPlain
        for match in _TAG.finditer(data):
            tag = match[2]
            if tag in (b"c", b"row"):
                raise _NotPlain  # a cell after the rows
            if tag == b"dimension":
                self._dimension(data, match)
            elif tag == b"mergeCell" and not match[1]:
                merged = _MERGE.match(data, match.start())
                if merged is None or match.group(0) != b"<mergeCell":
                    raise _NotPlain
                if cell_range := reading.CellRange.parse(merged[1].decode()):
                    self.scan.merges.append(cell_range)
            # v, t, f and is after the last cell change nothing: they only matter up to the next </c>.

    def _dimension(self, data: bytes, match: re.Match) -> None:
        if match[1]:
            return  # </dimension>
        plain = _DIMENSION.match(data, match.start())
        if plain is None or match.group(0) != b"<dimension":
            raise _NotPlain
        self.scan.dimension = plain[1].decode()

    # --- the rows -----------------------------------------------------------------------------------

    def _rows(self, block: bytes, last: bool = False) -> None:
        """Measure a run of whole rows (`last`: up to </sheetData>, ending in anything but a row's end)."""
        pieces = block.split(b"</row>")
        rest = pieces.pop()
        if rest.strip() and not (last and _EMPTY_ROWS.fullmatch(rest)):
            raise _NotPlain
        rows = list(map(_PLAIN_ROW.fullmatch, pieces))
        if all(rows) and self._plain_rows(rows, block):
            return
        for piece in pieces:
            self._cells_of(piece)

    def _plain_rows(self, rows: list[re.Match], block: bytes) -> bool:
        """Measure rows matched whole, in bulk. False if some cell might pass a limit: the block is then
        measured cell by cell, to refuse at the cell `_SheetScan` would refuse at."""
        f = self.scan
        numbers = [int(row["n"]) for row in rows if row["value"] is not None]
        if not numbers:
            return True
        widest = f.last_column
        while wider := _beyond(widest).search(block):
            widest = reading.column_index(wider[1].decode())  # until no value lies further right
        top = max(numbers)
        grid_rows, grid_columns = max(f.grid_rows, top), max(f.grid_columns, widest)
        if top > f.max_rows or widest > f.max_columns or grid_rows * grid_columns > f.max_cells:
            return False
        changes = [number for number, _ in groupby(numbers)]
        f.value_rows += len(changes) - (changes[0] == f.last_value_row)
        f.last_value_row = changes[-1]
        f.last_row, f.last_column = max(f.last_row, top), widest
        f.grid_rows, f.grid_columns = grid_rows, grid_columns
        return True

    def _cells_of(self, piece: bytes) -> None:
        if not _ANY_ROW.fullmatch(piece):
            raise _NotPlain
        for cell in _ANY_CELL.finditer(piece):
            value, text = cell["v"], cell["t"]
            scan = self.scan
            scan.row, scan.column = int(cell["digits"]), reading.column_index(cell["letters"].decode())
            scan.occupied = value is not None or text is not None or bool(cell["v_empty"] or cell["is_empty"])
            scan.has_value = bool(value) or bool(text)
            scan.has_formula = cell["formula"] is not None
            scan._end_cell()


_BEYOND: dict[int, re.Pattern] = {}


def _beyond(column: int) -> re.Pattern:
    """A cell holding a value in a column right of `column` (1-based), in the plain form."""
    if column not in _BEYOND:
        letters = reading.column_letter(column)
        alternatives = [rb"[A-Z]{%d,3}" % (len(letters) + 1)] if len(letters) < 3 else []
        for position, letter in enumerate(letters):
            if letter != "Z":
                alternatives.append(
                    letters[:position].encode()
                    + b"[" + bytes([ord(letter) + 1]) + b"-Z]"
                    + (rb"[A-Z]{%d}" % (len(letters) - position - 1) if position < len(letters) - 1 else b"")
                )  # fmt: skip
        wider = b"|".join(alternatives) or rb"(?!)"
        _BEYOND[column] = re.compile(
            rb'<c r="(' + wider + rb')[0-9]{1,7}"' + _CELL_ATTRIBUTES + rb" ?>" + _VALUE
        )
    return _BEYOND[column]
