"""The roster as Excel workbooks: the county's blank template, the registry export, and the workbook that
hands an upload's bad rows back to the clerk with the reason on each bad cell.

All three share the layout of ROSTER_COLUMNS, so what the export writes can be filled in, uploaded and
corrected with the same columns. Everything is built in memory or streamed to a file-like object; nothing
here knows about requests or permissions.
"""

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from io import BytesIO
from typing import IO, Any

from django.db.models import QuerySet
from django.db.models.functions import Left
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from areas.models import Area, AreaLevel

from .models import Gender, Person, Relation
from .roster_columns import (
    CATEGORY_WORDS,
    LEVEL_WORDS,
    POVERTY_WORDS,
    RELATION_WORDS,
    ROSTER_COLUMNS,
    RosterColumn,
)

# Where things are on the roster sheet, in the template and the export alike.
TITLE_ROW = 1
SUBTITLE_ROW = 2
HEADER_ROW = 3
FIRST_DATA_ROW = 4
TEMPLATE_ROWS = 2000  # rows prepared with drop-down lists and text format

FIRST_EXIT_YEAR, LAST_EXIT_YEAR = 2014, 2030
EXPORT_CHUNK = 2000

# The words a clerk writes, as the drop-down lists offer them and the export writes them.
GENDER_LIST = ("男", "女")
CATEGORY_LIST = tuple(CATEGORY_WORDS)
LEVEL_LIST = tuple(LEVEL_WORDS)
RELATION_LIST = ("户主", "配偶", "子女", "父母", "兄弟姐妹", "祖父母", "孙子女", "儿媳", "女婿", "其他")
POVERTY_LIST = tuple(POVERTY_WORDS)
YES, NO = "是", "否"

GENDER_WORD = {Gender.MALE: "男", Gender.FEMALE: "女"}
CATEGORY_WORD = {number: word for word, number in CATEGORY_WORDS.items()}
LEVEL_WORD = {number: word for word, number in LEVEL_WORDS.items()}
POVERTY_WORD = {code: word for word, code in POVERTY_WORDS.items()}
RELATION_WORD = {
    RELATION_WORDS[word]: word for word in RELATION_LIST if RELATION_WORDS[word] != Relation.CHILD_IN_LAW
}
CHILD_IN_LAW_WORD = {Gender.FEMALE: "儿媳", Gender.MALE: "女婿"}

AnySheet = Worksheet | WriteOnlyWorksheet

COLUMN_BY_KEY = {column.key: column for column in ROSTER_COLUMNS}

# Formula injection. A spreadsheet evaluates a cell typed (or pasted, or re-imported from CSV) as `=...`,
# and `+`, `-` and `@` start formulas too; OWASP's CSV advice is to make such values inert text with a
# leading apostrophe. In a CSV that apostrophe is an instruction to Excel's parser; in an .xlsx the cell
# already says what it is, and Excel records a value typed with an apostrophe as a string cell carrying
# the `quotePrefix` style. So the same defence in .xlsx is: a string cell (never `<f>`), `quotePrefix`
# set and the text number format, so that it stays text when someone edits the cell. The value itself is
# unchanged: an apostrophe inside it would be shown, exported again and imported as part of a name. Not
# covered: the sheet saved as CSV by someone and opened again, which no cell property survives. The
# full-width forms are marked too, since Chinese input methods type them and marking costs nothing.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")

THIN = Side(style="thin", color="808080")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
ERROR_FILL = PatternFill("solid", fgColor="FFC7CE")
HEADER_FONT = Font(bold=True)
REQUIRED_FONT = Font(bold=True, color="C00000")
TITLE_FONT = Font(bold=True, size=16)
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
WRAP = Alignment(vertical="top", wrap_text=True)
TEXT_FORMAT = "@"

MAX_CELL_TEXT = 32_000  # Excel holds 32,767 characters in a cell


def roster_title(county_name: str) -> str:
    return _("%(county)s roster of poor disabled people") % {"county": county_name}


# -- the template --------------------------------------------------------------------------------------


