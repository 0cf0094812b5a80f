"""Enrolments (受益记录): who received what under which benefit type, and the steps of each record.

    申请 applied --review--> 审核通过 approved --activate--> 在册/已发放 active --stop--> 停发 stopped
                    \\--> 不予通过 rejected          \\-------------- stop ------------/

A clerk records an application (`enrollment_apply`); it is refused outright on a conflict (the person is
deceased or gone, the benefit is already held that year, barrier-free modification was already done for the
household, the facility is closed or of the wrong kind) and refused with the failing conditions when a rule
of `programs.eligibility` fails, unless a county supervisor overrides them with a written reason. A
supervisor who did not apply approves or rejects (`enrollment_review`); the clerk then puts it on the roll
(`enrollment_activate`) and stops it when it ends (`enrollment_stop`). Each step keeps who and when; every
write is in the history (django-pghistory) and is version-checked.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import pghistory
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from areas.scoping import user_scope_prefix
from beneficiaries.errors import StaleRecord
from beneficiaries.models import Household, LifeStatus, Person, PovertyStatus

from .eligibility import SEVERE_LEVELS, Condition, Facts, Policy, age_on, failing, has_rules
from .models import (
    ACHIEVED_STATUSES,
    BenefitType,
    EligibilitySetting,
    Enrollment,
    EnrollmentStatus,
    Facility,
    FacilityKind,
    Unit,
)

YEARS = range(2015, 2031)
MAX_AMOUNT = Decimal("1000000")
REVIEW_PERMISSION = "programs.review_enrollment"
#: The kind of facility an institution or base benefit type recognises.
FACILITY_KINDS = {"M07-INSTITUTION": FacilityKind.SHELTERED, "M09-BASE": FacilityKind.BASE,
                  "M10-BASE": FacilityKind.BASE}  # fmt: skip
#: Benefit types a household receives once, in any year.
ONCE_PER_HOUSEHOLD = ("M11-BARRIER-FREE",)


class EnrollmentError(Exception):
    """Refused: `errors` maps a field (or "__all__") to messages for the user."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        field, messages = next(iter(errors.items()))
        super().__init__(messages[0])
        self.message = messages[0]
        self.field = field


class NotEligible(EnrollmentError):
    """Rules fail; a reviewer may override them with a reason. `conditions` are the failing ones."""

    def __init__(self, conditions: list[Condition]):
        self.conditions = conditions
        super().__init__({"eligibility": [c.message for c in conditions]})


class StepRefused(EnrollmentError):
    def __init__(self, message: str):
        super().__init__({"__all__": [message]})


# --- facts -----------------------------------------------------------------------------------------------


def policy_for(county_code: str) -> Policy:
    setting = EligibilitySetting.objects.filter(county_id=county_code).first()
    if setting is None:
        return Policy()
    return Policy(
        living_extends_to_low_income=setting.living_extends_to_low_income,
        nursing_extends_to_level_3_4=setting.nursing_extends_to_level_3_4,
        working_age_min=setting.working_age_min,
        working_age_max=setting.working_age_max,
    )


def this_year(today: date | None = None) -> int:
    """The year pages open on: this one, kept inside the years records may have."""
    return min(max((today or timezone.localdate()).year, YEARS[0]), YEARS[-1])


def reference_date(year: int, today: date | None = None) -> date:
    """The day ages are taken on when no start date is given: today, kept inside the year."""
    today = today or timezone.localdate()
    return min(max(today, date(year, 1, 1)), date(year, 12, 31))


def household_facts(household: Household | None) -> dict[str, Any]:
    if household is None:
        return {}
    return {
        "has_household": True,
        "registered_poor": household.poverty_status != PovertyStatus.NOT_REGISTERED,
        "dibao": household.is_dibao,
        "tekun": household.is_tekun,
        "household_size": household.size,
        "household_has_severe_member": household.members.filter(
            life_status=LifeStatus.ACTIVE, disability_level__in=SEVERE_LEVELS
        ).exists(),
    }


