"""Writes to the registry. Views, the API, the admin and imports call these and nothing else."""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pghistory
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from areas.models import Area, AreaLevel
from areas.scoping import user_scope_prefix

from .choices import DisabilityCategory, DisabilityLevel
from .errors import DuplicatePerson, NotAllowed, RecordInvalid, StaleRecord
from .models import (
    Household,
    HouseholdStatus,
    LifeStatus,
    Person,
    PersonStatusChange,
    PovertyCause,
    PovertyStatus,
    Relation,
    TransferRequest,
    TransferStatus,
)
from .validation import IdValidationError, parse_certificate_number, parse_id_number

PERSON_FIELDS = (
    "name", "id_number", "certificate_number", "disability_category", "disability_level",
    "county_code", "township_code", "village_code", "household", "relation_to_head", "phone",
    "is_employed", "work_injury_nursing",
)  # fmt: skip
HOUSEHOLD_FIELDS = (
    "county_code", "township_code", "village_code", "head_name", "size", "poverty_status", "exit_year",
    "is_dibao", "is_tekun", "main_cause",
)  # fmt: skip
HOUSEHOLD_STATUS_FIELDS = ("poverty_status", "exit_year", "is_dibao", "is_tekun")
PROVINCE_PREFIX = "36"


@dataclass
class Checked:
    """Cleaned values ready to store, and warnings worth showing but not blocking."""

    values: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


class _Errors:
    def __init__(self):
        self.errors: dict[str, list[str]] = {}

    def add(self, field_name: str, message: str) -> None:
        self.errors.setdefault(field_name, []).append(message)

    def raise_if_any(self) -> None:
        if self.errors:
            raise RecordInvalid(self.errors)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
PHONE = re.compile(r"1\d{10}|0\d{2,3}-?\d{7,8}")
NAME_LENGTH = 50


def _text(data: Mapping[str, Any], key: str) -> str:
    """A field as text: lists, objects and control characters are not text anyone typed."""
    value = data.get(key)
    if value is None or isinstance(value, list | dict | tuple | set):
        return ""
    return _CONTROL.sub("", str(value)).strip()


def _long(errors: "_Errors", key: str, value: str, label: str, limit: int = NAME_LENGTH) -> None:
    if len(value) > limit:
        errors.add(key, _("%(field)s: at most %(count)s characters.") % {"field": label, "count": limit})


def _flag(value) -> bool:
    """A yes/no from JSON, a form checkbox ("on") or a spreadsheet cell ("是")."""
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on", "是", "y"}
    return bool(value)


def _choice(errors: _Errors, data, key: str, choices, label: str):
    raw = data.get(key)
    try:
        return choices(int(raw)) if issubclass(choices, int) else choices(str(raw))
    except (TypeError, ValueError, OverflowError):
        errors.add(key, _("%(field)s: choose one of the listed values.") % {"field": label})
        return None


def check_location(prefix: str | None, data: Mapping[str, Any], errors: _Errors) -> dict[str, str]:
    """County, township and village must exist, nest, and lie inside the area with this code prefix."""
    codes = {key: _text(data, key) for key in ("county_code", "township_code", "village_code")}
    found = {a.code: a for a in Area.objects.filter(code__in=[c for c in codes.values() if c])}
    expected = {
        "county_code": AreaLevel.COUNTY,
        "township_code": AreaLevel.TOWNSHIP,
        "village_code": AreaLevel.VILLAGE,
    }
    labels = {"county_code": _("County"), "township_code": _("Township"), "village_code": _("Village")}
    parent_key = {"township_code": "county_code", "village_code": "township_code"}
    prefix = prefix or "\0"  # no area: nothing is inside it
    for key, level in expected.items():
        code, label = codes[key], labels[key]
        area = found.get(code)
        if not code:
            errors.add(key, _("%(field)s: this field is empty.") % {"field": label})
        elif area is None or area.level != level:
            errors.add(key, _("%(field)s: no such %(field)s code %(code)s.") % {"field": label, "code": code})
        elif key in parent_key and area.parent_id != codes[parent_key[key]]:
            errors.add(
                key,
                _("%(field)s: %(name)s is not in the one chosen above.")
                % {"field": label, "name": area.name},
            )
        elif not code.startswith(prefix):
            errors.add(
                key, _("%(field)s: %(name)s is outside your area.") % {"field": label, "name": area.name}
            )
    return codes


