import warnings
import zipfile
from datetime import date, datetime, time

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from beneficiaries.validation import IdValidationError, normalize_id_text
from imports.columns import Column, HeaderError, find_header, normalize_header, split_header
from imports.reading import (
    MB,
    UnsafeWorkbook,
    cell_text,
    check_header_merges,
    inspect_workbook,
    is_numeric_cell,
    iter_rows,
    iter_rows_openpyxl,
    merged_header_cells,
)

from . import hostile as h


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def refused(path, **limits) -> UnsafeWorkbook:
    with pytest.raises(UnsafeWorkbook) as caught:
        inspect_workbook(path, **limits)
    return caught.value


# --- files that are not a plain xlsx -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "code", "words"),
    [
        (h.pdf_file, "not_xlsx", "not an Excel workbook"),
        (h.csv_file, "not_xlsx", "not an Excel workbook"),
        (h.ole_file, "ole_file", "password-protected"),
        (h.xlsm, "macros", "macros"),
        (lambda p: h.xlsm(p, vba_part=False), "macros", "macros"),
        (h.external_links, "external_links", "external links"),
    ],
    ids=["pdf", "csv", "ole", "xlsm-vba", "xlsm-content-type", "external-links"],
)
def test_refuses_what_is_not_a_plain_workbook(tmp_path, build, code, words):
    error = refused(build(tmp_path / "upload.xlsx"))
    assert error.code == code
    assert words in error.message


def test_refuses_a_zip_that_is_not_a_workbook(tmp_path):
    path = h.write(tmp_path / "photos.xlsx", {"photo.jpg": b"\xff\xd8"})
    assert refused(path).code == "not_xlsx"


def test_refuses_a_workbook_of_another_content_type(tmp_path):
    contents = h.parts(h.sheet_xml([h.text_row(1, ["姓名"])]), workbook_type="application/xml")
    assert refused(h.write(tmp_path / "odd.xlsx", contents)).code == "not_xlsx"


# --- entities ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prolog", "reference"),
    [(h.BILLION_LAUGHS, "&lol9;"), (h.EXTERNAL_ENTITY, "&xxe;"), ("<!DOCTYPE worksheet>", "x")],
    ids=["billion-laughs", "external-entity", "bare-doctype"],
)
def test_refuses_entities_in_the_sheet(tmp_path, prolog, reference):
    error = refused(h.entity_sheet(tmp_path / "e.xlsx", prolog, reference=reference))
    assert error.code == "xml_entities"
    assert "xl/worksheets/sheet1.xml" in error.message


@pytest.mark.parametrize(
    "part", ["xl/workbook.xml", "[Content_Types].xml", "xl/sharedStrings.xml", "docProps/core.xml"]
)
def test_refuses_entities_in_any_part(tmp_path, part):
    contents = h.parts(h.sheet_xml([h.text_row(1, ["姓名"])]))
    original = str(contents.get(part, '<?xml version="1.0"?><sst xmlns="x"/>'))
    declaration, _, rest = original.partition("?>")
    contents[part] = f"{declaration}?>{h.EXTERNAL_ENTITY}{rest}"
    error = refused(h.write(tmp_path / "e.xlsx", contents))
    assert error.code == "xml_entities"
    assert part in error.message


def test_refuses_a_broken_sheet(tmp_path):
    contents = h.parts('<worksheet xmlns="x"><sheetData><row r="1">')
    error = refused(h.write(tmp_path / "broken.xlsx", contents))
    assert (error.code, "xl/worksheets/sheet1.xml" in error.message) == ("malformed", True)


def test_ignores_a_broken_part_the_reader_never_opens(tmp_path):
    contents = h.parts(h.sheet_xml([h.text_row(1, ["姓名"])])) | {"docProps/app.xml": "<Properties><oops>"}
    assert inspect_workbook(h.write(tmp_path / "ok.xlsx", contents)).rows == 1


# --- zip bombs ---------------------------------------------------------------------------------------


def test_refuses_a_bomb_by_its_declared_size(tmp_path):
    error = refused(h.zip_bomb(tmp_path / "bomb.xlsx", 50 * MB), max_uncompressed_bytes=10 * MB)
    assert error.code == "too_large"
    assert "50 MB" in error.message and "10 MB" in error.message


def test_refuses_a_bomb_by_its_compression_ratio(tmp_path):
    error = refused(h.zip_bomb(tmp_path / "bomb.xlsx", 50 * MB))
    assert error.code == "compression_ratio"
    assert "xl/media/image1.bin" in error.message


