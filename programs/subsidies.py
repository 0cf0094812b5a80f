"""The monthly list of the two subsidies (两项补贴发放名册): who is paid the living subsidy and the nursing
subsidy in a county in a month, and how much.

An enrolment is on a month's list when it belongs to the month's year (an enrolment is for one year: with
no end date it runs to the year's end; the next year is a record of its own), is approved, on the roll or
stopped; it started by the month's last day and had not ended before its first day; and its person was
active, or left (died, moved out) on or after the month's first day, so a person who died in March is paid
for March and not for April. The amount is the standard of the month's year for the person's disability
level, else the standard for all levels; without one the row says so and the totals leave it out. The
whole list is one query.
"""

import calendar
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from io import BytesIO

from django.db.models import OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from areas.models import Area, AreaLevel
from beneficiaries.choices import DisabilityCategory, DisabilityLevel
from beneficiaries.models import LifeStatus
from beneficiaries.roster_columns import CATEGORY_WORDS, LEVEL_WORDS
from beneficiaries.roster_workbooks import FORMULA_TRIGGERS
from beneficiaries.selectors import mask_id_number

from .models import ACHIEVED_STATUSES, Enrollment, Standard, Unit

LIVING, NURSING = "M03-LIVING", "M03-NURSING"
SUBSIDY_TYPES = (LIVING, NURSING)
NOT_SET = "标准未设定"

CATEGORY_WORD = {number: f"{word}残疾" for word, number in CATEGORY_WORDS.items()}
LEVEL_WORD = {number: word for word, number in LEVEL_WORDS.items()}


#: Reading the list means reading people and what they receive.
READ = ("programs.view_enrollment", "beneficiaries.view_person")
MONTH = re.compile(r"(\d{4})-(\d{1,2})")
FIRST_YEAR, LAST_YEAR = 2014, 2100


def parse_month(raw: str | None) -> tuple[int, int] | None:
    """`2018-03` as (2018, 3); None for anything that is not a month."""
    match = MONTH.fullmatch((raw or "").strip())
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    return (year, month) if FIRST_YEAR <= year <= LAST_YEAR and 1 <= month <= 12 else None


def visible_county(user, code: str | None) -> Area | None:
    """The county whose list the user asks for: a county user's own; above a county, one of theirs
    (another area's county is a 404); None when nothing is chosen yet."""
    if user.area.level == AreaLevel.COUNTY:
        if code and code != user.area.code:
            raise Http404
        return user.area
    if not code:
        return None
    county = Area.objects.visible_to(user).counties().filter(code=code).first()
    if county is None:
        raise Http404
    return county


