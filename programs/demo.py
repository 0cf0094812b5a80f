"""Made-up enrolments and facilities for the demo counties, so that lists, monthly subsidy lists and
dashboards have something to show.

Each generated record passes the eligibility rules of `programs.eligibility` with the county's settings,
and no record breaks a conflict rule. Steps are spread over the flow (most on the roll, some waiting for
approval, a few stopped or rejected). Amounts of one-off and yearly types are round demo figures, not
policy; monthly subsidies carry none (the standards give them). Like the generated registry, these rows
are not in the audit trail: the history trigger is switched off while they are written.
"""

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pgtrigger
from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from areas.models import Area, AreaLevel
from beneficiaries.models import LifeStatus, Person, PovertyStatus

from .eligibility import SEVERE_LEVELS, Facts, age_on, failing
from .enrollments import policy_for
from .models import ACHIEVED_STATUSES, BenefitType, Enrollment, EnrollmentStatus, Facility, FacilityKind

# Chance that an eligible person (or household) has the benefit in the year.
PERSON_CHANCES = {
    "M03-LIVING": 0.75, "M03-NURSING": 0.7, "M04-PENSION": 0.5, "M04-OWN-DIBAO": 0.3, "M07-SHELTERED": 0.06,
    "M08-SUNSHINE": 0.05, "M08-PURCHASED": 0.02, "M09-RURAL-TRAINING": 0.08, "M10-VOCATIONAL": 0.05,
    "M10-PUBLIC-JOB": 0.03, "M10-LIBRARY": 0.01,
}  # fmt: skip
HOUSEHOLD_CHANCES = {"M11-BARRIER-FREE": 0.06, "M11-HOUSING": 0.03, "M02-ASSIST": 0.05}
DEMO_AMOUNTS = {
    "M04-PENSION": "100", "M07-SHELTERED": "1200", "M08-SUNSHINE": "1500", "M08-PURCHASED": "3000",
    "M09-RURAL-TRAINING": "600", "M10-VOCATIONAL": "1500", "M10-PUBLIC-JOB": "6000", "M10-LIBRARY": "1200",
    "M11-BARRIER-FREE": "3000", "M11-HOUSING": "15000", "M02-ASSIST": "2000", "M07-INSTITUTION": "50000",
    "M10-BASE": "100000",
}  # fmt: skip
STATUS_WEIGHTS = {
    EnrollmentStatus.ACTIVE: 70,
    EnrollmentStatus.APPROVED: 12,
    EnrollmentStatus.APPLIED: 10,
    EnrollmentStatus.STOPPED: 5,
    EnrollmentStatus.REJECTED: 3,
}
FACILITIES = (
    (FacilityKind.SHELTERED, "{county}阳光工场辅助性就业中心", 40, "M07-INSTITUTION"),
    (FacilityKind.CARE, "{county}阳光家园托养中心", 60, None),
    (FacilityKind.BASE, "{county}阳光助残扶贫基地", 30, "M10-BASE"),
)


def _facts(person: Person, household, severe_households: set[int], holds: frozenset[str], on: date) -> Facts:
    return Facts(
        age=age_on(person.birth_date, on),
        has_certificate=bool(person.certificate_number),
        category=person.disability_category,
        level=person.disability_level,
        is_employed=person.is_employed,
        work_injury_nursing=person.work_injury_nursing,
        has_household=household is not None,
        registered_poor=household is not None and household.poverty_status != PovertyStatus.NOT_REGISTERED,
        dibao=bool(household and household.is_dibao),
        tekun=bool(household and household.is_tekun),
        household_size=household.size if household else 0,
        household_has_severe_member=household is not None and household.pk in severe_households,
        holds=holds,
    )


def _household_facts(household, severe_households: set[int]) -> Facts:
    return Facts(
        age=0,
        has_certificate=False,
        category=0,
        level=0,
        has_household=True,
        registered_poor=household.poverty_status != PovertyStatus.NOT_REGISTERED,
        household_size=household.size,
        household_has_severe_member=household.pk in severe_households,
    )


def _user(county: str, role: Role):
    return User.objects.filter(area_id=county, role=role, is_active=True).order_by("pk").first()


def generate_enrollments(*, county_codes: list[str], year: int = 2018, seed: int = 2018) -> dict[str, int]:
    """Facilities and enrolments for each county that has none yet; returns how many of each were made."""
    made = {"facilities": 0, "enrollments": 0}
    types = {t.code: t for t in BenefitType.objects.all()}
    for county_code in county_codes:
        if Enrollment.objects.filter(county_code=county_code).exists():
            continue
        rng = random.Random(f"{seed}-{county_code}")
        with transaction.atomic(), pgtrigger.ignore("programs.Enrollment:insert_insert"):
            counts = _county(county_code, year, rng, types)
        for key in made:
            made[key] += counts[key]
    return made


