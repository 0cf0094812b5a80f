"""Workbooks that once got past `inspect_workbook` and then made the reader (python-calamine) allocate
gigabytes, abort the worker process, or read a sheet that had never been checked. Each is refused now;
what a real workbook looks like on the other side of each rule is still accepted."""

import pytest
from django.utils import translation

from imports.reading import UnsafeWorkbook, inspect_workbook, iter_rows
from tests.imports import hostile as h


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def refusal(path, **limits) -> UnsafeWorkbook:
    with pytest.raises(UnsafeWorkbook) as caught:
        inspect_workbook(path, **limits)
    return caught.value


# --- cells the reader makes although they hold nothing ----------------------------------------------


@pytest.mark.parametrize(
    "cell",
    [
        '<c r="A300" t="inlineStr"><is><t></t></is></c>',
        '<c r="A300" t="inlineStr"><is></is></c>',
        '<c r="A300" t="inlineStr"><is><r><t></t></r></is></c>',
        '<c r="A300" t="str"><v></v></c>',
        '<c r="A300" t="d"><v></v></c>',
        '<c r="A300" t="str"><f>1+1</f><v></v></c>',
    ],
    ids=["inline-empty", "inline-no-text", "rich-empty", "str-empty", "date-empty", "formula-empty"],
)
def test_an_empty_value_far_below_counts_for_the_extent(tmp_path, cell):
    # calamine makes a cell of each of these and pads its grid down to it.
    error = refusal(h.far_cell(tmp_path / "far.xlsx", cell), max_rows=100)
    assert (error.code, "row 300" in error.message) == ("too_many_rows", True)


@pytest.mark.parametrize(
    "cell",
    ['<c r="A300" s="1"/>', '<c r="A300" t="str"/>', '<c r="A300"><f>1+1</f></c>'],
    ids=["styled", "typed-without-value", "formula-without-value"],
)
def test_a_cell_without_a_value_element_does_not(tmp_path, cell):
    info = inspect_workbook(h.far_cell(tmp_path / "far.xlsx", cell), max_rows=100)
    assert info.rows == 2
    assert sum(1 for _ in iter_rows(tmp_path / "far.xlsx")) == 2


def test_an_empty_string_in_the_last_cell_of_a_sheet_is_refused(tmp_path):
    # Once accepted: calamine then asked for 512 GiB and aborted the worker, and the redelivered task
    # aborted the next one.
    error = refusal(h.far_cell(tmp_path / "last.xlsx", h.EMPTY_STRING_AT_THE_LAST_CELL))
    assert error.code == "too_many_rows" and "1048576" in error.message


# --- references the scan and the reader read differently --------------------------------------------


@pytest.mark.parametrize(
    ("reference", "code"),
    [("AAAAAAA1", "too_many_columns"), ("AAAA1", "too_many_columns"), ("A12345678", "too_many_rows")],
)
def test_long_references_are_taken_at_face_value(tmp_path, reference, code):
    cell = f'<c r="{reference}" t="inlineStr"><is><t>x</t></is></c>'
    assert refusal(h.far_cell(tmp_path / "ref.xlsx", cell)).code == code


@pytest.mark.parametrize("reference", ["B2x", "A-1", "1A", "A 1"])
def test_a_reference_that_is_not_one_is_refused(tmp_path, reference):
    cell = f'<c r="{reference}" t="inlineStr"><is><t>x</t></is></c>'
    error = refusal(h.far_cell(tmp_path / "ref.xlsx", cell))
    assert error.code == "malformed" and "xl/worksheets/sheet1.xml" in error.message


def test_absolute_references_are_read(tmp_path):
    cell = '<c r="$C$3" t="inlineStr"><is><t>x</t></is></c>'
    assert inspect_workbook(h.far_cell(tmp_path / "ref.xlsx", cell)).columns == 3


# --- the grid the reader allocates -------------------------------------------------------------------


def test_two_cells_at_opposite_corners_are_refused(tmp_path):
    # A1 and BH200000: inside the row and column limits, but a 12-million-cell grid (437 MB in the
    # reader) from a 2 KB file.
    error = refusal(h.sparse_grid(tmp_path / "grid.xlsx"))
    assert error.code == "too_many_rows"
    assert "row 200000" in error.message and "at most 66666 rows" in error.message