def test_refuses_a_part_that_unpacks_to_more_than_it_declares(tmp_path):
    error = refused(h.lying_size(tmp_path / "lie.xlsx", real_size=2 * MB, declared=1000))
    assert error.code == "size_mismatch"
    assert "xl/worksheets/sheet1.xml" in error.message


def test_refuses_a_part_that_unpacks_to_less_than_it_declares(tmp_path):
    error = refused(h.lying_size(tmp_path / "lie.xlsx", real_size=2000, declared=5000))
    assert error.code == "size_mismatch"


def test_refuses_too_many_entries(tmp_path):
    error = refused(h.many_entries(tmp_path / "many.xlsx", 60), max_entries=50)
    assert error.code == "too_many_entries"
    assert "66" in error.message and "50" in error.message


def test_refuses_duplicate_entries(tmp_path):
    path = h.write(tmp_path / "dup.xlsx", h.parts(h.sheet_xml([h.text_row(1, ["姓名"])])))
    with warnings.catch_warnings(), zipfile.ZipFile(path, "a") as archive:
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name this test means to write
        archive.writestr("xl/worksheets/sheet1.xml", h.sheet_xml([h.text_row(1, ["别的"])]))
    assert refused(path).code == "malformed"


# --- the sheet's extent ------------------------------------------------------------------------------


def test_counts_rows_when_the_dimension_claims_fewer(tmp_path):
    rows = [h.text_row(n, ["张三", "男"]) for n in range(1, 301)]
    path = h.workbook(tmp_path / "lie.xlsx", rows, dimension="A1:B2")
    info = inspect_workbook(path)
    assert (info.rows, info.columns, info.claimed_dimension) == (300, 2, "A1:B2")
    assert sum(1 for _ in iter_rows(path, sheet=info.sheet_name)) == 300


def test_accepts_a_dimension_that_claims_more_than_it_holds(tmp_path):
    rows = [h.text_row(n, ["张三"]) for n in range(1, 4)]
    info = inspect_workbook(h.workbook(tmp_path / "lie.xlsx", rows, dimension="A1:XFD1048576"), max_rows=10)
    assert (info.rows, info.columns) == (3, 1)


def test_refuses_more_rows_than_the_limit(tmp_path):
    rows = [h.text_row(n, ["张三"]) for n in range(1, 31)]
    error = refused(h.workbook(tmp_path / "long.xlsx", rows), max_rows=20)
    assert error.code == "too_many_rows"
    assert "row 21" in error.message and "20 rows" in error.message and "花名册" in error.message


def test_refuses_a_stray_value_far_below_the_data(tmp_path):
    rows = [h.text_row(1, ["姓名"]), h.text_row(2, ["张三"]), h.text_row(250, ["x"])]
    error = refused(h.workbook(tmp_path / "stray.xlsx", rows), max_rows=100)
    assert (error.code, "row 250" in error.message) == ("too_many_rows", True)


def test_ignores_formatted_empty_cells_past_the_limits(tmp_path):
    rows = [h.text_row(1, ["姓名"]), h.row(500, '<c r="BZ500" s="1"/>')]
    info = inspect_workbook(h.workbook(tmp_path / "styled.xlsx", rows), max_rows=10, max_columns=5)
    assert (info.rows, info.columns) == (1, 1)


def test_refuses_too_many_columns(tmp_path):
    path = h.workbook(tmp_path / "wide.xlsx", [h.text_row(1, [f"列{i}" for i in range(10)])])
    error = refused(path, max_columns=5)
    assert error.code == "too_many_columns"
    assert "column F" in error.message and "F1" in error.message and "5 columns" in error.message


@pytest.mark.parametrize(
    "rows",
    [[], [h.row(1, '<c r="A1" s="1"/>')], [h.row(1, h.text("A1", ""))]],
    ids=["none", "styled", "blank"],
)
def test_refuses_an_empty_sheet(tmp_path, rows):
    error = refused(h.workbook(tmp_path / "empty.xlsx", rows))
    assert (error.code, "花名册" in error.message) == ("empty_sheet", True)


def test_refuses_a_workbook_without_a_visible_worksheet(tmp_path):
    hidden = '<sheet name="隐藏" sheetId="1" state="hidden" r:id="rId1"/>'
    for sheets in ("", hidden):
        contents = h.parts(h.sheet_xml([h.text_row(1, ["姓名"])]), sheets_xml=sheets)
        assert refused(h.write(tmp_path / "none.xlsx", contents)).code == "no_worksheet"


