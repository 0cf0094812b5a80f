"""Registry rows for roll-up tests, written straight to the tables (the roll-up reads tables, not
services): households with dated status rows, their people, enrolments of people, households and
facilities, in real villages of the area tree."""

from datetime import date
from decimal import Decimal
from itertools import count

from areas.models import Area, AreaLevel
from beneficiaries.models import Household, HouseholdStatus, LifeStatus, Person
from beneficiaries.validation import make_id_number
from programs.models import Enrollment, Facility, Unit

_sequence = count(1)


def villages(county_code: str, townships: int = 2, per_township: int = 2) -> list[str]:
    """The first villages of the county's first townships: a small tree with more than one of each."""
    chosen = []
    township_codes = (
        Area.objects.filter(parent_id=county_code, level=AreaLevel.TOWNSHIP)
        .order_by("code")
        .values_list("code", flat=True)[:townships]
    )
    for township in township_codes:
        chosen += list(
            Area.objects.filter(parent_id=township)
            .order_by("code")
            .values_list("code", flat=True)[:per_township]
        )
    return chosen


def located(village_code: str) -> dict[str, str]:
    return {"county_code": village_code[:6], "township_code": village_code[:9], "village_code": village_code}


def household(village_code: str, statuses=(), **extra) -> Household:
    """`statuses`: (effective date, poverty status, exit year) rows, in the order they were recorded."""
    latest = statuses[-1] if statuses else (None, "not_out", None)
    values = {
        "head_name": "钟长生",
        "size": 3,
        "poverty_status": latest[1],
        "exit_year": (latest[2] or latest[0].year) if latest[1] in ("out", "returned") else None,
        **located(village_code),
        **extra,
    }
    made = Household.objects.create(**values)
    HouseholdStatus.objects.bulk_create(
        HouseholdStatus(household=made, effective_date=when, poverty_status=status, exit_year=year)
        for when, status, year in statuses
    )
    return made


def person(village_code: str, household: Household | None = None, life_status=LifeStatus.ACTIVE) -> Person:
    n = next(_sequence)
    id_number = make_id_number(village_code[:6], date(1960, 1, 1 + n % 28), n % 1000)
    return Person.objects.create(
        name=f"刘{n}",
        id_number=id_number,
        gender="M" if int(id_number[16]) % 2 else "F",
        birth_date=date(1960, 1, 1 + n % 28),
        disability_category=4,
        disability_level=2,
        household=household,
        life_status=life_status,
        **located(household.village_code if household else village_code),
    )


def facility(village_code: str, kind: str = "sheltered") -> Facility:
    return Facility.objects.create(name=f"机构{next(_sequence)}", kind=kind, **located(village_code))


def enrol(
    recipient: Person | Household | Facility,
    benefit_type: str,
    year: int = 2018,
    status: str = "active",
    amount: Decimal | None = None,
) -> Enrollment:
    if isinstance(recipient, Person):
        who = {"recipient_unit": Unit.PERSON, "person": recipient, "household_id": recipient.household_id}
    elif isinstance(recipient, Household):
        who = {"recipient_unit": Unit.HOUSEHOLD, "household": recipient}
    else:
        unit = Unit.INSTITUTION if recipient.kind == "sheltered" else Unit.BASE
        who = {"recipient_unit": unit, "facility": recipient}
    return Enrollment.objects.create(
        benefit_type_id=benefit_type,
        year=year,
        start_date=date(year, 3, 1),
        status=status,
        amount=amount,
        county_code=recipient.county_code,
        township_code=recipient.township_code,
        village_code=recipient.village_code,
        **who,
    )
