"""The cells of one row of the enrolment sheet, read: a benefit type by its name or code, a year, dates and
an amount as clerks write them, the facility by its name, the person's name and ID number. What the registry
says of the row comes after (`programs.enrollment_sheet`)."""

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from beneficiaries.roster import fold
from beneficiaries.validation import IdValidationError, parse_id_number
from imports.reading import cell_text

from .enrollment_workbooks import ENROLLMENT_COLUMNS
from .enrollments import MAX_AMOUNT, YEARS
from .models import BenefitType, Facility, Unit

NOTE_LENGTH = 200
LABELS = {c.key: c.label for c in ENROLLMENT_COLUMNS}
PERSONAL = (Unit.PERSON, Unit.HOUSEHOLD)
CENT = Decimal("0.01")
EXCEL_EPOCH = date(1899, 12, 30)
_QUOTES = re.compile(r"[\"'“”‘’「」『』《》]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DATE = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?")


def _type_key(value: Any) -> str:
    return _QUOTES.sub("", fold(value)).upper()


def message(key: str, text: str, **params: Any) -> str:
    """`text` with `%(field)s` as the column's header in the template."""
    return text % {"field": LABELS[key], **params}


@dataclass
class Draft:
    """A row read from its cells: what the registry checks start from."""

    number: int
    name: str = ""
    id_number: str = ""
    benefit_type: BenefitType | None = None
    year: int | None = None
    start_date: date | None = None
    end_date: date | None = None
    amount: Decimal | None = None
    facility: Facility | None = None
    note: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    existing: Any = None  # the live record the row repeats, once judged

    def fail(self, key: str, message: str) -> None:
        self.errors.setdefault(key, message)

    def values(self) -> dict[str, Any]:
        """What is staged: enough to check the row again at commit and to show it."""
        return {
            "name": self.name,
            "id_number": self.id_number,
            "benefit_type": self.benefit_type.code if self.benefit_type else None,
            "year": self.year,
            "start_date": self.start_date.isoformat() if self.start_date else None,
            "end_date": self.end_date.isoformat() if self.end_date else None,
            "amount": str(self.amount) if self.amount is not None else None,
            "facility_id": self.facility.pk if self.facility else None,
            "note": self.note,
        }


def cell_date(value: Any) -> date | None:
    """A date cell, a typed date (2018-03-01, 2018/3/1, 2018.3.1, 2018年3月1日, 20180301) or an Excel
    serial; None for an empty cell. Raises ValueError for anything else."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise ValueError(value)
    text = fold(value)
    if not text:
        return None
    if isinstance(value, int | float) and not re.fullmatch(r"\d{8}", text):
        if not float(value).is_integer() or not 20000 <= value <= 80000:
            raise ValueError(value)
        return EXCEL_EPOCH + timedelta(days=int(value))
    if match := re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text) or _DATE.fullmatch(text):
        return date(*(int(part) for part in match.groups()))
    raise ValueError(value)


def cell_year(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    text = fold(value).removesuffix("年")
    return int(text) if re.fullmatch(r"\d{4}", text) else None


def cell_amount(value: Any) -> Decimal | None:
    """Yuan with at most two decimals, from 0 to 999999.99; None for an empty cell. Raises ValueError."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, float):
        text = repr(value)  # the shortest text of the number: 1.234 stays 1.234, not its binary value
    else:
        text = fold(value).replace(",", "").replace("，", "").removeprefix("¥").removeprefix("￥")
        text = text.removesuffix("元")
    if not text:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError(value) from None
    if not amount.is_finite() or not 0 <= amount < MAX_AMOUNT or amount != amount.quantize(CENT):
        raise ValueError(value)
    return amount.quantize(CENT)