def month_bounds(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


@dataclass(frozen=True)
class SubsidyRow:
    number: int
    enrollment_id: int
    person_id: int
    township_code: str
    township: str
    village_code: str
    village: str
    name: str
    id_number: str
    disability_category: int
    disability_level: int
    benefit_type: str
    benefit_name: str
    amount: Decimal | None  # None: no standard for the type, year and level

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def category_word(self) -> str:
        return CATEGORY_WORD.get(self.disability_category, str(self.disability_category))

    @property
    def level_word(self) -> str:
        return LEVEL_WORD.get(self.disability_level, str(self.disability_level))

    @property
    def category_label(self) -> str:
        return str(DisabilityCategory(self.disability_category).label)

    @property
    def level_label(self) -> str:
        return str(DisabilityLevel(self.disability_level).label)


@dataclass
class TypeTotal:
    benefit_type: str
    name: str
    people: int = 0
    priced: int = 0  # rows with a standard amount
    amount: Decimal = Decimal("0.00")
    levels_without_standard: set[int] = field(default_factory=set)

    @property
    def unpriced(self) -> int:
        return self.people - self.priced


@dataclass
class SubsidyList:
    county_code: str
    county_name: str
    year: int
    month: int
    rows: list[SubsidyRow]
    totals: list[TypeTotal]

    @property
    def amount(self) -> Decimal:
        return sum((t.amount for t in self.totals), Decimal("0.00"))

    @property
    def missing(self) -> list[TypeTotal]:
        """The types some rows of which have no standard amount: the page warns about each."""
        return [t for t in self.totals if t.unpriced]

    @property
    def title(self) -> str:
        return subsidy_title(self.county_name, self.year, self.month)

    @property
    def filename(self) -> str:
        return _("%(county)s %(year)s-%(month)s list of the two subsidies.xlsx") % {
            "county": self.county_name,
            "year": self.year,
            "month": self.month,
        }


def subsidy_title(county_name: str, year: int, month: int) -> str:
    return _(
        "%(county)s %(year)s-%(month)s monthly list of living subsidies for people with disabilities in "
        "need and nursing subsidies for people with severe disabilities"
    ) % {"county": county_name, "year": year, "month": month}


def _standard(year: int, level_lookup: Q) -> Subquery:
    return Subquery(
        Standard.objects.filter(level_lookup, benefit_type_id=OuterRef("benefit_type_id"), year=year).values(
            "amount"
        )[:1]
    )


def _area_name(code_field: str) -> Subquery:
    return Subquery(Area.objects.filter(code=OuterRef(code_field)).values("name")[:1])


def monthly_subsidy_list(county_code: str, year: int, month: int, *, user) -> SubsidyList:
    """The county's list for the month, as `user` may see it (another area's county is an empty list)."""
    first, last = month_bounds(year, month)

    enrolments = (
        Enrollment.objects.visible_to(user)
        .filter(
            county_code=county_code,
            benefit_type_id__in=SUBSIDY_TYPES,
            year=year,
            recipient_unit=Unit.PERSON,
            status__in=ACHIEVED_STATUSES,
            start_date__lte=last,
        )
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=first))
        .filter(Q(person__life_status=LifeStatus.ACTIVE) | Q(person__life_status_date__gte=first))
        .annotate(
            standard_amount=Coalesce(
                _standard(year, Q(disability_level=OuterRef("person__disability_level"))),
                _standard(year, Q(disability_level__isnull=True)),
            ),
            township_name=_area_name("township_code"),
            village_name=_area_name("village_code"),
        )
        .order_by(
            "township_code", "village_code", "person__name", "person_id", "benefit_type_id", "-year", "-id"
        )
        .values_list(
            "id",
            "person_id",
            "township_code",
            "township_name",
            "village_code",
            "village_name",
            "person__name",
            "person__id_number",
            "person__disability_category",
            "person__disability_level",
            "benefit_type_id",
            "benefit_type__name",
            "standard_amount",
        )  # fmt: skip
    )
    return _assemble(county_code, year, month, enrolments)


def _assemble(county_code: str, year: int, month: int, records: Iterable[tuple]) -> SubsidyList:
    totals: dict[str, TypeTotal] = {}
    rows: list[SubsidyRow] = []
    seen: set[tuple[int, str]] = set()
    for record in records:
        (pk, person_id, township_code, township, village_code, village, name, id_number, category, level,
         benefit_type, benefit_name, amount) = record  # fmt: skip
        if (person_id, benefit_type) in seen:
            continue  # two live years of one subsidy overlapping the month: paid once, the latest year's
        seen.add((person_id, benefit_type))
        rows.append(
            SubsidyRow(
                len(rows) + 1,
                pk,
                person_id,
                township_code,
                township or township_code,
                village_code,
                village or village_code,
                name,
                id_number,
                category,
                level,
                benefit_type,
                benefit_name,
                amount,
            )  # fmt: skip
        )
        total = totals.setdefault(benefit_type, TypeTotal(benefit_type, benefit_name))
        total.people += 1
        if amount is None:
            total.levels_without_standard.add(level)
        else:
            total.priced += 1
            total.amount += amount
    county_name = Area.objects.filter(code=county_code).values_list("name", flat=True).first() or county_code
    ordered = [totals[code] for code in SUBSIDY_TYPES if code in totals]
    return SubsidyList(county_code, county_name, year, month, rows, ordered)


# -- the workbook ---------------------------------------------------------------------------------------

# Column: (header, group header or None when the header spans both header rows, width).
COLUMNS = (
    ("序号", None, 6),
    ("乡镇", "户籍所在地", 14),
    ("村", "户籍所在地", 16),
    ("姓名", None, 10),
    ("身份证号", None, 22),
    ("残疾类别", "残疾情况", 10),
    ("残疾等级", "残疾情况", 10),
    ("补贴类型", "补贴发放", 26),
    ("月发放金额（元）", "补贴发放", 14),
)
THIN = Side(style="thin", color="808080")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
MONEY = "#,##0.00"
TEXT = "@"


