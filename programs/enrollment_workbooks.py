"""The enrolment sheet (受益记录批量导入表) as Excel: its columns, the county's blank template with drop-down
lists, and the error workbook that hands the bad rows back (the roster's, with these columns).

The column list serves the template, the upload's column mapping and the error workbook, so a column
renamed here is renamed everywhere.
"""

import math
from decimal import Decimal
from io import BytesIO

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from areas.models import Area, AreaLevel
from beneficiaries.roster_columns import RosterColumn
from beneficiaries.roster_workbooks import (
    BORDER,
    CENTER,
    HEADER_FILL,
    HEADER_FONT,
    REQUIRED_FONT,
    TEXT_FORMAT,
    TITLE_FONT,
    WRAP,
)
from beneficiaries.roster_workbooks import error_workbook as roster_error_workbook

from .enrollments import MAX_AMOUNT, YEARS
from .models import BenefitType, Facility, Unit

ENROLLMENT_COLUMNS: tuple[RosterColumn, ...] = (
    RosterColumn("row_number", "序号", ("编号", "序"), width=6),
    RosterColumn("name", "姓名", ("残疾人姓名", "受益人姓名"), required=True, width=10),
    RosterColumn(
        "id_number",
        "身份证号",
        ("身份证号码", "证件号码", "公民身份号码", "身份证"),
        required=True,
        text=True,
        width=22,
    ),
    RosterColumn(
        "benefit_type",
        "项目",
        ("受益项目", "项目名称", "扶持项目", "补贴项目", "救助项目", "项目代码", "受益类型"),
        required=True,
        width=30,
    ),
    RosterColumn("year", "年度", ("年份", "受益年度", "年"), required=True, width=8),
    RosterColumn("start_date", "开始日期", ("起始日期", "开始时间", "享受日期", "受益日期"), width=12),
    RosterColumn("end_date", "结束日期", ("截止日期", "终止日期", "结束时间"), width=12),
    RosterColumn("amount", "金额（元）", ("金额", "补贴金额", "发放金额", "资助金额"), width=12),
    RosterColumn(
        "facility", "机构名称", ("机构", "基地名称", "服务机构", "就业机构", "托养机构", "基地"), width=24
    ),
    RosterColumn("note", "备注", ("说明",), width=20),
)

TITLE_ROW, SUBTITLE_ROW, HEADER_ROW, FIRST_DATA_ROW = 1, 2, 3, 4
TEMPLATE_ROWS = 2000
DATE_FORMAT = "yyyy-mm-dd"


def enrollment_title(county_name: str) -> str:
    return _("%(county)s enrolments to record") % {"county": county_name}


def unit_word(unit: str) -> str:
    return {
        Unit.PERSON: _("a person"),
        Unit.HOUSEHOLD: _("the person's household"),
        Unit.INSTITUTION: _("an institution"),
        Unit.BASE: _("a base"),
    }[unit]


def _column_number(key: str) -> int:
    return next(index for index, column in enumerate(ENROLLMENT_COLUMNS, 1) if column.key == key)


def _letter(key: str) -> str:
    return get_column_letter(_column_number(key))


def _data_range(key: str) -> str:
    letter = _letter(key)
    return f"{letter}{FIRST_DATA_ROW}:{letter}{FIRST_DATA_ROW + TEMPLATE_ROWS - 1}"


def _validation(kind: str, formula1: str, formula2: str | None = None, **messages) -> DataValidation:
    options = {"operator": "between"} if formula2 is not None else {}
    return DataValidation(
        type=kind,
        formula1=formula1,
        formula2=formula2,
        allow_blank=True,
        showErrorMessage=True,
        **options,
        **messages,
    )


