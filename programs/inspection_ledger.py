"""The rectification ledger as an .xlsx (督查整改台帐): a title, a two-row header with merged group cells,
one row per rectification item, overdue items filled light red."""

from collections.abc import Iterable
from datetime import date
from io import BytesIO
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from beneficiaries.roster_workbooks import FORMULA_TRIGGERS

from .inspections import area_label, is_overdue
from .models import InspectionKind, Rectification, RectificationStatus

TITLE_ROW, SUBTITLE_ROW, GROUP_ROW, HEADER_ROW = 1, 2, 3, 4
FIRST_DATA_ROW = 5
THIN = Side(style="thin", color="808080")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
OVERDUE_FILL = PatternFill("solid", fgColor="FFC7CE")  # Excel's "light red fill"
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
WRAP = Alignment(vertical="top", wrap_text=True)
TOP = Alignment(horizontal="center", vertical="top")
DATE_FORMAT = "yyyy-mm-dd"
TEXT_FORMAT = "@"
MAX_CELL_TEXT = 32_000


def _columns() -> list[tuple[str, int]]:
    """(header, width) of each column, in order."""
    return [
        (_("No."), 6),
        (_("Inspection date"), 12),
        (_("Inspection type"), 10),
        (_("Inspection team"), 18),
        (_("Area"), 14),
        (_("Problem found"), 36),
        (_("Rectification item"), 36),
        (_("Responsible unit"), 16),
        (_("Deadline"), 12),
        (_("Rectification status"), 10),
        (_("Progress"), 36),
        (_("Closed by"), 10),
        (_("Closed at"), 12),
    ]


def _groups() -> list[tuple[str, int, int]]:
    """(label, first column, last column) of the merged cells above the headers."""
    return [
        (_("Inspection"), 2, 6),
        (_("Rectification"), 7, 11),
        (_("Closing"), 12, 13),
    ]


def ledger_title(area_name: str) -> str:
    return _("%(area)s inspection and rectification ledger of poverty relief for disabled people") % {
        "area": area_name
    }


def text_cell(cell: Cell, value: str) -> Cell:
    """Text stays text: a string cell, and one that would start a formula gets `quotePrefix` and the text
    format (see beneficiaries.roster_workbooks for why this and not an apostrophe in the value)."""
    value = ILLEGAL_CHARACTERS_RE.sub("", value)[:MAX_CELL_TEXT]
    cell.value = value
    cell.data_type = "s"  # openpyxl takes "=..." for a formula
    if value.startswith(FORMULA_TRIGGERS):
        cell.quotePrefix = True
        cell.number_format = TEXT_FORMAT
    return cell


def _row(number: int, item: Rectification, kinds: dict, statuses: dict) -> list[Any]:
    inspection = item.finding.inspection
    closed = item.status == RectificationStatus.CLOSED
    return [
        number,
        inspection.date,
        kinds[inspection.kind],
        inspection.team,
        area_label(item.area),
        item.finding.description,
        item.issue,
        item.responsible_unit,
        item.deadline,
        statuses[item.status],
        item.closing_note if closed else item.progress_note,
        str(item.closed_by) if item.closed_by_id else "",
        timezone.localtime(item.closed_at).date() if item.closed_at else None,
    ]


def _lay_out(sheet: Worksheet, title: str, subtitle: str) -> None:
    columns = _columns()
    last = get_column_letter(len(columns))
    for index, (_label, width) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    text_cell(sheet.cell(TITLE_ROW, 1), title).font = Font(bold=True, size=16)
    sheet.cell(TITLE_ROW, 1).alignment = Alignment(horizontal="center", vertical="center")
    text_cell(sheet.cell(SUBTITLE_ROW, 1), subtitle).alignment = Alignment(vertical="center")
    sheet.merge_cells(f"A{TITLE_ROW}:{last}{TITLE_ROW}")
    sheet.merge_cells(f"A{SUBTITLE_ROW}:{last}{SUBTITLE_ROW}")
    # The number spans both header rows; the others sit under their group.
    for index, (label, _width) in enumerate(columns, start=1):
        row = GROUP_ROW if index == 1 else HEADER_ROW
        text_cell(sheet.cell(row, index), label)
    for label, first, end in _groups():
        text_cell(sheet.cell(GROUP_ROW, first), label)
        sheet.merge_cells(start_row=GROUP_ROW, start_column=first, end_row=GROUP_ROW, end_column=end)
    sheet.merge_cells(start_row=GROUP_ROW, start_column=1, end_row=HEADER_ROW, end_column=1)
    for row in (GROUP_ROW, HEADER_ROW):
        for index in range(1, len(columns) + 1):
            cell = sheet.cell(row, index)
            cell.font, cell.fill, cell.border, cell.alignment = Font(bold=True), HEADER_FILL, BORDER, CENTER
    sheet.row_dimensions[TITLE_ROW].height = 32
    sheet.freeze_panes = f"B{FIRST_DATA_ROW}"
    sheet.print_title_rows = f"{GROUP_ROW}:{HEADER_ROW}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True


def ledger_workbook(items: Iterable[Rectification], *, area_name: str, subtitle: str = "") -> bytes:
    """The workbook of these items, in the order given. Dates are dates, text is text."""
    kinds = {value: str(label) for value, label in InspectionKind.choices}
    statuses = {value: str(label) for value, label in RectificationStatus.choices}
    today = timezone.localdate()
    book = Workbook()
    sheet = book.active
    sheet.title = _("Rectification ledger")[:31]
    legend = _("Rows filled light red are overdue: not closed and past their deadline.")
    exported = _("Exported %(date)s.") % {"date": today.isoformat()}
    _lay_out(sheet, ledger_title(area_name), " ".join(part for part in (subtitle, exported, legend) if part))
    row = FIRST_DATA_ROW - 1
    for row, item in enumerate(items, start=FIRST_DATA_ROW):
        overdue = is_overdue(item, today)
        for column, value in enumerate(_row(row - FIRST_DATA_ROW + 1, item, kinds, statuses), start=1):
            cell = sheet.cell(row, column)
            if isinstance(value, str):
                text_cell(cell, value)
                cell.alignment = WRAP
            else:
                cell.value = value
                cell.alignment = TOP
                if isinstance(value, date):
                    cell.number_format = DATE_FORMAT
            cell.border = BORDER
            if overdue:
                cell.fill = OVERDUE_FILL
    sheet.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(len(_columns()))}{max(row, HEADER_ROW)}"
    out = BytesIO()
    book.save(out)
    return out.getvalue()