def test_reads_namespace_prefixed_sheet_xml(tmp_path):
    sheet = (
        f'<x:worksheet xmlns:x="{h.MAIN}"><x:sheetData><x:row r="1"><x:c r="B1" t="inlineStr">'
        "<x:is><x:t>姓名</x:t></x:is></x:c></x:row></x:sheetData></x:worksheet>"
    )
    path = h.write(tmp_path / "prefixed.xlsx", h.parts(sheet))
    assert (inspect_workbook(path).rows, inspect_workbook(path).columns) == (1, 2)
    error = refused(path, max_columns=1)
    assert error.code == "too_many_columns"


# --- merged header -----------------------------------------------------------------------------------


def test_reports_merged_header_cells_but_not_merged_titles(tmp_path):
    rows = [
        h.text_row(1, ["花名册"]),
        h.text_row(2, ["姓名", "残疾情况"]),
        h.text_row(3, ["", "类别", "等级"]),
    ]
    info = inspect_workbook(h.workbook(tmp_path / "merged.xlsx", rows, merges=["A1:C1", "B2:C2", "A2:A3"]))
    assert merged_header_cells(info, 2) == ["B2:C2", "A2:A3"]
    with pytest.raises(UnsafeWorkbook) as caught:
        check_header_merges(info, 2)
    assert caught.value.code == "merged_header"
    assert "B2:C2" in caught.value.message and "row 2" in caught.value.message
    assert "A1:C1" not in caught.value.message
    check_header_merges(info, 4)


# --- cells -------------------------------------------------------------------------------------------


def test_formulas_give_their_cached_value_or_nothing(tmp_path):
    rows = [h.text_row(1, ["a", "b"]), h.row(2, h.formula("A2", "1+1", cached=2), h.formula("B2", "1+2"))]
    path = h.workbook(tmp_path / "formulas.xlsx", rows)
    info = inspect_workbook(path)
    assert (info.formula_cells, info.formulas_without_value) == (2, ("B2",))
    [warning] = info.warnings
    assert warning.code == "formula_without_value" and "B2" in warning.message
    assert list(iter_rows(path))[1] == (2, [2.0, ""])


def test_dates_come_as_dates_only_when_formatted(tmp_path):
    cells = [
        h.number("A1", 43831, style=h.DATE_STYLE),
        h.number("B1", 43831),
        h.number("C1", 43831.5, style=1),
    ]
    path = h.workbook(tmp_path / "dates.xlsx", [h.row(1, *cells)])
    [(_, values)] = list(iter_rows(path))
    assert values[0] in (date(2020, 1, 1), datetime(2020, 1, 1))
    assert values[1] == 43831.0
    assert [cell_text(v) for v in values] == ["2020-01-01", "43831", "2020-01-01 12:00:00"]


def test_a_numeric_id_cell_stays_a_number_for_validation(tmp_path):
    path = h.workbook(
        tmp_path / "id.xlsx", [h.row(1, h.number("A1", "3.60426199101E+17"), h.text("B1", " 3604 "))]
    )
    [(_, [number, text])] = list(iter_rows(path))
    assert number == 3.60426199101e17 and is_numeric_cell(number) and not is_numeric_cell(text)
    assert cell_text(number) == "360426199101000000"
    with pytest.raises(IdValidationError) as caught:
        normalize_id_text(number)
    assert caught.value.code == "numeric_cell"


def test_row_numbers_and_columns_keep_their_place(tmp_path):
    rows = [h.row(10, h.text("C10", "a")), h.row(12, h.text("D12", "b"))]
    path = h.workbook(tmp_path / "gaps.xlsx", rows)
    assert list(iter_rows(path)) == [(10, ["", "", "a", ""]), (12, ["", "", "", "b"])]


def test_openpyxl_variant_reads_the_same_rows(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet["A1"], sheet["B3"], sheet["C3"], sheet["A4"] = "花名册", "张三", 12, date(2020, 1, 2)
    book.save(tmp_path / "openpyxl.xlsx")

    def texts(rows):
        return [(n, [cell_text(v) for v in cells if cell_text(v)]) for n, cells in rows]

    path = tmp_path / "openpyxl.xlsx"
    assert (
        texts(iter_rows(path))
        == texts(iter_rows_openpyxl(path))
        == [
            (1, ["花名册"]),
            (3, ["张三", "12"]),
            (4, ["2020-01-02"]),
        ]
    )


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        ("  张三 ", "张三"),
        (5.0, "5"),
        (0.1 + 0.2, "0.3"),
        (-3.0, "-3"),
        (True, "TRUE"),
        (datetime(2020, 1, 2, 3, 4, 5), "2020-01-02 03:04:05"),
        (datetime(2020, 1, 2), "2020-01-02"),
        (date(2020, 1, 2), "2020-01-02"),
        (time(8, 30), "08:30:00"),
    ],
)
def test_cell_text(value, text):
    assert cell_text(value) == text