def _text_cell(cell, value: str) -> None:
    """A string cell that no spreadsheet evaluates: never a formula, marked as text when it starts like
    one (the same defence as the registry export)."""
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell.value = value
    cell.data_type = "s"
    if value.startswith(FORMULA_TRIGGERS) or value in ERROR_CODES:
        cell.quotePrefix = True
        cell.number_format = TEXT


def subsidy_workbook(subsidies: SubsidyList, *, whole_numbers: bool, made_on: date) -> bytes:
    """The list as the county prints it: title, two header rows with groups merged, a row per person, then
    a total per subsidy and the grand total. ID numbers are whole only if `whole_numbers`."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = f"{subsidies.year}年{subsidies.month}月"
    width = len(COLUMNS)
    last = get_column_letter(width)
    _text_cell(sheet.cell(1, 1), subsidies.title)
    sheet.merge_cells(f"A1:{last}1")
    sheet.cell(1, 1).font = Font(bold=True, size=15)
    sheet.cell(1, 1).alignment = CENTER
    sheet.row_dimensions[1].height = 36
    _text_cell(
        sheet.cell(2, 1),
        f"填报单位：{subsidies.county_name}残疾人联合会（盖章）    制表日期：{made_on:%Y-%m-%d}",
    )
    sheet.merge_cells(f"A2:{last}2")
    _header(sheet)
    row = 5
    for item in subsidies.rows:
        values = (
            item.number, item.township, item.village, item.name,
            item.id_number if whole_numbers else item.masked_id_number,
            item.category_word, item.level_word, item.benefit_name,
        )  # fmt: skip
        for column, value in enumerate(values, 1):
            cell = sheet.cell(row, column)
            if isinstance(value, str):
                _text_cell(cell, value)
                if column == 5:
                    cell.number_format = TEXT
            else:
                cell.value = value
            cell.border = BORDER
        amount = sheet.cell(row, width)
        if item.amount is None:
            _text_cell(amount, NOT_SET)
        else:
            amount.value, amount.number_format = item.amount, MONEY
        amount.border = BORDER
        row += 1
    for total in subsidies.totals:
        note = f"{total.name}小计：{total.people}人"
        if total.unpriced:
            note += f"（其中{total.unpriced}人{NOT_SET}，未计入金额）"
        _total_row(sheet, row, note, total.amount)
        row += 1
    people = sum(t.people for t in subsidies.totals)
    _total_row(sheet, row, f"合计：{people}人次", subsidies.amount, bold=True)
    sheet.freeze_panes = "A5"
    sheet.print_title_rows = "3:4"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _header(sheet) -> None:
    for column, (header, group, width) in enumerate(COLUMNS, 1):
        letter = get_column_letter(column)
        sheet.column_dimensions[letter].width = width
        if group is None:
            _text_cell(sheet.cell(3, column), header)
            sheet.merge_cells(f"{letter}3:{letter}4")
        else:
            _text_cell(sheet.cell(4, column), header)
            if column == 1 or COLUMNS[column - 2][1] != group:
                span = sum(1 for c in COLUMNS if c[1] == group)
                _text_cell(sheet.cell(3, column), group)
                sheet.merge_cells(f"{letter}3:{get_column_letter(column + span - 1)}3")
    for row in (3, 4):
        sheet.row_dimensions[row].height = 22
        for column in range(1, len(COLUMNS) + 1):
            cell = sheet.cell(row, column)
            cell.font, cell.fill, cell.border, cell.alignment = Font(bold=True), HEADER_FILL, BORDER, CENTER


def _total_row(sheet, row: int, label: str, amount: Decimal, *, bold: bool = False) -> None:
    width = len(COLUMNS)
    _text_cell(sheet.cell(row, 1), label)
    sheet.merge_cells(f"A{row}:{get_column_letter(width - 1)}{row}")
    total = sheet.cell(row, width)
    total.value, total.number_format = amount, MONEY
    for column in range(1, width + 1):
        cell = sheet.cell(row, column)
        cell.fill, cell.border, cell.font = TOTAL_FILL, BORDER, Font(bold=bold)