def person_check(*, actor, data: Mapping[str, Any], instance: Person | None = None) -> Checked:
    """Validate a person's fields without writing: used by the services and by the live form checks."""
    errors, warnings = _Errors(), []
    values: dict[str, Any] = {}
    values["name"] = _text(data, "name")
    if not values["name"]:
        errors.add("name", _("%(field)s: this field is empty.") % {"field": _("Full name")})
    category = _choice(errors, data, "disability_category", DisabilityCategory, _("Disability category"))
    level = _choice(errors, data, "disability_level", DisabilityLevel, _("Disability level"))
    values["disability_category"], values["disability_level"] = category, level
    identity = None
    try:
        identity = parse_id_number(data.get("id_number"))
        values["id_number"] = identity.number
        values["gender"], values["birth_date"] = identity.gender, identity.birth_date
        warnings.extend(identity.warnings)
    except IdValidationError as exc:
        errors.add("id_number", str(exc))
    certificate = _text(data, "certificate_number")
    values["certificate_number"] = None
    if certificate:
        try:
            parsed = parse_certificate_number(
                certificate, id_number=values.get("id_number"), category=category, level=level
            )
            values["certificate_number"] = parsed.number
        except IdValidationError as exc:
            errors.add("certificate_number", str(exc))
    values.update(check_location(user_scope_prefix(actor), data, errors))
    values["phone"] = _text(data, "phone")
    if values["phone"] and not PHONE.fullmatch(values["phone"]):
        errors.add("phone", _("Phone: write an 11-digit mobile number or a landline with its area code."))
    _long(errors, "name", values["name"], _("Full name"))
    relation = _text(data, "relation_to_head")
    if relation and relation not in Relation.values:
        errors.add(
            "relation_to_head",
            _("%(field)s: choose one of the listed values.") % {"field": _("Relation to the head")},
        )
    values["relation_to_head"] = relation
    for flag in ("is_employed", "work_injury_nursing"):  # left as they are when not given
        if flag in data:
            values[flag] = _flag(data[flag])
    values["household"] = _household(actor, data.get("household"), values.get("county_code"), errors)
    if values["household"] is not None and not relation:
        errors.add(
            "relation_to_head",
            _("Relation to the head: say how this person is related to the head of the household."),
        )
    if "id_number" in values:
        holder = (
            Person.objects.exclude(pk=getattr(instance, "pk", None))
            .filter(id_number=values["id_number"])
            .first()
        )
        if holder is not None:
            county = (
                Area.objects.filter(code=holder.county_code).values_list("name", flat=True).first()
                or holder.county_code
            )
            raise DuplicatePerson(
                _(
                    "ID number: this person is already registered in %(county)s; "
                    "ask for a transfer instead of registering again."
                )
                % {"county": county},
                county_code=holder.county_code,
                county_name=county,
            )
    errors.raise_if_any()
    return Checked(values, warnings)


def _household(actor, raw, county_code, errors: _Errors) -> Household | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, Household):
        household = raw
    else:
        try:
            household = Household.objects.visible_to(actor).filter(pk=int(raw)).first()
        except (TypeError, ValueError):
            household = None
    if household is None or not household.is_active:
        errors.add("household", _("Household: no such household in your area."))
        return None
    if county_code and household.county_code != county_code:
        errors.add("household", _("Household: the household is in another county than the person."))
    return household


def _require_in_scope(actor, record) -> None:
    prefix = user_scope_prefix(actor)
    if prefix is None or not record.county_code.startswith(prefix):
        raise NotAllowed(_("This record is outside your area."))


@transaction.atomic
def person_register(*, actor, data: Mapping[str, Any]) -> Person:
    checked = person_check(actor=actor, data=data)
    person = Person(**checked.values)
    with pghistory.context(user=actor.pk):
        try:
            with transaction.atomic():
                person.save()
        except IntegrityError:
            # Two clerks registered the same ID in the same instant: checking again names the holder.
            person_check(actor=actor, data=data)
            raise
    return person


def _diff_since(model, pk: int, version: int, current) -> dict[str, tuple[object, object]]:
    """What changed between the version the user opened and the stored one, from the history rows."""
    opened = (
        model.events.rel.related_model.objects.filter(pgh_obj_id=pk, version=version)
        .order_by("-pgh_id")
        .first()
    )
    if opened is None:
        return {}
    skip = {"id", "version", "created_at", "updated_at"}
    return {
        f.name: (getattr(opened, f.attname), getattr(current, f.attname))
        for f in model._meta.concrete_fields
        if f.name not in skip and getattr(opened, f.attname) != getattr(current, f.attname)
    }


