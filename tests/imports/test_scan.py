"""imports.scan measures a worksheet as reading._SheetScan does, refusals included, only faster.

Three kinds of proof:
- every test of test_reading.py runs again here with `inspect_workbook` replaced by one that runs both
  `reading.inspect_workbook` with `exact=True` (expat's handlers alone) and without (`scan`) on the file
  the test builds and asserts they give
  the same description or the same refusal (code and message);
- rosters as townships send them (rosters.py, openpyxl's write-only form, hostile.py's builders) are
  measured the same way, and the plain ones without falling back to the expat handlers;
- generated sheets of every cell form either path knows, under small limits, read in tiny chunks too.
"""

import inspect
import io
import zipfile
from unittest import mock

import pytest
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from imports import reading, scan
from imports.reading import UnsafeWorkbook

from . import hostile as h
from . import test_reading
from .rosters import HEADER, person_row, workbook
from .test_reading import *  # noqa: F403  every test of test_reading.py, run again with both paths

PART = "xl/worksheets/sheet1.xml"


def exact_inspect(path, **limits):
    return reading.inspect_workbook(path, exact=True, **limits)


def outcome(inspect_function, path, limits):
    try:
        return ("described", inspect_function(path, **limits))
    except UnsafeWorkbook as refusal:
        return ("refused", refusal.code, refusal.message)


def compared(path, **limits):
    """`inspect_workbook` for the tests of test_reading.py: both paths, which must agree."""
    expected = outcome(exact_inspect, path, limits)
    assert outcome(reading.inspect_workbook, path, limits) == expected
    return reading.inspect_workbook(path, **limits)


@pytest.fixture(autouse=True)
def both_paths(monkeypatch):
    monkeypatch.setattr(test_reading, "inspect_workbook", compared)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def sheet_scan(path, *, exact=False, **limits):
    limits = {"max_rows": 200_000, "max_columns": 60, "max_cells": 4_000_000, **limits}
    with zipfile.ZipFile(path) as archive:
        entry = archive.getinfo(PART)
    with open(path, "rb") as handle:
        return scan.scan_sheet(handle, entry, "花名册", PART, exact=exact, **limits)


def assert_same(path, *, fast=None, **limits):
    expected = outcome(exact_inspect, path, limits)
    assert outcome(reading.inspect_workbook, path, limits) == expected
    if fast is not None:
        measured, _size = sheet_scan(path, **limits)
        assert measured.exact is not fast
    return expected


# --- rosters -----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_roster_of_openpyxl_is_measured_without_the_handlers(tmp_path):
    rows = [person_row(n) for n in range(30)]
    rows[3]["身份证号"] = 360426199101010071.0  # a numeric cell
    path = tmp_path / "roster.xlsx"
    path.write_bytes(workbook(rows))
    kind, info = assert_same(path, fast=True)
    assert (kind, info.rows, info.columns, info.value_rows) == ("described", 33, len(HEADER), 33)