def enrollment_template(county_code: str) -> bytes:
    """The county's blank enrolment sheet: drop-down lists of the benefit types, years and the county's
    facilities; the ID column as text, the date columns as dates; an instructions sheet.

    Raises Area.DoesNotExist if `county_code` is not a county.
    """
    county = Area.objects.get(code=county_code, level=AreaLevel.COUNTY)
    types = list(BenefitType.objects.filter(is_active=True).order_by("code"))
    facilities = list(
        Facility.objects.filter(county_code=county.code, is_active=True)
        .order_by("name")
        .values_list("name", flat=True)
    )

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Enrolments")
    last = get_column_letter(len(ENROLLMENT_COLUMNS))
    for row in (TITLE_ROW, SUBTITLE_ROW):
        sheet.merge_cells(f"A{row}:{last}{row}")
    title = sheet.cell(TITLE_ROW, 1, enrollment_title(county.name))
    title.font, title.alignment = TITLE_FONT, Alignment(horizontal="center", vertical="center")
    sheet.cell(SUBTITLE_ROW, 1, _("Reporting unit: ____________    Date: ____________"))
    sheet.row_dimensions[TITLE_ROW].height = sheet.row_dimensions[HEADER_ROW].height = 30
    for index, column in enumerate(ENROLLMENT_COLUMNS, 1):
        cell = sheet.cell(HEADER_ROW, index, column.label)
        cell.font = REQUIRED_FONT if column.required else HEADER_FONT
        cell.fill, cell.border, cell.alignment = HEADER_FILL, BORDER, CENTER
        dimension = sheet.column_dimensions[get_column_letter(index)]
        dimension.width = column.width
        number_format = (
            TEXT_FORMAT
            if column.text
            else DATE_FORMAT
            if column.key in ("start_date", "end_date")
            else "0.00"
            if column.key == "amount"
            else None
        )
        if number_format:
            dimension.number_format = number_format
            for row in range(FIRST_DATA_ROW, FIRST_DATA_ROW + TEMPLATE_ROWS):
                sheet.cell(row, index).number_format = number_format
    sheet.freeze_panes = f"A{FIRST_DATA_ROW}"
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    sheet.page_setup.orientation = "landscape"

    _write_instructions(workbook.create_sheet(_("Instructions")), county.name, types, facilities)

    # The lists live on a hidden sheet: Excel refuses a literal list longer than 255 characters.
    options = workbook.create_sheet(_("Options"))
    options.sheet_state = "hidden"
    lists = {"benefit_type": [t.name for t in types], "facility": facilities}
    for index, (key, names) in enumerate(lists.items(), 1):
        options.cell(1, index, ENROLLMENT_COLUMNS[_column_number(key) - 1].label)
        for row, name in enumerate(names, 2):
            options.cell(row, index, name)
        if names:
            letter = get_column_letter(index)
            source = f"{quote_sheetname(options.title)}!${letter}$2:${letter}${len(names) + 1}"
            # Codes are accepted too: the list warns instead of refusing what is not in it.
            validation = _validation(
                "list",
                source,
                errorStyle="warning" if key == "benefit_type" else "stop",
                errorTitle=_("Not in the list"),
                error=_("Choose a value from the drop-down list."),
            )
            validation.add(_data_range(key))
            sheet.add_data_validation(validation)
    years = _validation(
        "list",
        '"' + ",".join(str(year) for year in YEARS) + '"',
        errorTitle=_("Not a valid year"),
        error=_("Enter a year from %(first)s to %(last)s.") % {"first": YEARS[0], "last": YEARS[-1]},
    )
    years.add(_data_range("year"))
    sheet.add_data_validation(years)
    amount = _validation(
        "decimal",
        "0",
        str(MAX_AMOUNT - Decimal("0.01")),
        errorTitle=_("Not a valid amount"),
        error=_("Enter the amount in yuan, from 0 to 999999.99, with at most two decimals."),
    )
    amount.add(_data_range("amount"))
    sheet.add_data_validation(amount)

    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _write_instructions(sheet: Worksheet, county_name: str, types: list, facilities: list[str]) -> None:
    sheet.column_dimensions["A"].width = 22
    sheet.column_dimensions["B"].width = 18
    sheet.column_dimensions["C"].width = 80
    sheet.cell(1, 1, _("How to fill in the enrolment sheet")).font = TITLE_FONT
    general = [
        _(
            "One row for each thing a person received in a year: a person with the living and the nursing "
            "subsidy takes two rows."
        ),
        _(
            "The person is found by the ID number in the registry of %(county)s: register people first "
            "(the roster upload). A person registered in another county is recorded by that county."
        )
        % {"county": county_name},
        _(
            "Each row is checked as one application: the fields, whether the person already has the "
            "benefit that year, and the eligibility rules. A row whose rules fail is not saved: a bulk "
            "upload never makes exceptions; a county supervisor approves exceptions one by one."
        ),
        _(
            "Saved rows are applications: a county supervisor approves them on the enrolment pages. "
            "Uploading the same file again changes nothing."
        ),
        _("Columns with a red header are required."),
        _("Do not change, move or delete the header row; do not merge cells or add a total row."),
        _(
            "ID numbers are formatted as text. Never paste an ID number that Excel shows as a number (such "
            "as 3.60781E+17): its last digits are already lost."
        ),
    ]
    row = 3
    for number, rule in enumerate(general, 1):
        sheet.cell(row, 1, number).alignment = Alignment(horizontal="right", vertical="top")
        sheet.merge_cells(start_row=row, start_column=2, end_row=row, end_column=3)
        sheet.cell(row, 2, rule).alignment = WRAP
        sheet.row_dimensions[row].height = 15 * max(1, math.ceil(len(rule) / 60))
        row += 1

    row = _table(
        sheet,
        row + 1,
        (_("Column"), _("Required?"), _("How to fill it in")),
        [
            (column.label, _("Required") if column.required else _("Optional"), rule)
            for column, rule in zip(ENROLLMENT_COLUMNS, _column_rules(facilities), strict=True)
        ],
    )
    _table(
        sheet,
        row + 1,
        (_("Benefit type"), _("Code"), _("Recorded for")),
        [(t.name, t.code, unit_word(t.unit)) for t in types],
    )