def roster_template(county_code: str) -> bytes:
    """The county's blank roster for township clerks, with drop-down lists of its townships and villages.

    Raises Area.DoesNotExist if `county_code` is not a county.
    """
    county = Area.objects.get(code=county_code, level=AreaLevel.COUNTY)
    townships = list(
        Area.objects.filter(parent_id=county.code, level=AreaLevel.TOWNSHIP).values_list("name", flat=True)
    )
    # Village names repeat across townships (新村, 中心村 ...); one entry each is enough for the list.
    villages = list(
        dict.fromkeys(
            Area.objects.filter(parent__parent_id=county.code, level=AreaLevel.VILLAGE)
            .order_by("code")
            .values_list("name", flat=True)
        )
    )

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Roster")
    _lay_out_roster_sheet(sheet)
    sheet.cell(TITLE_ROW, 1, roster_title(county.name))
    sheet.cell(SUBTITLE_ROW, 1, _("Reporting unit: ____________    Date: ____________"))
    for index, column in enumerate(ROSTER_COLUMNS, 1):
        _style_header(sheet.cell(HEADER_ROW, index, column.label), column)
        if column.text:
            for row in range(FIRST_DATA_ROW, FIRST_DATA_ROW + TEMPLATE_ROWS):
                sheet.cell(row, index).number_format = TEXT_FORMAT
    _style_title(sheet.cell(TITLE_ROW, 1), sheet.cell(SUBTITLE_ROW, 1))

    _write_instructions(workbook.create_sheet(_("Instructions")), county.name)

    # Lists of areas live on a hidden sheet: Excel rejects a literal list longer than 255 characters,
    # which a county's villages always are and a district's streets can be.
    options = workbook.create_sheet(_("Options"))
    options.sheet_state = "hidden"
    area_ranges: dict[str, str] = {}
    for index, (key, names) in enumerate((("township", townships), ("village", villages)), 1):
        options.cell(1, index, COLUMN_BY_KEY[key].label)
        for row, name in enumerate(names, 2):
            options.cell(row, index, name)
        if names:
            letter = get_column_letter(index)
            area_ranges[key] = f"{quote_sheetname(options.title)}!${letter}$2:${letter}${len(names) + 1}"

    for key, source in area_ranges.items():
        _add_validation(sheet, key, _list_validation(source))
    for key, words in (
        ("gender", GENDER_LIST),
        ("disability_category", CATEGORY_LIST),
        ("disability_level", LEVEL_LIST),
        ("relation_to_head", RELATION_LIST),
        ("poverty_status", POVERTY_LIST),
        ("is_dibao", (YES, NO)),
    ):
        _add_validation(sheet, key, _list_validation('"' + ",".join(words) + '"'))
    _add_validation(
        sheet,
        "exit_year",
        DataValidation(
            type="whole",
            operator="between",
            formula1=str(FIRST_EXIT_YEAR),
            formula2=str(LAST_EXIT_YEAR),
            allow_blank=True,
            showErrorMessage=True,
            errorTitle=_("Not a valid year"),
            error=_("Enter a year from %(first)s to %(last)s.")
            % {"first": FIRST_EXIT_YEAR, "last": LAST_EXIT_YEAR},
        ),
    )

    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _list_validation(formula: str) -> DataValidation:
    return DataValidation(
        type="list",
        formula1=formula,
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=_("Not in the list"),
        error=_("Choose a value from the drop-down list."),
    )


def _add_validation(sheet: Worksheet, key: str, validation: DataValidation) -> None:
    letter = get_column_letter(_column_number(key))
    validation.add(f"{letter}{FIRST_DATA_ROW}:{letter}{FIRST_DATA_ROW + TEMPLATE_ROWS - 1}")
    sheet.add_data_validation(validation)


def _column_number(key: str) -> int:
    return next(index for index, column in enumerate(ROSTER_COLUMNS, 1) if column.key == key)