def facts_for(person: Person, *, year: int, on: date) -> Facts:
    holds = Enrollment.objects.filter(person=person, year=year, status__in=ACHIEVED_STATUSES).values_list(
        "benefit_type_id", flat=True
    )
    return Facts(
        age=age_on(person.birth_date, on),
        has_certificate=bool(person.certificate_number),
        category=person.disability_category,
        level=person.disability_level,
        is_employed=person.is_employed,
        work_injury_nursing=person.work_injury_nursing,
        holds=frozenset(holds),
        **household_facts(person.household),
    )


def household_only_facts(household: Household) -> Facts:
    """A household-level benefit looks at the household; the person fields are those of nobody."""
    return Facts(age=0, has_certificate=False, category=0, level=0, **household_facts(household))


@dataclass(frozen=True)
class Verdict:
    benefit_type: BenefitType
    conditions: list[Condition]  # failing rules: empty when eligible
    conflict: str | None  # refused whatever the rules say (already held, deceased ...)
    held: Enrollment | None = None

    @property
    def eligible(self) -> bool:
        return not self.conditions and self.conflict is None

    @property
    def ruled(self) -> bool:
        """Whether the type has eligibility rules (the others are open to any registered person)."""
        return has_rules(self.benefit_type.code)


def person_eligibility(person: Person, *, year: int, on: date | None = None) -> list[Verdict]:
    """Each benefit type a person (or their household) can receive: eligible, failing conditions, or
    a conflict. Institution and base types are not a person's to receive and are left out."""
    on = on or reference_date(year)
    facts = facts_for(person, year=year, on=on)
    policy = policy_for(person.county_code)
    household = person.household
    held = {
        e.benefit_type_id: e
        for e in Enrollment.objects.filter(
            Q(person=person) | Q(household=household, recipient_unit=Unit.HOUSEHOLD)
            if household
            else Q(person=person),
            year=year,
        ).exclude(status=EnrollmentStatus.REJECTED)
    }
    verdicts = []
    for benefit_type in BenefitType.objects.filter(
        is_active=True, unit__in=[Unit.PERSON, Unit.HOUSEHOLD]
    ).select_related("measure"):
        if benefit_type.unit == Unit.HOUSEHOLD and household is None:
            conflict = _("%(name)s is not in a household in the registry.") % {"name": person.name}
            verdicts.append(Verdict(benefit_type, [], conflict))
            continue
        conflict = _conflict(benefit_type, year, person=person, household=household)
        rule_facts = facts if benefit_type.unit == Unit.PERSON else household_only_facts(household)
        verdicts.append(
            Verdict(
                benefit_type,
                failing(benefit_type.code, rule_facts, policy),
                conflict,
                held.get(benefit_type.code),
            )  # fmt: skip
        )
    return verdicts


# --- conflicts -------------------------------------------------------------------------------------------


def _conflict(
    benefit_type: BenefitType,
    year: int,
    *,
    person: Person | None = None,
    household: Household | None = None,
    facility: Facility | None = None,
) -> str | None:
    """Why a record cannot be made at all, or None."""
    if person is not None and person.life_status != LifeStatus.ACTIVE:
        return _(
            "%(name)s is recorded as %(status)s since %(date)s; nothing new can be recorded for them."
        ) % {
            "name": person.name,
            "status": person.get_life_status_display(),
            "date": person.life_status_date or "—",
        }
    live = Enrollment.objects.filter(benefit_type=benefit_type).exclude(status=EnrollmentStatus.REJECTED)
    if benefit_type.unit == Unit.PERSON:
        if live.filter(person=person, year=year).exists():
            return _("%(name)s already has %(benefit)s in %(year)s.") % {
                "name": person.name, "benefit": benefit_type.name, "year": year}  # fmt: skip
        return None
    if benefit_type.unit == Unit.HOUSEHOLD:
        if not household.is_active:
            return _("The household of %(head)s is closed.") % {"head": household.head_name}
        if benefit_type.code in ONCE_PER_HOUSEHOLD:
            done = live.filter(household=household).order_by("year").first()
            if done is not None:
                return _("%(benefit)s is given once per household; the household of %(head)s had it in "
                         "%(year)s.") % {"benefit": benefit_type.name, "head": household.head_name,
                                         "year": done.year}  # fmt: skip
        if live.filter(household=household, year=year).exists():
            return _("The household of %(head)s already has %(benefit)s in %(year)s.") % {
                "head": household.head_name, "benefit": benefit_type.name, "year": year}  # fmt: skip
        return None
    if not facility.is_active:
        return _("%(facility)s is no longer in operation.") % {"facility": facility.name}
    kind = FACILITY_KINDS.get(benefit_type.code)
    if kind is not None and facility.kind != kind:
        return _("%(benefit)s recognises a %(kind)s; %(facility)s is a %(actual)s.") % {
            "benefit": benefit_type.name, "kind": FacilityKind(kind).label, "facility": facility.name,
            "actual": facility.get_kind_display()}  # fmt: skip
    if live.filter(facility=facility, year=year).exists():
        return _("%(facility)s already has %(benefit)s in %(year)s.") % {
            "facility": facility.name, "benefit": benefit_type.name, "year": year}  # fmt: skip
    return None