def _table(sheet: Worksheet, row: int, headings: tuple, lines: list[tuple]) -> int:
    for index, heading in enumerate(headings, 1):
        cell = sheet.cell(row, index, heading)
        cell.font, cell.fill, cell.border, cell.alignment = HEADER_FONT, HEADER_FILL, BORDER, CENTER
    for values in lines:
        row += 1
        for index, value in enumerate(values, 1):
            cell = sheet.cell(row, index, value)
            cell.border, cell.alignment = BORDER, WRAP
        sheet.row_dimensions[row].height = 15 * max(1, math.ceil(len(str(values[-1])) / 60))
    return row + 1


def _column_rules(facilities: list[str]) -> list[str]:
    return [
        _("A running number (1, 2, 3 …) for your own reference."),
        _(
            "The person's name as in the registry. Leave it empty for an institution or base "
            "(then fill in the facility)."
        ),
        _(
            "18 characters: 17 digits, then a digit or a capital X. Leave it empty for an institution or "
            "base."
        ),
        _(
            "Choose from the list (the table below), or write the code. Household benefits are recorded "
            "for the household of the person on the row."
        ),
        _("The year the benefit belongs to (%(first)s to %(last)s); a new year is a new row.")
        % {"first": YEARS[0], "last": YEARS[-1]},
        _("A date in the year, such as 2018-03-01; empty means 1 January of the year."),
        _("Optional: a date in the year, not before the start date."),
        _("In yuan, at most two decimals, such as 1200.50; may be empty."),
        _(
            "Required for an institution or base benefit; for a person, the facility that serves them, "
            "if any. Choose from the county's facilities."
        )
        if facilities
        else _(
            "Required for an institution or base benefit: a facility registered on the county's "
            "facility pages (none is registered yet)."
        ),
        _("At most 200 characters."),
    ]


def enrollment_error_workbook(**rows_and_errors) -> bytes:
    return roster_error_workbook(**rows_and_errors, columns=ENROLLMENT_COLUMNS)