def _save_versioned(*, actor, model, instance, values: dict[str, Any], expected_version: int):
    """UPDATE ... WHERE version = expected: a stale form changes nothing and says what changed."""
    with pghistory.context(user=actor.pk):
        updated = model.objects.filter(pk=instance.pk, version=expected_version).update(
            **values, version=F("version") + 1, updated_at=timezone.now()
        )
    current = model.objects.get(pk=instance.pk)
    if not updated:
        raise StaleRecord(
            _(
                "Someone else saved this record after you opened it. Nothing of yours was saved: "
                "look at what changed, then edit again."
            ),
            current_version=current.version,
            changes=_diff_since(model, instance.pk, expected_version, current),
        )
    return current


@transaction.atomic
def person_update(*, actor, person: Person, data: Mapping[str, Any], expected_version: int) -> Person:
    _require_in_scope(actor, person)
    checked = person_check(actor=actor, data=data, instance=person)
    if checked.values["county_code"] != person.county_code:
        raise RecordInvalid(
            {"county_code": [_("County: a person moves to another county by a transfer request.")]}
        )
    return _save_versioned(
        actor=actor, model=Person, instance=person, values=checked.values, expected_version=expected_version
    )


@transaction.atomic
def person_set_life_status(
    *, actor, person: Person, status: LifeStatus, effective_date: date, reason: str, expected_version: int
) -> Person:
    """Deactivate (deceased, moved out, duplicate) or reactivate; no record is ever deleted."""
    _require_in_scope(actor, person)
    reason = (reason or "").strip()
    if status != LifeStatus.ACTIVE and not reason:
        raise RecordInvalid({"reason": [_("Reason: say why the record is deactivated.")]})
    if effective_date > timezone.localdate():
        raise RecordInvalid({"effective_date": [_("Date: the date cannot be in the future.")]})
    values = {"life_status": status, "life_status_date": effective_date, "life_status_reason": reason}
    person = _save_versioned(
        actor=actor, model=Person, instance=person, values=values, expected_version=expected_version
    )
    PersonStatusChange.objects.create(
        person=person, life_status=status, effective_date=effective_date, reason=reason, recorded_by=actor
    )
    return person


def household_check(*, actor, data: Mapping[str, Any]) -> Checked:
    errors = _Errors()
    values: dict[str, Any] = check_location(user_scope_prefix(actor), data, errors)
    values["head_name"] = _text(data, "head_name")
    if not values["head_name"]:
        errors.add("head_name", _("%(field)s: this field is empty.") % {"field": _("Head of household")})
    try:
        values["size"] = int(data.get("size"))
        if not 1 <= values["size"] <= 30:
            raise ValueError
    except (TypeError, ValueError, OverflowError):
        errors.add("size", _("Household size: enter a whole number from 1 to 30."))
    status = _choice(errors, data, "poverty_status", PovertyStatus, _("Poverty status"))
    values["poverty_status"] = status
    exit_year = data.get("exit_year")
    values["exit_year"] = None
    if exit_year not in (None, ""):
        try:
            values["exit_year"] = int(exit_year)
            if not 2014 <= values["exit_year"] <= timezone.localdate().year:
                raise ValueError
        except (TypeError, ValueError):
            errors.add("exit_year", _("Year out of poverty: enter a year from 2014 to this year."))
    if status == PovertyStatus.OUT and values["exit_year"] is None and "exit_year" not in errors.errors:
        errors.add(
            "exit_year", _("Year out of poverty: a household out of poverty needs the year it got out.")
        )
    if status in (PovertyStatus.NOT_OUT, PovertyStatus.NOT_REGISTERED) and values["exit_year"] is not None:
        errors.add(
            "exit_year", _("Year out of poverty: leave it empty unless the household is out of poverty.")
        )
    values["is_dibao"] = _flag(data.get("is_dibao"))
    values["is_tekun"] = _flag(data.get("is_tekun"))
    values["main_cause"] = _text(data, "main_cause")
    if values["main_cause"] and values["main_cause"] not in PovertyCause.values:
        errors.add(
            "main_cause",
            _("%(field)s: choose one of the listed values.") % {"field": _("Main cause of poverty")},
        )
    _long(errors, "head_name", values["head_name"], _("Head of household"))
    errors.raise_if_any()
    return Checked(values)


def _record_household_status(*, actor, household: Household, effective_date: date, note: str = "") -> None:
    HouseholdStatus.objects.create(
        household=household,
        effective_date=effective_date,
        recorded_by=actor,
        note=note,
        **{name: getattr(household, name) for name in HOUSEHOLD_STATUS_FIELDS},
    )