def _write_instructions(sheet: Worksheet, county_name: str) -> None:
    sheet.column_dimensions["A"].width = 14
    sheet.column_dimensions["B"].width = 10
    sheet.column_dimensions["C"].width = 90
    sheet.cell(1, 1, _("How to fill in the roster")).font = TITLE_FONT
    sheet.cell(3, 1, _("General rules")).font = HEADER_FONT
    general = [
        _("Fill in one row for each disabled person. Two disabled people in one household take two rows."),
        _(
            "Rows of the same household have the same head's name, township and village, and the same "
            "household size, poverty status, exit year and minimum living guarantee."
        ),
        _("Columns with a red header are required."),
        _("Do not change, move or delete the header row, and do not add, remove or reorder columns."),
        _("Do not merge cells, leave blank rows between people, or add a total row at the bottom."),
        _(
            "ID numbers, certificate numbers and phone numbers are formatted as text. Type them, or paste "
            "values that are text in the other file too. Never paste an ID number that Excel shows as a "
            "number (such as 3.60781E+17): Excel keeps only 15 digits of a number, so its last digits are "
            "already lost; type it again."
        ),
        _(
            "The drop-down lists and the text format are set on the first %(rows)s rows; for more people, "
            "use another copy of this template."
        )
        % {"rows": TEMPLATE_ROWS},
    ]
    row = 4
    for number, rule in enumerate(general, 1):
        sheet.cell(row, 1, number).alignment = Alignment(horizontal="right", vertical="top")
        sheet.merge_cells(start_row=row, start_column=2, end_row=row, end_column=3)
        sheet.cell(row, 2, rule).alignment = WRAP
        sheet.row_dimensions[row].height = 15 * max(1, math.ceil(len(rule) / 60))
        row += 1

    row += 1
    for index, heading in enumerate((_("Column"), _("Required?"), _("How to fill it in")), 1):
        cell = sheet.cell(row, index, heading)
        cell.font, cell.fill, cell.border, cell.alignment = HEADER_FONT, HEADER_FILL, BORDER, CENTER
    rules = _column_rules(county_name)
    for column in ROSTER_COLUMNS:
        row += 1
        rule = rules.get(column.key, "")
        values = (column.label, _("Required") if column.required else _("Optional"), rule)
        for index, value in enumerate(values, 1):
            cell = sheet.cell(row, index, value)
            cell.border, cell.alignment = BORDER, WRAP
        sheet.row_dimensions[row].height = 15 * max(1, math.ceil(len(rule) / 60))


def _column_rules(county_name: str) -> dict[str, str]:
    def words(choices: Iterable[str]) -> str:
        return "/".join(choices)

    def codes(choices: Mapping[str, int]) -> str:
        return " ".join(f"{number}={word}" for word, number in choices.items())

    return {
        "row_number": _("A running number (1, 2, 3 …) for your own reference."),
        "township": _("Choose from the list of the townships (towns, streets) of %(county)s.")
        % {"county": county_name},
        "village": _(
            "Choose from the list of the villages (communities) of %(county)s; the village must be in "
            "the township of the same row."
        )
        % {"county": county_name},
        "name": _("The disabled person's name, as on the ID card."),
        "gender": _("%(male)s or %(female)s; it must agree with the ID number.")
        % {"male": GENDER_LIST[0], "female": GENDER_LIST[1]},
        "id_number": _(
            "18 characters: 17 digits, then a digit or a capital X. No spaces. Never type or paste it "
            "as a number."
        ),
        "certificate_number": _(
            "20 characters: the ID number, then one digit for the disability category (%(categories)s) "
            "and one for the level (%(levels)s). Leave it empty if the person has no certificate yet."
        )
        % {"categories": codes(CATEGORY_WORDS), "levels": codes(LEVEL_WORDS)},
        "disability_category": _(
            "Choose one: %(words)s. Someone with more than one kind of disability is %(multiple)s."
        )
        % {"words": words(CATEGORY_LIST), "multiple": CATEGORY_WORD[7]},
        "disability_level": _("Choose one: %(words)s; %(most)s is the most severe.")
        % {"words": words(LEVEL_LIST), "most": LEVEL_WORD[1]},
        "head_name": _(
            "The name of the head of the household, also when the disabled person is the head. Rows with "
            "the same head's name in the same village are one household."
        ),
        "relation_to_head": _("Choose one: %(words)s. The head of the household is %(head)s.")
        % {"words": words(RELATION_LIST), "head": RELATION_WORD[Relation.HEAD]},
        "household_size": _("How many people the household has, disabled or not (1 to 30)."),
        "poverty_status": _("Choose one: %(words)s.") % {"words": words(POVERTY_LIST)},
        "exit_year": _(
            "The year the household got out of poverty (%(first)s to %(last)s): required for %(out)s, "
            "may be given for %(returned)s, empty otherwise."
        )
        % {
            "first": FIRST_EXIT_YEAR,
            "last": LAST_EXIT_YEAR,
            "out": POVERTY_WORD["out"],
            "returned": POVERTY_WORD["returned"],
        },
        "is_dibao": _("%(yes)s or %(no)s: does the household receive the minimum living guarantee?")
        % {"yes": YES, "no": NO},
        "phone": _("A mobile number (11 digits) or a landline with its area code, such as 0797-2512345."),
        "note": _("Anything else the county office should know."),
    }