# --- input -----------------------------------------------------------------------------------------------


def _date(raw, field: str, label: str, errors: dict) -> date | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw).strip())
    except ValueError:
        errors.setdefault(field, []).append(_("%(label)s: enter a date as 2018-03-01.") % {"label": label})
        return None


def _amount(raw, errors: dict) -> Decimal | None:
    if raw in (None, ""):
        return None
    try:
        amount = Decimal(str(raw).strip().replace(",", ""))
    except InvalidOperation:
        errors.setdefault("amount", []).append(_("Amount: enter a number of yuan, such as 1200.50."))
        return None
    if (
        not amount.is_finite()
        or amount < 0
        or amount >= MAX_AMOUNT
        or amount != amount.quantize(Decimal("0.01"))
    ):
        errors.setdefault("amount", []).append(
            _("Amount: between 0 and 999999.99 yuan, with at most two decimals.")
        )
        return None
    return amount


@dataclass
class Application:
    """An application, checked: what `enrollment_apply` writes."""

    benefit_type: BenefitType
    year: int
    start_date: date
    end_date: date | None
    amount: Decimal | None
    note: str
    person: Person | None = None
    household: Household | None = None
    facility: Facility | None = None


def check_application(
    *, actor, data: Mapping[str, Any], person=None, household=None, facility=None
) -> Application:
    """The form's or the API's values, checked field by field (conflicts and rules come after)."""
    errors: dict[str, list[str]] = {}
    benefit_type = BenefitType.objects.filter(code=str(data.get("benefit_type") or "").strip(),
                                              is_active=True).first()  # fmt: skip
    if benefit_type is None:
        errors["benefit_type"] = [_("Benefit type: choose one of the list.")]
    raw_year = str(data.get("year") or "").strip()
    year = int(raw_year) if raw_year.isdigit() and len(raw_year) == 4 else None
    if year not in YEARS:
        errors["year"] = [
            _("Year: a year from %(first)s to %(last)s.") % {"first": YEARS[0], "last": YEARS[-1]}
        ]
        year = None
    start = _date(data.get("start_date"), "start_date", _("Start date"), errors)
    end = _date(data.get("end_date"), "end_date", _("End date"), errors)
    if year is not None and start is None and "start_date" not in errors:
        start = date(year, 1, 1)
    if year is not None and start is not None and start.year != year:
        errors.setdefault("start_date", []).append(_("Start date: a date in %(year)s.") % {"year": year})
    if year is not None and end is not None and end.year != year:
        errors.setdefault("end_date", []).append(
            _("End date: a date in %(year)s (a new year is a new record).") % {"year": year}
        )
    if start is not None and end is not None and end < start:
        errors.setdefault("end_date", []).append(_("End date: not before the start date."))
    amount = _amount(data.get("amount"), errors)
    note = str(data.get("note") or "").strip()
    if len(note) > 200:
        errors["note"] = [_("Note: at most 200 characters.")]
    if benefit_type is not None:
        if benefit_type.unit == Unit.PERSON and person is None:
            errors["person"] = [_("%(benefit)s is recorded for a person.") % {"benefit": benefit_type.name}]
        if benefit_type.unit == Unit.HOUSEHOLD:
            household = household or (person.household if person is not None else None)
            if household is None:
                errors["household"] = [
                    _("%(benefit)s is recorded for a household; this person is not in one.")
                    % {"benefit": benefit_type.name}
                ]
            person = None
        if benefit_type.unit in (Unit.INSTITUTION, Unit.BASE):
            if facility is None:
                errors["facility"] = [
                    _("%(benefit)s is recorded for an institution or base: choose one.")
                    % {"benefit": benefit_type.name}
                ]
            person = household = None
    if errors:
        raise EnrollmentError(errors)
    return Application(benefit_type, year, start, end, amount, note, person, household, facility)