def test_the_grid_limit_on_both_sides(tmp_path):
    rows = [h.text_row(1, ["姓名"] * 10), h.row(100, h.text("J100", "x"))]  # 100 x 10 = 1,000 cells
    path = h.workbook(tmp_path / "grid.xlsx", rows)
    assert inspect_workbook(path, max_cells=1_000).rows == 100
    error = refusal(path, max_cells=999)
    assert (error.code, "at most 99 rows" in error.message) == ("too_many_rows", True)


def test_a_wide_sheet_is_refused_by_its_columns(tmp_path):
    rows = [h.text_row(n, ["x"]) for n in range(1, 101)] + [h.row(101, h.text("J1", "x"))]
    error = refusal(h.workbook(tmp_path / "wide.xlsx", rows), max_cells=500)
    assert (error.code, "at most 5 columns" in error.message) == ("too_many_columns", True)


# --- parts the reader would take for the checked ones ------------------------------------------------


def test_a_hidden_sheet_of_the_same_name_is_refused(tmp_path):
    # The reader opens the sheet by name and took the hidden first one, which was never measured.
    error = refusal(h.hidden_twin(tmp_path / "twin.xlsx"), max_rows=100)
    assert error.code == "malformed" and "xl/workbook.xml" in error.message


def test_sheet_names_that_differ_only_in_case_are_refused(tmp_path):
    sheets = '<sheet name="Sheet1" sheetId="1" r:id="rId1"/><sheet name="SHEET1" sheetId="2" r:id="rId1"/>'
    contents = h.parts(h.sheet_xml([h.text_row(1, ["姓名"])]), sheets_xml=sheets)
    assert refusal(h.write(tmp_path / "case.xlsx", contents)).code == "malformed"


@pytest.mark.parametrize(
    "name",
    [
        "XL/worksheets/sheet1.xml",
        "xl\\worksheets\\sheet1.xml",
        "/xl/worksheets/sheet1.xml",
        "./xl/worksheets/sheet1.xml",
        "xl/SharedStrings.xml/../sharedStrings.xml",
    ],
)
def test_a_part_under_another_spelling_of_a_checked_name_is_refused(tmp_path, name):
    error = refusal(h.shadow_entry(tmp_path / "shadow.xlsx", name), max_rows=100)
    assert error.code == "malformed"


def test_a_sheet_target_that_climbs_is_refused(tmp_path):
    contents = h.parts(h.sheet_xml([h.text_row(1, ["姓名"])]))
    rels = str(contents["xl/_rels/workbook.xml.rels"])
    contents["xl/_rels/workbook.xml.rels"] = rels.replace(
        "worksheets/sheet1.xml", "../xl/worksheets/sheet1.xml"
    )
    assert refusal(h.write(tmp_path / "climb.xlsx", contents)).code == "malformed"


def test_plain_variants_that_real_writers_use_are_accepted(tmp_path):
    # An absolute sheet target (openpyxl writes them) and directory entries (zip tools add them).
    contents = h.parts(h.sheet_xml([h.text_row(1, ["姓名"]), h.text_row(2, ["张三"])]))
    rels = str(contents["xl/_rels/workbook.xml.rels"])
    contents["xl/_rels/workbook.xml.rels"] = rels.replace('Target="worksheets/', 'Target="/xl/worksheets/')
    contents = {"xl/": b"", "xl/worksheets/": b"", **contents}
    path = h.write(tmp_path / "plain.xlsx", contents)
    info = inspect_workbook(path)
    assert info.rows == 2
    assert [cells[0] for _, cells in iter_rows(path, sheet=info.sheet_name)] == ["姓名", "张三"]


def test_a_shared_strings_part_is_checked_whatever_its_case(tmp_path):
    contents = h.parts(h.sheet_xml([h.row(1, '<c r="A1" t="s"><v>0</v></c>')]))
    contents["xl/SharedStrings.XML"] = (
        f'<?xml version="1.0"?>{h.BILLION_LAUGHS}<sst xmlns="{h.MAIN}"><si><t>&lol9;</t></si></sst>'
    )
    assert refusal(h.write(tmp_path / "sst.xlsx", contents)).code == "xml_entities"