def test_is_numeric_cell():
    assert [is_numeric_cell(v) for v in (1, 1.5, True, "1", date(2020, 1, 1))] == [
        True,
        True,
        False,
        False,
        False,
    ]


# --- header ------------------------------------------------------------------------------------------

COLUMNS = [
    Column("name", "姓名", ("户主姓名",), required=True),
    Column("id_number", "身份证号", ("身份证号码", "证件号码", "公民身份号码"), required=True),
    Column("gender", "性别"),
    Column("phone", "联系电话", ("电话",)),
]


def numbered(*rows):
    return list(enumerate(rows, start=1))


def test_finds_the_header_below_title_rows():
    rows = numbered(
        ["某某乡花名册"],
        ["填报单位：某某乡", "", "日期"],
        ["序号", "姓名", "身份证号", "性别"],
        ["1", "张三"],
    )
    row, mapping = find_header(rows, COLUMNS)
    assert row == mapping.row == 3
    assert mapping.columns == {"name": 1, "id_number": 2, "gender": 3}
    assert mapping.unknown == (("A", "序号"),)


@pytest.mark.parametrize(
    "header",
    [
        ["公民身份号码", "电话", "户主姓名"],
        ["＊身份证号（必填）：", " 联系电话 ", "姓　名"],
        ["身 份 证 号 码", "联系电话(手机)", "*姓名:"],
        ["【必填】证件号码", "电话【选填】", "姓名（户主）"],
    ],
)
def test_maps_columns_by_normalised_name_in_any_order(header):
    _, mapping = find_header(numbered(header), COLUMNS)
    assert mapping.columns == {"id_number": 0, "phone": 1, "name": 2}
    assert mapping.pick(["360426199101010071", "138", "张三"]) == {
        "id_number": "360426199101010071",
        "phone": "138",
        "name": "张三",
    }


def test_names_missing_required_columns():
    with pytest.raises(HeaderError) as caught:
        find_header(numbered(["标题"], ["姓名", "性别"]), COLUMNS)
    assert caught.value.code == "missing_columns"
    assert "“身份证号”" in caught.value.message and "row 2" in caught.value.message


def test_names_duplicate_columns():
    with pytest.raises(HeaderError) as caught:
        find_header(numbered(["姓名", "身份证号", "性别", "身份证号码"]), COLUMNS)
    assert caught.value.code == "duplicate_columns"
    assert "B, D" in caught.value.message and "身份证号" in caught.value.message


def test_refuses_a_sheet_without_a_header():
    with pytest.raises(HeaderError) as caught:
        find_header(numbered(*[["张三", "男"]] * 30), COLUMNS, look_at=20)
    assert caught.value.code == "no_header"
    assert "20 rows" in caught.value.message and "“姓名”" in caught.value.message


def test_a_header_past_the_rows_looked_at_is_not_found():
    rows = numbered(*[["标题"]] * 5, ["姓名", "身份证号"])
    with pytest.raises(HeaderError):
        find_header(rows, COLUMNS, look_at=5)


def test_split_header_streams_the_rows_below_it():
    rows = iter(numbered(["标题"], ["姓名", "身份证号"], *[[f"张{i}", "x"] for i in range(30)]))
    mapping, data = split_header(rows, COLUMNS)
    numbers = [n for n, _ in data]
    assert mapping.row == 2 and numbers == list(range(3, 33))


def test_conflicting_synonyms_are_a_programming_error():
    with pytest.raises(ValueError, match="电话"):
        find_header(numbered(["姓名"]), [Column("a", "电话"), Column("b", "手机", ("电话",))])


@pytest.mark.parametrize(
    ("text", "name"),
    [("＊身份证号（必填）：", "身份证号"), ("姓\u3000名", "姓名"), ("ＩＤ（（a）b）", "id"), (12, "12")],
)
def test_normalize_header(text, name):
    assert normalize_header(text) == name


@given(st.text())
def test_normalize_header_is_idempotent(text):
    assert normalize_header(normalize_header(text)) == normalize_header(text)


@given(st.permutations(["序号", "姓名", "身份证号码", "性别", "电话", "备注"]))
def test_any_order_of_columns_maps_to_the_same_keys(header):
    _, mapping = find_header(numbered(["花名册"], header), COLUMNS)
    assert {key: header[index] for key, index in mapping.columns.items()} == {
        "name": "姓名",
        "id_number": "身份证号码",
        "gender": "性别",
        "phone": "电话",
    }
    assert sorted(text for _, text in mapping.unknown) == ["备注", "序号"]