# --- steps -----------------------------------------------------------------------------------------------


def _in_scope(actor, county_code: str) -> None:
    prefix = user_scope_prefix(actor)
    if prefix is None or not county_code.startswith(prefix) or len(prefix) != 6:
        raise StepRefused(_("Only the county that holds the record may record this."))


@transaction.atomic
def enrollment_apply(
    *, actor, application: Application, override_reason: str = "", import_job=None
) -> Enrollment:
    """Record an application after its conflicts and rules; `override_reason` (a reviewer's) lets a
    failed rule pass and is kept with the conditions it overrode."""
    a = application
    place = a.person or a.household or a.facility
    _in_scope(actor, place.county_code)
    # Lock the recipient so two applications at once cannot both pass the conflict check.
    type(place).objects.select_for_update().filter(pk=place.pk).first()
    if a.person is not None:
        a.person = Person.objects.select_related("household").get(pk=a.person.pk)
    conflict = _conflict(a.benefit_type, a.year, person=a.person, household=a.household, facility=a.facility)
    if conflict:
        raise EnrollmentError({"__all__": [conflict]})
    if a.person is not None:
        facts = facts_for(a.person, year=a.year, on=a.start_date)
    elif a.household is not None:
        facts = household_only_facts(a.household)
    else:
        facts = None
    conditions = failing(a.benefit_type.code, facts, policy_for(place.county_code)) if facts else []
    override_reason = (override_reason or "").strip()
    if conditions and not override_reason:
        raise NotEligible(conditions)
    overridden = {}
    if conditions:
        if not actor.has_perm(REVIEW_PERMISSION):
            raise NotEligible(conditions)
        if len(override_reason) < 4 or len(override_reason) > 500:
            raise EnrollmentError(
                {"override_reason": [_("Reason for override: say in 4 to 500 characters why it is allowed.")]}
            )
        overridden = {
            "override_reason": override_reason,
            "overridden_conditions": [{"code": c.code, "message": str(c.message)} for c in conditions],
            "overridden_by": actor,
        }
    household = a.household if a.household is not None else (a.person.household if a.person else None)
    try:
        with pghistory.context(user=actor.pk), transaction.atomic():
            return Enrollment.objects.create(
                benefit_type=a.benefit_type,
                year=a.year,
                recipient_unit=a.benefit_type.unit,
                person=a.person,
                household=household,
                facility=a.facility,
                county_code=place.county_code,
                township_code=place.township_code,
                village_code=place.village_code,
                start_date=a.start_date,
                end_date=a.end_date,
                amount=a.amount,
                note=a.note,
                applied_by=actor,
                import_job=import_job,
                **overridden,
            )
    except IntegrityError as exc:  # the same record made a moment ago by someone else
        raise EnrollmentError(
            {"__all__": [_("This benefit was just recorded for them by someone else.")]}
        ) from exc


def _step(*, actor, enrollment: Enrollment, expected_version: int, allowed_from, values: dict) -> Enrollment:
    _in_scope(actor, enrollment.county_code)
    current = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
    if current.version != expected_version:
        raise StaleRecord(
            _("Someone else changed this record after you opened it. Nothing of yours was saved: "
              "look at it again."),
            current_version=current.version,
            changes={},
        )  # fmt: skip
    if current.status not in allowed_from:
        raise StepRefused(
            _("This record is %(status)s; that step is not possible now.")
            % {"status": current.get_status_display()}
        )
    with pghistory.context(user=actor.pk):
        Enrollment.objects.filter(pk=current.pk).update(
            **values, version=F("version") + 1, updated_at=timezone.now()
        )
    enrollment.refresh_from_db()
    _queue_rollup(enrollment.county_code)
    return enrollment


def _queue_rollup(county_code: str) -> None:
    try:
        from reporting.tasks import queue_rollup
    except ImportError:  # the reporting app is optional for the programs' own tests
        return
    transaction.on_commit(lambda: queue_rollup(county_code=county_code))