@transaction.atomic
def household_register(*, actor, data: Mapping[str, Any], effective_date: date | None = None) -> Household:
    checked = household_check(actor=actor, data=data)
    with pghistory.context(user=actor.pk):
        household = Household.objects.create(**checked.values)
        _record_household_status(
            actor=actor, household=household, effective_date=effective_date or timezone.localdate()
        )
    return household


@transaction.atomic
def household_update(
    *,
    actor,
    household: Household,
    data: Mapping[str, Any],
    expected_version: int,
    effective_date: date | None = None,
) -> Household:
    _require_in_scope(actor, household)
    checked = household_check(actor=actor, data=data)
    if checked.values["county_code"] != household.county_code:
        raise RecordInvalid({"county_code": [_("County: a household cannot move to another county here.")]})
    before = {name: getattr(household, name) for name in HOUSEHOLD_STATUS_FIELDS}
    updated = _save_versioned(
        actor=actor,
        model=Household,
        instance=household,
        values=checked.values,
        expected_version=expected_version,
    )
    if before != {name: getattr(updated, name) for name in HOUSEHOLD_STATUS_FIELDS}:
        _record_household_status(
            actor=actor, household=updated, effective_date=effective_date or timezone.localdate()
        )
    return updated


@transaction.atomic
def household_deactivate(*, actor, household: Household, reason: str, expected_version: int) -> Household:
    _require_in_scope(actor, household)
    if not (reason or "").strip():
        raise RecordInvalid({"reason": [_("Reason: say why the record is deactivated.")]})
    if household.members.filter(life_status=LifeStatus.ACTIVE).exists():
        raise RecordInvalid(
            {"__all__": [_("The household still has active members: deactivate or move them first.")]}
        )
    values = {"is_active": False, "deactivated_at": timezone.now(), "deactivation_reason": reason.strip()}
    return _save_versioned(
        actor=actor, model=Household, instance=household, values=values, expected_version=expected_version
    )


def household_status_as_of(household: Household, when: date) -> HouseholdStatus | None:
    return household.statuses.filter(effective_date__lte=when).order_by("-effective_date", "-id").first()


@transaction.atomic
def transfer_request(*, actor, person: Person, data: Mapping[str, Any], reason: str) -> TransferRequest:
    """The sending county asks; the person stays where they are until the receiving county accepts."""
    _require_in_scope(actor, person)
    errors = _Errors()
    # The destination is outside the sender's area by definition: check it against the whole province.
    destination = check_location(PROVINCE_PREFIX, data, errors)
    if not (reason or "").strip():
        errors.add("reason", _("Reason: say why the person moves."))
    if destination["county_code"] == person.county_code and "county_code" not in errors.errors:
        errors.add("county_code", _("County: the person is already registered in this county."))
    errors.raise_if_any()
    if person.transfers.filter(status=TransferStatus.PENDING).exists():
        raise RecordInvalid({"__all__": [_("A transfer of this person is already waiting for an answer.")]})
    return TransferRequest.objects.create(
        person=person,
        from_county_code=person.county_code,
        to_county_code=destination["county_code"],
        to_township_code=destination["township_code"],
        to_village_code=destination["village_code"],
        reason=reason.strip(),
        requested_by=actor,
    )


@transaction.atomic
def transfer_decide(*, actor, transfer: TransferRequest, accept: bool) -> TransferRequest:
    prefix = user_scope_prefix(actor)
    if prefix is None or not transfer.to_county_code.startswith(prefix):
        raise NotAllowed(_("Only the receiving county decides on a transfer."))
    # Locked, so that two answers at once cannot both go through.
    transfer = TransferRequest.objects.select_for_update().get(pk=transfer.pk)
    if transfer.status != TransferStatus.PENDING:
        raise RecordInvalid({"__all__": [_("This transfer has already been decided.")]})
    with pghistory.context(user=actor.pk):
        if accept:
            # Only from where the request said the person was.
            Person.objects.filter(pk=transfer.person_id, county_code=transfer.from_county_code).update(
                county_code=transfer.to_county_code,
                township_code=transfer.to_township_code,
                village_code=transfer.to_village_code,
                household=None,
                relation_to_head="",
                version=F("version") + 1,
                updated_at=timezone.now(),
            )
        transfer.status = TransferStatus.ACCEPTED if accept else TransferStatus.REJECTED
        transfer.decided_by, transfer.decided_at = actor, timezone.now()
        transfer.save(update_fields=["status", "decided_by", "decided_at"])
    return transfer