def write_only_roster(path, rows: int, *, title_rows: int = 2):
    """The benchmark's form: openpyxl's write-only mode, inline strings, empty cells written."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("花名册")
    for n in range(title_rows):
        sheet.append([f"标题{n}"])
    sheet.append(HEADER)
    for n in range(rows):
        sheet.append([n + 1, "象湖镇", "石水村", f"刘{n:05d}", "", f"36078119{n:010d}", "", "肢体", "二级",
                      None, "户主", 3, "未脱贫", "", "是", f"139{n:08d}", ""])  # fmt: skip
    book.save(path)
    return path


def test_the_benchmarks_form_is_measured_without_the_handlers(tmp_path):
    path = write_only_roster(tmp_path / "bench.xlsx", 3000)
    kind, info = assert_same(path, fast=True)
    assert (kind, info.rows, info.columns, info.value_rows) == ("described", 3003, len(HEADER), 3003)
    assert assert_same(path, max_rows=3002)[1] == "too_many_rows"
    assert assert_same(path, max_columns=16)[1] == "too_many_columns"
    assert assert_same(path, max_cells=17 * 2000)[1] == "too_many_rows"


def test_the_same_in_chunks_of_a_few_bytes(tmp_path, monkeypatch):
    path = write_only_roster(tmp_path / "bench.xlsx", 40)
    expected = assert_same(path, fast=True)
    monkeypatch.setattr(reading, "READ_CHUNK", 7)
    assert outcome(reading.inspect_workbook, path, {}) == expected
    assert sheet_scan(path)[0].exact is False


BUILDERS = {
    "roster": h.roster,
    "entities": lambda p: h.entity_sheet(p, h.BILLION_LAUGHS, reference="&lol9;"),
    "bomb": lambda p: h.zip_bomb(p, 50 * reading.MB),
    "lying-size-more": lambda p: h.lying_size(p, real_size=2 * reading.MB, declared=1000),
    "lying-size-less": lambda p: h.lying_size(p, real_size=2000, declared=5000),
    "many-entries": lambda p: h.many_entries(p, 60),
    "many-rows": lambda p: h.many_rows(p, 250_000),
    "far-empty-string": lambda p: h.far_cell(p, h.EMPTY_STRING_AT_THE_LAST_CELL),
    "seven-letters": lambda p: h.far_cell(p, h.SEVEN_LETTER_COLUMN),
}
# Builders of a whole file from its path alone, as hostile.py gains them.
BUILDERS |= {
    name: builder
    for name, builder in vars(h).items()
    if inspect.isfunction(builder)
    and builder.__module__ == h.__name__
    and list(inspect.signature(builder).parameters)[:1] == ["path"]
    and all(p.default is not p.empty for p in list(inspect.signature(builder).parameters.values())[1:])
    and name not in ("write", "workbook")
}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_hostile_files_get_the_same_answer(tmp_path, name):
    path = BUILDERS[name](tmp_path / "upload.xlsx")
    for limits in ({}, {"max_rows": 2, "max_columns": 2}, {"max_cells": 3}):
        assert_same(path, **limits)


def test_many_rows_are_refused_at_the_same_row_without_the_handlers(tmp_path):
    path = h.many_rows(tmp_path / "long.xlsx", 250_000)
    kind, code, message = assert_same(path, fast=None)
    assert (kind, code, "200001" in message.replace(",", "")) == ("refused", "too_many_rows", True)
    with pytest.raises(UnsafeWorkbook):
        sheet_scan(path)  # refused by the fast path itself, not after falling back


# --- cells in the forms each path knows --------------------------------------------------------------

X14AC = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"


def letters(column: int) -> str:
    return h.letter(column)


# The forms the fast path reads (first the plain ones, then those it measures cell by cell), then those it
# leaves to the expat handlers.
PLAIN = ["/>", " />", "></c>", "><v>1</v></c>", "><v> </v></c>", "><v>&amp;</v></c>",
         "><is><t>x</t></is></c>", '><is><t xml:space="preserve"> </t></is></c>']  # fmt: skip
CELL_BY_CELL = [
    "><v></v></c>", "><v/></c>", "><is><t></t></is></c>", "><is><t/></is></c>", "><is/></c>",
    "><is></is></c>",
    "><f>1+1</f><v>2</v></c>", "><f>1+1</f></c>", '><f t="shared" si="0"/></c>', "><f>1</f><v></v></c>",
    '><f t="shared" ref="A1:A3" si="0">A1</f><v>3</v></c>', ">\n  <v>1</v>\n</c>", "><v>1</v> </c>",
]  # fmt: skip
UNUSUAL = ["><is><r><t>a</t></r></is></c>", "><v>1</v><!-- x --></c>", "><v><![CDATA[]]></v></c>",
           "><v><![CDATA[x]]></v></c>"]  # fmt: skip


@st.composite
def cells(draw, number: int, plain: bool):
    column = draw(st.integers(1, 20 if plain else 70))
    row = draw(st.sampled_from([number] * (30 if plain else 6) + [number + 1, max(number - 1, 0), 1]))
    ref = f"{letters(column)}{row}"
    if not plain:
        ref = draw(st.sampled_from([ref] * 8 + [f"${letters(column)}${row}", ref.lower(), f" {ref}"]))
    attributes = draw(st.sampled_from(["", ' t="s"', ' s="1"', ' t="inlineStr"', ' t="n" s="2"']))
    start = f'<c r="{ref}"{attributes}'
    if not plain:
        start = draw(st.sampled_from([start] * 10 + [f'<c{attributes} r="{ref}"', f"<c{attributes}"]))
    forms = PLAIN * 8 + CELL_BY_CELL if plain else PLAIN + CELL_BY_CELL + UNUSUAL
    return start + draw(st.sampled_from(forms))


@st.composite
def rows(draw, number: int, plain: bool):
    content = "".join(draw(st.lists(cells(number, plain), max_size=7)))
    r = draw(st.sampled_from([f' r="{number}"'] * 6 + ["", f' r="0{number}"']))
    attributes = draw(st.sampled_from(["", ' spans="1:5"', ' spans="1:5" x14ac:dyDescent="0.25"']))
    if not content and draw(st.booleans()):
        return f"<row{r}{attributes}/>"
    return f"<row{r}{attributes}>{content}</row>" + draw(st.sampled_from(["", "", "\n"]))


@st.composite
def sheets(draw, plain: bool = False):
    number, body = 0, []
    for _ in range(draw(st.integers(0, 30 if plain else 12))):
        number += draw(st.sampled_from([1, 1, 1, 2, 0, 40]))
        body.append(draw(rows(number, plain)))
    head = draw(
        st.sampled_from(
            ["", '<dimension ref="A1:C3"/>', '<sheetPr><outlinePr summaryBelow="1"/></sheetPr>',
             '<dimension ref="B2"></dimension><cols><col min="1" max="2" width="9"/></cols>']
            + ([] if plain else ["<!-- c -->"])
        )
    )  # fmt: skip
    merge = st.sampled_from(['<mergeCell ref="A1:C1"/>', '<mergeCell ref="B3:B2"/>', '<mergeCell ref="x"/>'])
    merges = "".join(draw(st.lists(merge)))
    tail = draw(
        st.sampled_from(
            ["", f'<mergeCells count="1">{merges}</mergeCells>', '<dimension ref="A1:D4"/>',
             '<extLst><ext uri="x" xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main"><xm:f>a!A1</xm:f>'
             "</ext></extLst>"]
        )
    )  # fmt: skip
    sheet_data = f"<sheetData>{''.join(body)}</sheetData>"
    if not body and draw(st.booleans()):
        sheet_data = "<sheetData/>"
    xml = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<worksheet xmlns="{h.MAIN}" xmlns:x14ac="{X14AC}">{head}{sheet_data}{tail}</worksheet>'
    )
    if draw(st.integers(0, 20)) == 0:
        xml = xml[: draw(st.integers(0, len(xml)))]  # cut short: expat refuses it
    return xml.encode()


LIMITS = st.fixed_dictionaries(
    {
        "max_rows": st.sampled_from([1, 3, 40, 200_000, 200_000]),
        "max_columns": st.sampled_from([1, 2, 5, 60, 60, 60]),
        "max_cells": st.sampled_from([4, 30, 600, 4_000_000, 4_000_000]),
    }
)


def measured(xml: bytes, *, exact: bool, limits: dict, stored: bool):
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w", zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(PART, xml)
    with zipfile.ZipFile(data) as archive:
        entry = archive.getinfo(PART)
    try:
        found, size = scan.scan_sheet(data, entry, "花名册", PART, exact=exact, **limits)
    except UnsafeWorkbook as refusal:
        return ("refused", refusal.code, refusal.message), None
    figures = (
        size, found.last_row, found.last_column, found.value_rows, found.grid_rows, found.grid_columns,
        found.dimension, [str(m) for m in found.merges], found.formulas, found.empty_formulas,
        found.empty_formula_count,
    )  # fmt: skip
    return figures, found.exact


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.booleans().flatmap(sheets), LIMITS, st.sampled_from([7, 64 * 1024]), st.booleans())
def test_any_sheet_gets_the_same_figures_or_refusal_on_both_paths(xml, limits, chunk, stored):
    with mock.patch.object(reading, "READ_CHUNK", chunk), translation.override("en"):
        fast, _ = measured(xml, exact=False, limits=limits, stored=stored)
        exact, _ = measured(xml, exact=True, limits=limits, stored=stored)
    assert fast == exact


def plain_sheet(rows_xml: list[str]) -> bytes:
    return f'<worksheet xmlns="{h.MAIN}"><sheetData>{"".join(rows_xml)}</sheetData></worksheet>'.encode()


def test_a_value_right_of_a_later_one_in_its_row_is_found():
    xml = plain_sheet([h.row(1, h.text("D1", "x"), h.text("B1", "y")), h.row(2, h.text("A2", "z"))])
    limits = {"max_rows": 10, "max_columns": 10, "max_cells": 100}
    figures, exact = measured(xml, exact=False, limits=limits, stored=False)
    assert (figures[1:4], exact) == ((2, 4, 2), False)
    assert figures == measured(xml, exact=True, limits=limits, stored=False)[0]


def test_a_refusal_names_the_cell_expat_would_name_in_a_block_of_plain_rows():
    xml = plain_sheet(
        [h.text_row(n, ["a", "b", "c"]) for n in range(1, 30)] + [h.row(30, h.text("F30", "x"))]
    )
    for limits in (
        {"max_rows": 10, "max_columns": 60, "max_cells": 4_000_000},
        {"max_rows": 100, "max_columns": 5, "max_cells": 4_000_000},
        {"max_rows": 100, "max_columns": 60, "max_cells": 80},
    ):
        fast, exact_path = measured(xml, exact=False, limits=limits, stored=False)
        assert fast[0] == "refused" and exact_path is None
        assert fast == measured(xml, exact=True, limits=limits, stored=False)[0]


def test_unusual_xml_goes_back_to_the_expat_handlers():
    limits = {"max_rows": 10, "max_columns": 10, "max_cells": 100}
    for xml in (
        plain_sheet([h.row(1, '<c r="A1"><is><r><t>a</t></r></is></c>')]),  # rich text
        plain_sheet([h.row(1, h.text("A1", "a")), "<!-- a comment -->"]),
        plain_sheet([h.row(1, '<c t="s" r="A1"><v>0</v></c>')]),
        f'<x:worksheet xmlns:x="{h.MAIN}"><x:sheetData><x:row r="1"><x:c r="A1"><x:v>1</x:v></x:c></x:row>'
        "</x:sheetData></x:worksheet>".encode(),
        # A cell after the rows, under a prefix of any letters: it counts all the same.
        f'<worksheet xmlns="{h.MAIN}" xmlns:数="{h.MAIN}"><sheetData>{h.text_row(1, ["a"])}</sheetData>'
        '<数:c r="E9"><数:v>1</数:v></数:c></worksheet>'.encode(),
    ):
        assert measured(xml, exact=False, limits=limits, stored=False)[1] is True
        assert (
            measured(xml, exact=False, limits=limits, stored=False)[0]
            == measured(xml, exact=True, limits=limits, stored=False)[0]
        )