# -- the export -----------------------------------------------------------------------------------------


def write_roster(rows: Iterable[Mapping[str, Any]], out: IO[bytes], *, title: str, subtitle: str = "") -> int:
    """Write the roster layout with one row per dict (keyed by ROSTER_COLUMNS keys) to `out`.

    The sheet is streamed (openpyxl's write-only mode), so memory stays flat however many rows there
    are. Returns the number of data rows written.
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Roster"))
    _lay_out_roster_sheet(sheet)
    title_cell, subtitle_cell = _cell(sheet, title, always=True), _cell(sheet, subtitle, always=True)
    _style_title(title_cell, subtitle_cell)
    sheet.append([title_cell])
    sheet.append([subtitle_cell])
    header = []
    for column in ROSTER_COLUMNS:
        cell = _cell(sheet, column.label, always=True)
        _style_header(cell, column)
        header.append(cell)
    sheet.append(header)
    count = 0
    for row in rows:
        sheet.append([_cell(sheet, row.get(column.key), text=column.text) for column in ROSTER_COLUMNS])
        count += 1
    workbook.save(out)
    return count


def person_export_rows(queryset: "QuerySet[Person]") -> Iterator[dict[str, Any]]:
    """The people of `queryset` as roster rows, as a clerk would write them, whole ID numbers included.

    An unordered queryset is put in roster order (township, village, household). The caller decides who
    may have the whole numbers.
    """
    names = _area_names(queryset)
    if not queryset.ordered and not queryset.query.is_sliced:
        queryset = queryset.order_by("township_code", "village_code", "household_id", "id")
    people = queryset.select_related("household").iterator(chunk_size=EXPORT_CHUNK)
    for number, person in enumerate(people, 1):
        yield person_roster_row(person, names, number)


def person_roster_row(person: Person, area_names: Mapping[str, str], number: int) -> dict[str, Any]:
    household = person.household
    if person.relation_to_head == Relation.CHILD_IN_LAW:
        relation = CHILD_IN_LAW_WORD.get(person.gender, "儿媳")
    else:
        relation = RELATION_WORD.get(person.relation_to_head, "")
    return {
        "row_number": number,
        "township": area_names.get(person.township_code, person.township_code),
        "village": area_names.get(person.village_code, person.village_code),
        "name": person.name,
        "gender": GENDER_WORD.get(person.gender, ""),
        "id_number": person.id_number,
        "certificate_number": person.certificate_number or "",
        "disability_category": CATEGORY_WORD.get(person.disability_category, ""),
        "disability_level": LEVEL_WORD.get(person.disability_level, ""),
        "head_name": household.head_name if household else "",
        "relation_to_head": relation,
        "household_size": household.size if household else None,
        "poverty_status": POVERTY_WORD.get(household.poverty_status, "") if household else "",
        "exit_year": household.exit_year if household else None,
        "is_dibao": (YES if household.is_dibao else NO) if household else "",
        "phone": person.phone,
        "note": "",
    }


def _area_names(queryset: "QuerySet[Person]") -> dict[str, str]:
    """Township and village names of every county the queryset touches, in one query.

    The counties are made distinct inside the subquery: without that, a planner that misjudges the people
    (statistics not yet updated after a large upload) compares every area with every person, minutes for
    50,000 people."""
    counties = queryset.order_by().values("county_code").distinct()
    return dict(
        Area.objects.annotate(county=Left("code", 6))
        .filter(level__in=(AreaLevel.TOWNSHIP, AreaLevel.VILLAGE), county__in=counties)
        .values_list("code", "name")
    )


# -- the error workbook ---------------------------------------------------------------------------------


def error_workbook(
    *,
    header: list[str],
    header_row_number: int,
    rows: Iterable[tuple[int, list]],
    errors: dict[int, dict[int, str]],
    summary: list[tuple[str, int]],
    columns: Sequence[RosterColumn] = ROSTER_COLUMNS,
) -> bytes:
    """The uploaded rows that have errors, as they were, each bad cell red with the reason in a comment.

    `errors` maps the row's number in the uploaded sheet to {index in `header`: message}; rows without
    an entry are left out. `summary` is (column label, rows with an error in it), as the caller counted
    them; the summary sheet lists those columns with their row numbers, then any other column that has
    errors. `columns` is the layout of the kind of sheet uploaded (widths, text columns, other names).
    """
    for row_number, row_errors in errors.items():
        for index in row_errors:
            if not 0 <= index < len(header):
                raise ValueError(f"row {row_number}: no column {index} in a header of {len(header)}")
    text_labels = {_normalise(label) for column in columns if column.text for label in _labels(column)}
    text_columns = {index for index, label in enumerate(header) if _normalise(label) in text_labels}
    names = {_normalise(label): column.key for column in columns for label in _labels(column)}

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Rows with errors"))
    sheet.freeze_panes = "B2"
    sheet.column_dimensions["A"].width = 8
    widths = {_normalise(label): column.width for column in columns for label in _labels(column)}
    for index, label in enumerate(header, 2):
        sheet.column_dimensions[get_column_letter(index)].width = max(
            widths.get(_normalise(label), 12), min(len(str(label or "")) * 2 + 2, 30)
        )
    header_cells = []
    for label in [_("Original row"), *header]:
        cell = _cell(sheet, label, always=True)
        cell.font, cell.fill, cell.border, cell.alignment = HEADER_FONT, HEADER_FILL, BORDER, CENTER
        header_cells.append(cell)
    sheet.append(header_cells)

    author = _("Import check")
    for row_number, values in rows:
        row_errors = errors.get(row_number)
        if not row_errors:
            continue
        values = list(values) + [None] * (max(row_errors) + 1 - len(values))
        cells: list[Any] = [row_number]
        for index, value in enumerate(values):
            message = row_errors.get(index)
            cell = _cell(sheet, value, text=index in text_columns, always=message is not None)
            if message is not None:
                cell.fill = ERROR_FILL
                cell.comment = _comment(message, author)
            cells.append(cell)
        sheet.append(cells)

    summary_sheet = workbook.create_sheet(_("Error summary"))
    _write_error_summary(summary_sheet, header, header_row_number, errors, summary, names)
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _write_error_summary(
    sheet: WriteOnlyWorksheet,
    header: Sequence[str],
    header_row_number: int,
    errors: Mapping[int, Mapping[int, str]],
    summary: Sequence[tuple[str, int]],
    names: Mapping[str, str] | None = None,
) -> None:
    """One line per column: the caller's (label, count) lines first, in their order, then any other
    column of the header that has errors. Row numbers come from `errors`, found by the column's label
    (or another name of the same column, by `names`: normalised name -> key); a label that is not in the
    header lists none."""
    names = COLUMN_NAMES if names is None else names
    sheet.column_dimensions["A"].width = 24
    sheet.column_dimensions["B"].width = 12
    sheet.column_dimensions["C"].width = 80
    title = WriteOnlyCell(sheet, _("Error summary"))
    title.font = TITLE_FONT
    sheet.append([title])
    sheet.append([_("Header row in the uploaded sheet"), header_row_number])
    sheet.append([])
    headings = []
    for heading in (_("Column"), _("Rows with an error"), _("Row numbers")):
        cell = WriteOnlyCell(sheet, heading)
        cell.font, cell.fill, cell.border, cell.alignment = HEADER_FONT, HEADER_FILL, BORDER, CENTER
        headings.append(cell)
    sheet.append(headings)

    rows_by_column: dict[int, list[int]] = {}
    for row_number in sorted(errors):
        for index in errors[row_number]:
            rows_by_column.setdefault(index, []).append(row_number)
    by_label: dict[str, int] = {}
    by_column: dict[str, int] = {}
    for index, label in enumerate(header):
        by_label.setdefault(str(label), index)
        by_column.setdefault(_column_name(label, names), index)
    lines: list[tuple[Any, int, list[int]]] = []
    listed: set[int] = set()
    for label, count in summary:
        index = by_label.get(str(label), by_column.get(_column_name(label, names)))
        if index is not None:
            listed.add(index)
        lines.append((label, count, rows_by_column.get(index, []) if index is not None else []))
    for index in sorted(rows_by_column.keys() - listed):
        lines.append((header[index], len(rows_by_column[index]), rows_by_column[index]))
    for label, count, numbers in lines:
        numbers_cell = _cell(sheet, _row_list(numbers), always=True)
        numbers_cell.alignment = WRAP
        sheet.append([_cell(sheet, label), count, numbers_cell])


def _row_list(numbers: Sequence[int]) -> str:
    """ "3, 8, 12": cut short, with how many more, where a cell would overflow."""
    parts: list[str] = []
    length = 0
    for shown, number in enumerate(numbers):
        part = str(number)
        if length + len(part) + 2 > MAX_CELL_TEXT - 100:
            return _("%(rows)s … and %(count)s more") % {
                "rows": ", ".join(parts),
                "count": len(numbers) - shown,
            }
        parts.append(part)
        length += len(part) + 2
    return ", ".join(parts)


def _comment(message: str, author: str) -> Comment:
    # Sized to the message: Excel's default box shows about two short lines.
    lines = sum(max(1, math.ceil(len(line) / 16)) for line in message.splitlines() or [""])
    return Comment(message, author, height=min(40 + 20 * lines, 400), width=240)


def _labels(column: RosterColumn) -> tuple[str, ...]:
    return (column.label, *column.synonyms)


def _normalise(label: Any) -> str:
    return "".join(str(label or "").split())


COLUMN_NAMES = {_normalise(label): column.key for column in ROSTER_COLUMNS for label in _labels(column)}


def _column_name(label: Any, names: Mapping[str, str] = COLUMN_NAMES) -> str:
    """The column a header names, whichever of its names it uses; else the header itself."""
    return names.get(_normalise(label), _normalise(label))


# -- cells ----------------------------------------------------------------------------------------------


def _lay_out_roster_sheet(sheet: AnySheet) -> None:
    """Widths, frozen header, merged title and print setup: in write-only mode all before the first row."""
    last = get_column_letter(len(ROSTER_COLUMNS))
    for index, column in enumerate(ROSTER_COLUMNS, 1):
        dimension = sheet.column_dimensions[get_column_letter(index)]
        dimension.width = column.width
        if column.text:
            # The column's own format reaches rows typed below the prepared ones.
            dimension.number_format = TEXT_FORMAT
    sheet.row_dimensions[TITLE_ROW].height = 30
    sheet.row_dimensions[HEADER_ROW].height = 30
    sheet.freeze_panes = f"A{FIRST_DATA_ROW}"
    for row in (TITLE_ROW, SUBTITLE_ROW):
        sheet.merged_cells.add(f"A{row}:{last}{row}")
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.gridLines = True


def _style_title(title: Any, subtitle: Any) -> None:
    title.font = TITLE_FONT
    title.alignment = Alignment(horizontal="center", vertical="center")
    subtitle.alignment = Alignment(horizontal="left", vertical="center")


def _style_header(cell: Any, column: RosterColumn) -> None:
    cell.font = REQUIRED_FONT if column.required else HEADER_FONT
    cell.fill, cell.border, cell.alignment = HEADER_FILL, BORDER, CENTER


def _as_string(cell: WriteOnlyCell, value: str) -> WriteOnlyCell:
    cell.value = value
    cell.data_type = "s"  # openpyxl would take "=..." for a formula and "#N/A" for an error
    if value.startswith(FORMULA_TRIGGERS):
        cell.quotePrefix = True
        cell.number_format = TEXT_FORMAT
    return cell


def _cell(sheet: AnySheet, value: Any, *, text: bool = False, always: bool = False) -> Any:
    """The value ready to append: a plain value where that is safe, else a cell that keeps it as text.

    `text` columns (ID, certificate, phone numbers) get the text format, and whole numbers in them are
    written as their digits so Excel doesn't show them as 3.60781E+17. `always` returns a cell even for
    a plain value or none, for the caller to style.
    """
    if text and isinstance(value, float) and value.is_integer():
        # The digits the clerk saw: 3.60781197503141E+17 is 360781197503141000, not its binary neighbour.
        value = format(Decimal(repr(value)).to_integral_value(), "f")
    elif text and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if value == "" and not always:
        return None
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)  # control characters cannot be stored in a sheet
        if text or always or value.startswith(FORMULA_TRIGGERS) or value in ERROR_CODES:
            cell = _as_string(WriteOnlyCell(sheet), value)
            if text:
                cell.number_format = TEXT_FORMAT
            return cell
        return value
    if always:
        return WriteOnlyCell(sheet, value)
    return value