@transaction.atomic
def enrollment_review(
    *, actor, enrollment: Enrollment, approve: bool, note: str = "", expected_version: int
) -> Enrollment:
    """Approve or reject an application: a reviewer, and not the one who applied."""
    if not actor.has_perm(REVIEW_PERMISSION):
        raise StepRefused(_("Only a county supervisor approves or rejects an application."))
    if enrollment.applied_by_id == actor.pk:
        raise StepRefused(_("An application is approved by someone other than the one who recorded it."))
    note = (note or "").strip()
    if not approve and not note:
        raise EnrollmentError({"review_note": [_("Note: say why the application is not approved.")]})
    if len(note) > 200:
        raise EnrollmentError({"review_note": [_("Note: at most 200 characters.")]})
    if approve and enrollment.person_id:
        person = Person.objects.get(pk=enrollment.person_id)
        if person.life_status != LifeStatus.ACTIVE:
            raise StepRefused(
                _("%(name)s is recorded as %(status)s; the application cannot be approved.")
                % {"name": person.name, "status": person.get_life_status_display()}
            )
    return _step(
        actor=actor,
        enrollment=enrollment,
        expected_version=expected_version,
        allowed_from={EnrollmentStatus.APPLIED},
        values={
            "status": EnrollmentStatus.APPROVED if approve else EnrollmentStatus.REJECTED,
            "reviewed_by": actor,
            "reviewed_at": timezone.now(),
            "review_note": note,
        },
    )


@transaction.atomic
def enrollment_activate(*, actor, enrollment: Enrollment, expected_version: int) -> Enrollment:
    """On the roll (在册) or paid (已发放)."""
    return _step(
        actor=actor,
        enrollment=enrollment,
        expected_version=expected_version,
        allowed_from={EnrollmentStatus.APPROVED},
        values={"status": EnrollmentStatus.ACTIVE, "activated_by": actor, "activated_at": timezone.now()},
    )


@transaction.atomic
def enrollment_stop(
    *, actor, enrollment: Enrollment, end_date: date, reason: str, expected_version: int
) -> Enrollment:
    """Stop (停发) from a date: monthly lists leave the record out from the month after."""
    reason = (reason or "").strip()
    errors = {}
    if not reason or len(reason) > 200:
        errors["stop_reason"] = [_("Reason: say in at most 200 characters why it stops.")]
    if end_date is None:
        errors["end_date"] = [_("End date: enter the last day it is paid.")]
    elif end_date < enrollment.start_date or end_date.year != enrollment.year:
        errors["end_date"] = [
            _("End date: a date from %(start)s to the end of %(year)s.")
            % {"start": enrollment.start_date, "year": enrollment.year}
        ]
    if errors:
        raise EnrollmentError(errors)
    return _step(
        actor=actor,
        enrollment=enrollment,
        expected_version=expected_version,
        allowed_from={EnrollmentStatus.APPROVED, EnrollmentStatus.ACTIVE},
        values={
            "status": EnrollmentStatus.STOPPED,
            "end_date": end_date,
            "stopped_by": actor,
            "stopped_at": timezone.now(),
            "stop_reason": reason,
        },
    )


@transaction.atomic
def eligibility_setting_save(*, actor, county_code: str, values: Mapping[str, Any]) -> EligibilitySetting:
    """A county supervisor's settings for the county's rules."""
    _in_scope(actor, county_code)
    errors = {}
    low, high = values.get("working_age_min"), values.get("working_age_max")
    if not isinstance(low, int) or not isinstance(high, int) or not (14 <= low <= high <= 70):
        errors["working_age_min"] = [
            _("Working age: whole years, from 14 to 70, the first not above the second.")
        ]
    if errors:
        raise EnrollmentError(errors)
    with pghistory.context(user=actor.pk):
        setting, _created = EligibilitySetting.objects.update_or_create(
            county_id=county_code,
            defaults={
                "living_extends_to_low_income": bool(values.get("living_extends_to_low_income")),
                "nursing_extends_to_level_3_4": bool(values.get("nursing_extends_to_level_3_4")),
                "working_age_min": low,
                "working_age_max": high,
            },
        )
    return setting