def _county(county_code: str, year: int, rng: random.Random, types: dict) -> dict[str, int]:
    county = Area.objects.get(code=county_code)
    villages = list(
        Area.objects.filter(code__startswith=county_code, level=AreaLevel.VILLAGE).values_list(
            "code", flat=True
        )
    )
    clerk, supervisor = _user(county_code, Role.COUNTY_CLERK), _user(county_code, Role.COUNTY_SUPERVISOR)
    facilities = {}
    for kind, name, capacity, _recognition in FACILITIES:
        village = rng.choice(villages)
        facilities[kind], _created = Facility.objects.get_or_create(
            county_code=county_code,
            name=name.format(county=county.name),
            defaults={
                "kind": kind,
                "capacity": capacity,
                "township_code": village[:9],
                "village_code": village,
                "operator": f"{county.name}残疾人联合会",
            },  # fmt: skip
        )
    people = list(
        Person.objects.filter(county_code=county_code, life_status=LifeStatus.ACTIVE)
        .select_related("household")
        .order_by("pk")
    )
    severe_households = {
        p.household_id for p in people if p.household_id and p.disability_level in SEVERE_LEVELS
    }
    policy = policy_for(county_code)
    on = date(year, 1, 1)
    rows: list[Enrollment] = []

    def add(benefit_type: str, *, person=None, household=None, facility=None):
        place = person or household or facility
        status = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]
        month = rng.choice((1, 1, 1, 2, 3, 4, 5, 6, 7))
        start = date(year, month, 1)
        end = None
        if status == EnrollmentStatus.STOPPED:
            end_month = rng.randint(month, 12)
            end = date(year, end_month, 28)
        amount = DEMO_AMOUNTS.get(benefit_type)
        stamp = timezone.make_aware(datetime.combine(start, time(9, 30)))
        decided = status != EnrollmentStatus.APPLIED
        rows.append(
            Enrollment(
                benefit_type_id=benefit_type,
                year=year,
                recipient_unit=types[benefit_type].unit,
                person=person,
                household=household if household is not None else getattr(person, "household", None),
                facility=facility,
                county_code=county_code,
                township_code=place.township_code,
                village_code=place.village_code,
                start_date=start,
                end_date=end,
                amount=Decimal(amount) if amount else None,
                status=status,
                applied_by=clerk,
                applied_at=stamp - timedelta(days=rng.randint(3, 20)),
                reviewed_by=supervisor if decided else None,
                reviewed_at=stamp if decided else None,
                review_note="材料不全，请补充低保证明" if status == EnrollmentStatus.REJECTED else "",
                activated_by=clerk if status in (EnrollmentStatus.ACTIVE, EnrollmentStatus.STOPPED) else None,
                activated_at=stamp if status in (EnrollmentStatus.ACTIVE, EnrollmentStatus.STOPPED) else None,
                stopped_by=clerk if end else None,
                stopped_at=stamp if end else None,
                stop_reason="外出务工" if end else "",
            )
        )
        return status

    for person in people:
        holds: set[str] = set()
        for code, chance in PERSON_CHANCES.items():
            facts = _facts(person, person.household, severe_households, frozenset(holds), on)
            if failing(code, facts, policy) or rng.random() >= chance:
                continue
            facility = facilities[FacilityKind.SHELTERED] if code == "M07-SHELTERED" else (
                facilities[FacilityKind.CARE] if code == "M08-SUNSHINE" else None)  # fmt: skip
            if add(code, person=person, facility=facility) in ACHIEVED_STATUSES:
                holds.add(code)
        if holds.intersection(("M03-LIVING", "M03-NURSING")) and rng.random() < 0.3:
            add("M03-RAISED", person=person)
    households = {p.household_id: p.household for p in people if p.household_id}
    for household in households.values():
        if not household.is_active:
            continue
        for code, chance in HOUSEHOLD_CHANCES.items():
            if (
                not failing(code, _household_facts(household, severe_households), policy)
                and rng.random() < chance
            ):
                add(code, household=household)
                break  # one household benefit each, at most
    for kind, _name, _capacity, recognition in FACILITIES:
        if recognition:
            add(recognition, facility=facilities[kind])
    Enrollment.objects.bulk_create(rows, batch_size=2000)
    return {"facilities": len(facilities), "enrollments": len(rows)}