class SheetReader:
    """Reads rows of one county's sheet: the benefit types and the county's facilities, loaded once."""

    def __init__(self, county_code: str):
        self.county_code = county_code
        self.today = timezone.localdate()
        self.types: dict[str, BenefitType] = {}
        self.by_code: dict[str, BenefitType] = {}
        for benefit_type in BenefitType.objects.filter(is_active=True):
            self.by_code[benefit_type.code] = benefit_type
            for key in (benefit_type.code, benefit_type.name):
                self.types[_type_key(key)] = benefit_type
        self.facilities: dict[str, Facility] = {}
        self.facility_by_id: dict[int, Facility] = {}
        for facility in Facility.objects.filter(county_code=county_code):
            self.facilities[fold(facility.name)] = self.facility_by_id[facility.pk] = facility

    def read(self, number: int, cells: dict[str, Any]) -> Draft:
        draft = Draft(number)
        self._benefit_type(draft, cells.get("benefit_type"))
        self._when(draft, cells)
        try:
            draft.amount = cell_amount(cells.get("amount"))
        except ValueError:
            draft.fail(
                "amount",
                message("amount", _("%(field)s: yuan from 0 to 999999.99, with at most two decimals.")),
            )
        draft.note = _CONTROL.sub("", cell_text(cells.get("note"))).strip()
        if len(draft.note) > NOTE_LENGTH:
            draft.fail(
                "note", message("note", _("%(field)s: at most %(count)s characters."), count=NOTE_LENGTH)
            )
        self._recipient(draft, cells)
        return draft

    def restore(self, number: int, values: dict[str, Any]) -> Draft:
        """A staged row as it was read, to be checked again at commit."""
        draft = Draft(
            number,
            name=values["name"],
            id_number=values["id_number"],
            benefit_type=self.by_code.get(values["benefit_type"]),
            year=values["year"],
            start_date=date.fromisoformat(values["start_date"]),
            end_date=date.fromisoformat(values["end_date"]) if values["end_date"] else None,
            amount=Decimal(values["amount"]) if values["amount"] is not None else None,
            facility=self.facility_by_id.get(values["facility_id"]),
            note=values["note"],
        )
        if draft.benefit_type is None:  # taken out of use since the check
            self._benefit_type(draft, values["benefit_type"])
        return draft

    def _benefit_type(self, draft: Draft, value: Any) -> None:
        if not fold(value):
            draft.fail("benefit_type", message("benefit_type", _("%(field)s: this field is empty.")))
            return
        draft.benefit_type = self.types.get(_type_key(value))
        if draft.benefit_type is None:
            draft.fail(
                "benefit_type",
                message(
                    "benefit_type",
                    _(
                        "%(field)s: “%(value)s” is not a benefit type in use. Choose one from the drop-down "
                        "list, or write its code (such as M03-LIVING)."
                    ),
                    value=fold(value)[:40],
                ),
            )

    def _when(self, draft: Draft, cells: dict[str, Any]) -> None:
        draft.year = cell_year(cells.get("year"))
        if draft.year not in YEARS:
            draft.year = None
            draft.fail(
                "year",
                message(
                    "year", _("%(field)s: a year from %(first)s to %(last)s."), first=YEARS[0], last=YEARS[-1]
                ),
            )
        for key in ("start_date", "end_date"):
            try:
                setattr(draft, key, cell_date(cells.get(key)))
            except ValueError:
                draft.fail(key, message(key, _("%(field)s: write a date such as 2018-03-01.")))
        if draft.year is None:
            return
        if draft.start_date is None and "start_date" not in draft.errors:
            draft.start_date = date(draft.year, 1, 1)
        if draft.start_date is not None and draft.start_date.year != draft.year:
            draft.fail(
                "start_date", message("start_date", _("%(field)s: a date in %(year)s."), year=draft.year)
            )
        if draft.end_date is not None and draft.end_date.year != draft.year:
            draft.fail(
                "end_date",
                message(
                    "end_date", _("%(field)s: a date in %(year)s (a new year is a new row)."), year=draft.year
                ),
            )
        elif draft.start_date and draft.end_date and draft.end_date < draft.start_date:
            draft.fail("end_date", message("end_date", _("%(field)s: not before the start date.")))

    def _recipient(self, draft: Draft, cells: dict[str, Any]) -> None:
        benefit_type = draft.benefit_type
        name = fold(cells.get("facility"))
        if name:
            draft.facility = self.facilities.get(name)
            if draft.facility is None:
                draft.fail(
                    "facility",
                    message(
                        "facility",
                        _("%(field)s: “%(value)s” is not a facility of this county."),
                        value=name[:40],
                    ),
                )
        draft.name = fold(cells.get("name"))
        has_id = bool(fold(cells.get("id_number"))) or isinstance(cells.get("id_number"), int | float)
        if benefit_type is not None and benefit_type.unit not in PERSONAL:
            if draft.name or has_id:
                draft.fail(
                    "id_number",
                    message(
                        "id_number",
                        _(
                            "%(field)s: %(benefit)s is recorded for an institution or base, not a person: "
                            "leave the name and ID number empty, or choose the person's benefit type."
                        ),
                        benefit=benefit_type.name,
                    ),
                )
            if not name:
                draft.fail(
                    "facility",
                    message(
                        "facility",
                        _("%(field)s: %(benefit)s is recorded for an institution or base: write its name."),
                        benefit=benefit_type.name,
                    ),
                )
            return
        if not draft.name:
            draft.fail("name", message("name", _("%(field)s: this field is empty.")))
        if not has_id:
            draft.fail("id_number", message("id_number", _("%(field)s: this field is empty.")))
            return
        try:
            draft.id_number = parse_id_number(
                cells.get("id_number"), field_label=LABELS["id_number"], today=self.today
            ).number
        except IdValidationError as error:
            draft.fail("id_number", str(error))
