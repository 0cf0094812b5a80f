"""The enrolment sheet kind (受益记录批量导入): what a row of an uploaded list of benefits received means,
and how a checked upload is written.

A row is one application, checked as `programs.enrollments` checks one: its fields, then its conflicts
(the person gone, the benefit already held that year, once per household, the facility closed or of the
wrong kind, the same thing twice in the file), then the eligibility rules. A bulk upload never overrides a
rule: a row whose rules fail is rejected with the failing conditions, and a county supervisor records the
exception on its own. A row already recorded with the same fields is unchanged, so the same file uploaded
again changes nothing. Rows are checked in batches: each batch costs a handful of queries, not one a row.

The commit locks the recipients of the rows (as `enrollment_apply` locks the one it records for), checks
every row again against the records as they are then, and writes the rows still good as applications in
one statement per batch; rows recorded meanwhile by someone else are left out and counted.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal
from itertools import islice
from typing import Any, NamedTuple

import pghistory
from django.db.models import Model, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from areas.models import Area
from beneficiaries.models import Household, LifeStatus, Person, PovertyStatus
from beneficiaries.roster import fold
from imports.kinds import StagedRow, register
from imports.models import ImportRow, RowOutcome

from .eligibility import SEVERE_LEVELS, Condition, Facts, Policy, age_on, failing
from .enrollment_cells import PERSONAL, Draft, SheetReader, message
from .enrollment_workbooks import ENROLLMENT_COLUMNS, enrollment_error_workbook, enrollment_template
from .enrollments import FACILITY_KINDS, ONCE_PER_HOUSEHOLD, policy_for
from .models import (
    ACHIEVED_STATUSES,
    BenefitType,
    Enrollment,
    EnrollmentStatus,
    Facility,
    FacilityKind,
    Unit,
)

BATCH = 2000


# --- the registry, for a batch of rows ------------------------------------------------------------------


def _household_facts(household: Household | None, severe: set[int]) -> dict[str, Any]:
    """`programs.enrollments.household_facts`, with the severe members looked up for the whole batch."""
    if household is None:
        return {}
    return {
        "has_household": True,
        "registered_poor": household.poverty_status != PovertyStatus.NOT_REGISTERED,
        "dibao": household.is_dibao,
        "tekun": household.is_tekun,
        "household_size": household.size,
        "household_has_severe_member": household.pk in severe,
    }


def _recipient_key(unit: str, recipient: Model) -> tuple[str, int]:
    return ("facility" if unit not in PERSONAL else unit, recipient.pk)


class Held(NamedTuple):
    """A live record, as much of it as the checks compare."""

    pk: int
    benefit_type_id: str
    year: int
    start_date: date
    end_date: date | None
    amount: Decimal | None
    facility_id: int | None
    note: str


def _same(record: Held, draft: Draft) -> bool:
    return (record.start_date, record.end_date, record.amount, record.facility_id, record.note) == (
        draft.start_date,
        draft.end_date,
        draft.amount,
        draft.facility.pk if draft.facility else None,
        draft.note,
    )


class Registry:
    """What the rows of a batch need to know of the registry and its records, loaded in a few queries:
    the people by ID number, their households' severe members, the live records of the benefit types
    concerned, and what each person holds in the years concerned."""

    def __init__(self, county_code: str, drafts: list[Draft], policy: Policy):
        self.county_code = county_code
        self.policy = policy
        numbers = {d.id_number for d in drafts if d.id_number}
        self.people = {
            p.id_number: p for p in Person.objects.filter(id_number__in=numbers).select_related("household")
        }
        ours = [p for p in self.people.values() if p.county_code == county_code]
        elsewhere = {p.county_code for p in self.people.values()} - {county_code}
        self.county_names = dict(Area.objects.filter(code__in=elsewhere).values_list("code", "name"))
        households = {p.household_id for p in ours if p.household_id}
        self.severe = set(
            Person.objects.filter(
                household_id__in=households, life_status=LifeStatus.ACTIVE, disability_level__in=SEVERE_LEVELS
            )
            .values_list("household_id", flat=True)
            .distinct()
        )
        people = {p.pk for p in ours}
        facilities = {d.facility.pk for d in drafts if d.facility}
        types = {d.benefit_type.code for d in drafts if d.benefit_type}
        years = {d.year for d in drafts if d.year}
        self.live: dict[tuple, Held] = {}
        self.once: dict[tuple, Held] = {}
        in_years = Q(year__in=years)
        records = (
            Enrollment.objects.filter(benefit_type_id__in=types)
            .filter(
                Q(in_years, recipient_unit=Unit.PERSON, person_id__in=people)
                | Q(
                    in_years | Q(benefit_type_id__in=ONCE_PER_HOUSEHOLD),
                    recipient_unit=Unit.HOUSEHOLD,
                    household_id__in=households,
                )
                | Q(in_years, recipient_unit__in=[Unit.INSTITUTION, Unit.BASE], facility_id__in=facilities)
            )
            .exclude(status=EnrollmentStatus.REJECTED)
            .order_by("year", "pk")
            .values_list("recipient_unit", "person_id", "household_id", *Held._fields)
        )
        for unit, person_id, household_id, *fields in records:
            record = Held(*fields)
            recipient = {Unit.PERSON: ("person", person_id), Unit.HOUSEHOLD: ("household", household_id)}.get(
                unit, ("facility", record.facility_id)
            )
            self.live.setdefault((recipient, record.benefit_type_id, record.year), record)
            self.once.setdefault((recipient, record.benefit_type_id), record)
        self.holds: dict[tuple[int, int], set[str]] = defaultdict(set)
        for person_id, year, code in Enrollment.objects.filter(
            person_id__in=people, year__in=years, status__in=ACHIEVED_STATUSES
        ).values_list("person_id", "year", "benefit_type_id"):
            self.holds[(person_id, year)].add(code)

    def judge(self, draft: Draft, seen: dict[tuple, int]) -> StagedRow:
        """The row's outcome: rejected (with the reason on its column), unchanged, or new."""
        if not draft.errors:
            self._judge(draft, seen)
        values = draft.values()
        if draft.errors:
            return StagedRow(draft.number, RowOutcome.REJECTED, values=values, errors=draft.errors)
        if draft.existing is not None:
            return StagedRow(draft.number, RowOutcome.UNCHANGED, values=values, target_id=draft.existing.pk)
        return StagedRow(draft.number, RowOutcome.NEW, values=values)

    def _judge(self, draft: Draft, seen: dict[tuple, int]) -> None:
        benefit_type = draft.benefit_type
        person = household = None
        if benefit_type.unit in PERSONAL:
            person = self._person(draft)
            if person is None:
                return
            household = person.household
            if benefit_type.unit == Unit.HOUSEHOLD and household is None:
                draft.fail(
                    "id_number",
                    message(
                        "id_number",
                        _("%(field)s: %(benefit)s is recorded for a household; this person is not in one."),
                        benefit=benefit_type.name,
                    ),
                )
                return
        recipient = {Unit.PERSON: person, Unit.HOUSEHOLD: household}.get(benefit_type.unit, draft.facility)
        key = _recipient_key(benefit_type.unit, recipient)
        once = benefit_type.code in ONCE_PER_HOUSEHOLD
        duplicate = (key, benefit_type.code, None if once else draft.year)
        if duplicate in seen:
            draft.fail(
                "benefit_type",
                message(
                    "benefit_type",
                    _("%(field)s: the same as row %(row)s of this file (%(benefit)s, the same recipient)."),
                    row=seen[duplicate],
                    benefit=benefit_type.name,
                ),
            )
            return
        seen[duplicate] = draft.number
        existing = self.live.get((key, benefit_type.code, draft.year))
        if existing is not None and _same(existing, draft):
            draft.existing = existing
            return
        if conflict := self._conflict(draft, key, person, household, existing):
            draft.fail(*conflict)
            return
        if benefit_type.unit == Unit.PERSON:
            facts = self.facts(person, draft.year, draft.start_date)
        elif benefit_type.unit == Unit.HOUSEHOLD:
            facts = Facts(
                age=0, has_certificate=False, category=0, level=0, **_household_facts(household, self.severe)
            )
        else:
            return
        if conditions := failing(benefit_type.code, facts, self.policy):
            draft.fail("benefit_type", not_eligible(benefit_type, conditions))

    def facts(self, person: Person, year: int, on: date) -> Facts:
        """`programs.enrollments.facts_for`, from what the batch loaded."""
        return Facts(
            age=age_on(person.birth_date, on),
            has_certificate=bool(person.certificate_number),
            category=person.disability_category,
            level=person.disability_level,
            is_employed=person.is_employed,
            work_injury_nursing=person.work_injury_nursing,
            holds=frozenset(self.holds.get((person.pk, year), ())),
            **_household_facts(person.household, self.severe),
        )

    def _person(self, draft: Draft) -> Person | None:
        person = self.people.get(draft.id_number)
        if person is None:
            draft.fail(
                "id_number",
                message(
                    "id_number",
                    _(
                        "%(field)s: nobody with this ID number is in the registry. Register the person "
                        "first (the roster upload), then upload this row again."
                    ),
                ),
            )
            return None
        if person.county_code != self.county_code:
            county = self.county_names.get(person.county_code, person.county_code)
            draft.fail(
                "id_number",
                message(
                    "id_number",
                    _(
                        "%(field)s: this person is registered in %(county)s; "
                        "that county records what they receive."
                    ),
                    county=county,
                ),
            )
            return None
        if fold(person.name) != draft.name:
            draft.fail(
                "name",
                message(
                    "name",
                    _(
                        "%(field)s: the registry has %(name)s for this ID number; "
                        "check the name and the ID number."
                    ),
                    name=person.name,
                ),
            )
            return None
        return person

    def _conflict(self, draft, key, person, household, existing) -> tuple[str, str] | None:
        """(column, message) of why the row cannot be recorded at all, as `enrollments._conflict` says."""
        benefit_type, year = draft.benefit_type, draft.year
        facility = draft.facility
        if facility is not None and not facility.is_active:
            return "facility", message(
                "facility", _("%(field)s: %(facility)s is no longer in operation."), facility=facility.name
            )
        if benefit_type.unit == Unit.PERSON:
            if person.life_status != LifeStatus.ACTIVE:
                return "id_number", message(
                    "id_number",
                    _(
                        "%(field)s: this person is recorded as %(status)s; "
                        "nothing new can be recorded for them."
                    ),
                    status=person.get_life_status_display(),
                )
            if existing is not None:
                return "benefit_type", message(
                    "benefit_type",
                    _(
                        "%(field)s: this person already has %(benefit)s in %(year)s, recorded otherwise than "
                        "on this row. Change that record on its page."
                    ),
                    benefit=benefit_type.name,
                    year=year,
                )
            return None
        if benefit_type.unit == Unit.HOUSEHOLD:
            if not household.is_active:
                return "id_number", message(
                    "id_number", _("%(field)s: the household of this person is closed in the registry.")
                )
            done = self.once.get((key, benefit_type.code))
            if benefit_type.code in ONCE_PER_HOUSEHOLD and done is not None:
                return "benefit_type", message(
                    "benefit_type",
                    _(
                        "%(field)s: %(benefit)s is given once per household; "
                        "this household had it in %(year)s."
                    ),
                    benefit=benefit_type.name,
                    year=done.year,
                )
            if existing is not None:
                return "benefit_type", message(
                    "benefit_type",
                    _(
                        "%(field)s: the household of this person already has %(benefit)s in %(year)s, "
                        "recorded otherwise than on this row."
                    ),
                    benefit=benefit_type.name,
                    year=year,
                )
            return None
        kind = FACILITY_KINDS.get(benefit_type.code)
        if kind is not None and facility.kind != kind:
            return "facility", message(
                "facility",
                _("%(field)s: %(benefit)s recognises a %(kind)s; %(facility)s is a %(actual)s."),
                benefit=benefit_type.name,
                kind=FacilityKind(kind).label,
                facility=facility.name,
                actual=facility.get_kind_display(),
            )
        if existing is not None:
            return "benefit_type", message(
                "benefit_type",
                _(
                    "%(field)s: %(facility)s already has %(benefit)s in %(year)s, recorded otherwise than on "
                    "this row."
                ),
                facility=facility.name,
                benefit=benefit_type.name,
                year=year,
            )
        return None


