"""Dashboard tables as workbooks: a title row, a header, the area's own row, then the areas below."""

from collections.abc import Sequence
from datetime import datetime
from io import BytesIO

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

THIN = Side(style="thin", color="999999")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEAD = PatternFill("solid", fgColor="F2F2F2")


def _text(value: str) -> str:
    # Area names come from the area tree; still, never hand Excel a formula.
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def progress_table_workbook(
    *, title: str, own: Sequence, children: Sequence, computed_at: datetime | None
) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = _("Progress table")[:31]
    headers = [
        _("No."), _("Area"), _("Target"), _("Split further down"), _("Achieved"),
        _("Achieved against the target"), _("Completion"), _("Households reached"), _("Amount (yuan)"),
    ]  # fmt: skip
    sheet.append([title])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    sheet["A1"].font = Font(size=14, bold=True)
    sheet["A1"].alignment = Alignment(horizontal="center")
    when = timezone.localtime(computed_at).strftime("%Y-%m-%d %H:%M") if computed_at else _("never")
    sheet.append([_("Computed at %(when)s") % {"when": when}])
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(headers))
    sheet.append(headers)
    for cell in sheet[3]:
        cell.font, cell.fill, cell.border = Font(bold=True), HEAD, BOX
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for number, row in enumerate([*own, *children], start=1):
        label = _text(row.area_name) if number > len(own) else f"{_text(row.area_name)}（{_('total')}）"
        sheet.append([
            number, label, row.target, row.allocated, row.achieved, row.achieved_for_target,
            row.completion, row.households, row.amount,
        ])  # fmt: skip
        for cell in sheet[sheet.max_row]:
            cell.border = BOX
        sheet.cell(sheet.max_row, 7).number_format = "0.0%"
        sheet.cell(sheet.max_row, 9).number_format = "#,##0.00"
    for letter, width in zip("ABCDEFGHI", (6, 22, 10, 12, 10, 14, 10, 10, 14), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "C4"
    out = BytesIO()
    book.save(out)
    return out.getvalue()
