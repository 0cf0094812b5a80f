"""The work ledger (工作台帐) of an area for a year, laid out like an official statistics table: a summary
sheet of every target, then one sheet per measure with the areas below in rows and, for each benefit type
of the measure, its target, what was achieved and the completion under one merged header. Read from the
roll-up tables only."""

from collections.abc import Sequence
from io import BytesIO

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from programs.models import BenefitType, Measure

from .selectors import AreaProgress

THIN = Side(style="thin", color="808080")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEAD = PatternFill("solid", fgColor="EDEDED")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _text(value: str) -> str:
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _title(sheet, text: str, subtitle: str, width: int) -> None:
    sheet.append([text])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    sheet.cell(1, 1).font = Font(size=15, bold=True)
    sheet.cell(1, 1).alignment = CENTER
    sheet.row_dimensions[1].height = 28
    sheet.append([subtitle])
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
    sheet.cell(2, 1).alignment = Alignment(horizontal="right")


def _head(sheet, row: int, column: int, value: str, *, rows: int = 1, columns: int = 1) -> None:
    sheet.cell(row, column, value)
    if rows > 1 or columns > 1:
        sheet.merge_cells(
            start_row=row, start_column=column, end_row=row + rows - 1, end_column=column + columns - 1
        )
    for r in range(row, row + rows):
        for c in range(column, column + columns):
            cell = sheet.cell(r, c)
            cell.font, cell.fill, cell.border, cell.alignment = Font(bold=True), HEAD, BOX, CENTER


def _boxed(sheet, row: int) -> None:
    for cell in sheet[row]:
        cell.border = BOX


def ledger_workbook(progress: AreaProgress) -> bytes:
    area, year = progress.area, progress.year
    when = (
        timezone.localtime(progress.computed_at).strftime("%Y-%m-%d %H:%M") if progress.computed_at else "—"
    )
    subtitle = _("Area: %(area)s    Computed at: %(when)s") % {"area": area.name, "when": when}
    types = {t.code: t for t in BenefitType.objects.select_related("measure")}
    own = {row.benefit_type: row for row in progress.rows}
    book = Workbook()

    summary = book.active
    summary.title = _("Summary")
    _title(summary, _("%(area)s %(year)s work ledger of poverty relief for disabled people")
           % {"area": area.name, "year": year}, subtitle, 7)  # fmt: skip
    for column, label in enumerate(
        [
            _("No."),
            _("Measure"),
            _("Benefit type"),
            _("Target"),
            _("Achieved"),
            _("Completion"),
            _("Amount (yuan)"),
        ],
        start=1,
    ):
        _head(summary, 3, column, label)
    number = 0
    for code in [None, *sorted(c for c in own if c)]:
        row = own.get(code)
        if row is None:
            continue
        number += 1
        benefit = types.get(code)
        summary.append([
            number, benefit.measure.short_name if benefit else "—",
            benefit.name if benefit else _("People out of poverty"),
            row.target, row.achieved_for_target, row.completion, row.amount,
        ])  # fmt: skip
        _boxed(summary, summary.max_row)
        summary.cell(summary.max_row, 6).number_format = "0.0%"
        summary.cell(summary.max_row, 7).number_format = "#,##0.00"
    for letter, width in zip("ABCDEFG", (6, 18, 34, 12, 12, 10, 16), strict=True):
        summary.column_dimensions[letter].width = width
    summary.freeze_panes = "A4"

    children = _by_area(progress.children)
    for measure in Measure.objects.order_by("code"):
        codes = sorted(c for c in own if c and types[c].measure_id == measure.code)
        if not codes:
            continue
        sheet = book.create_sheet(f"{measure.code} {measure.short_name}"[:31])
        width = 2 + 3 * len(codes)
        _title(sheet, f"{area.name} {year}年 {measure.code} {measure.name}", subtitle, width)
        _head(sheet, 3, 1, _("No."), rows=2)
        _head(sheet, 3, 2, _("Area"), rows=2)
        for i, code in enumerate(codes):
            column = 3 + 3 * i
            _head(sheet, 3, column, types[code].name, columns=3)
            for j, label in enumerate((_("Target"), _("Achieved"), _("Completion"))):
                _head(sheet, 4, column + j, label)
        for number, (name, rows) in enumerate([(_("%(area)s (total)") % {"area": area.name}, own),
                                                *children], start=1):  # fmt: skip
            values = [number, _text(name)]
            for code in codes:
                row = rows.get(code)
                values += [row.target, row.achieved_for_target, row.completion] if row else [None, 0, None]
            sheet.append(values)
            _boxed(sheet, sheet.max_row)
            for i in range(len(codes)):
                sheet.cell(sheet.max_row, 5 + 3 * i).number_format = "0.0%"
        sheet.column_dimensions["A"].width = 6
        sheet.column_dimensions["B"].width = 22
        for column in range(3, width + 1):
            sheet.column_dimensions[get_column_letter(column)].width = 11
        sheet.row_dimensions[3].height = 36
        sheet.freeze_panes = "C5"
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _by_area(rows: Sequence) -> list[tuple[str, dict]]:
    areas: dict[str, tuple[str, dict]] = {}
    for row in rows:
        areas.setdefault(row.area_code, (row.area_name, {}))[1][row.benefit_type] = row
    return [areas[code] for code in sorted(areas)]