def not_eligible(benefit_type: BenefitType, conditions: list[Condition]) -> str:
    return message(
        "benefit_type",
        _(
            "%(field)s: the rules of %(benefit)s are not met: %(conditions)s. A bulk upload never makes "
            "exceptions: a county supervisor approves exceptions one by one."
        ),
        benefit=benefit_type.name,
        conditions="；".join(str(c.message).rstrip(".。") for c in conditions),
    )


# --- the kind --------------------------------------------------------------------------------------------


def _batches(items: Iterable, size: int = BATCH) -> Iterator[list]:
    items = iter(items)
    while batch := list(islice(items, size)):
        yield batch


def _lock(model: type[Model], ids: set[int]) -> None:
    """Lock rows in id order, as `enrollment_apply` locks the recipient it records for."""
    for chunk in _batches(sorted(ids), 5000):
        list(model.objects.select_for_update().filter(pk__in=chunk).order_by("pk").values_list("pk"))


class EnrollmentKind:
    key = "enrollments"
    label = "受益记录"
    columns = ENROLLMENT_COLUMNS
    # The rows as uploaded carry whole ID numbers: the county's own staff only.
    whole_numbers_permission = "beneficiaries.view_full_id_number"
    upload_permission = "programs.add_enrollment"
    description = gettext_lazy(
        "What people, households and facilities received: one row per benefit and year, recorded as "
        "applications for a supervisor to approve."
    )
    outcomes = (
        (RowOutcome.NEW, gettext_lazy("New records"), "ok"),
        (RowOutcome.UNCHANGED, gettext_lazy("Already recorded"), ""),
        (RowOutcome.REJECTED, gettext_lazy("Rejected rows"), "bad"),
    )
    save_note = gettext_lazy(
        "The good rows are saved in one go as applications, for a county supervisor to approve; rejected "
        "rows are left out. Uploading the same file again changes nothing."
    )

    def template(self, county_code: str) -> bytes:
        return enrollment_template(county_code)

    def error_workbook(self, **rows_and_errors) -> bytes:
        return enrollment_error_workbook(**rows_and_errors)

    def check_rows(self, *, job, rows: Iterable[tuple[int, dict[str, Any]]]) -> Iterator[StagedRow]:
        reader = SheetReader(job.county_code)
        policy = policy_for(job.county_code)
        seen: dict[tuple, int] = {}
        for batch in _batches(rows):
            drafts = [reader.read(number, cells) for number, cells in batch]
            registry = Registry(job.county_code, drafts, policy)
            for draft in drafts:
                yield registry.judge(draft, seen)

    def commit(self, *, job, actor) -> dict[str, int]:
        staged = job.rows.filter(outcome=RowOutcome.NEW).order_by("row_number")
        reader = SheetReader(job.county_code)
        drafts = {
            pk: reader.restore(number, values)
            for pk, number, values in staged.values_list("pk", "row_number", "values")
        }
        numbers = {d.id_number for d in drafts.values() if d.id_number}
        people = dict(Person.objects.filter(id_number__in=numbers).values_list("pk", "household_id"))
        _lock(Person, set(people))
        _lock(Household, {h for h in people.values() if h})
        _lock(Facility, {d.facility.pk for d in drafts.values() if d.facility})
        policy = policy_for(job.county_code)
        seen: dict[tuple, int] = {}
        made, left_out = [], {}
        for batch in _batches(drafts.items()):
            registry = Registry(job.county_code, [d for _, d in batch], policy)
            for pk, draft in batch:
                row = registry.judge(draft, seen)
                if row.outcome == RowOutcome.NEW:
                    made.append(self._record(draft, registry, job, actor))
                else:
                    reason = next(iter(row.errors.values()), _("Recorded meanwhile by someone else."))
                    left_out[pk] = reason[:200]
        with pghistory.context(user=actor.pk, import_job=job.pk):
            Enrollment.objects.bulk_create(made, batch_size=BATCH)
        for pk, reason in left_out.items():
            ImportRow.objects.filter(pk=pk).update(note=reason)
        return {"created": len(made), "updated": 0, "stale": len(left_out)}

    @staticmethod
    def _record(draft: Draft, registry: Registry, job, actor) -> Enrollment:
        benefit_type = draft.benefit_type
        person = registry.people.get(draft.id_number) if benefit_type.unit in PERSONAL else None
        household = person.household if person else None
        place = {Unit.PERSON: person, Unit.HOUSEHOLD: household}.get(benefit_type.unit, draft.facility)
        return Enrollment(
            benefit_type=benefit_type,
            year=draft.year,
            recipient_unit=benefit_type.unit,
            person=person if benefit_type.unit == Unit.PERSON else None,
            household=household,
            facility=draft.facility,
            county_code=place.county_code,
            township_code=place.township_code,
            village_code=place.village_code,
            start_date=draft.start_date,
            end_date=draft.end_date,
            amount=draft.amount,
            note=draft.note,
            status=EnrollmentStatus.APPLIED,
            applied_by=actor,
            import_job=job,
        )

    def commit_message(self, written: dict[str, int]) -> str:
        text = _("Saved: %(created)s applications recorded.") % written
        if written.get("stale"):
            left_out = _(
                "%(stale)s rows were left out: the same benefits were recorded for their people by "
                "someone else after the check, or their people changed. Each such row says why."
            )
            text += " " + left_out % written
        return text

    def refused_message(self) -> str:
        return _(
            "Nothing was saved: the records changed while this file was being saved. Upload the file again "
            "to check it anew."
        )


ENROLLMENTS = register(EnrollmentKind())
