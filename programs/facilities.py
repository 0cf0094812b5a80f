"""Facilities: the bases and institutions of a county (辅助性就业机构, 托养机构, 扶贫基地).

Writes go through `facility_create` and `facility_update`; the county is always the actor's own. An update
is `UPDATE ... WHERE version = <the one the form was opened with>`: a stale save changes nothing and names
the fields someone else changed. Reads start from `Facility.objects.visible_to(user)`.
"""

import re
from collections.abc import Mapping
from typing import Any

import pghistory
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from areas.models import AreaLevel
from areas.scoping import user_scope_prefix
from beneficiaries.errors import NotAllowed, RecordInvalid, StaleRecord
from beneficiaries.services import check_location

from .models import Enrollment, Facility, FacilityKind, Unit

FACILITY_FIELDS = (
    "name", "kind", "capacity", "address", "operator", "phone", "is_active",
    "county_code", "township_code", "village_code",
)  # fmt: skip
LIMITS = {"name": 100, "address": 200, "operator": 100, "phone": 20}
MAX_CAPACITY = 100_000
PHONE = re.compile(r"1\d{10}|0\d{2,3}-?\d{7,8}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class _Errors:
    def __init__(self):
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if value is None or isinstance(value, list | dict | tuple | set):
        return ""
    return _CONTROL.sub("", str(value)).strip()


def _flag(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on", "是", "y"}
    return bool(value)


def _labels() -> dict[str, str]:
    return {
        "name": _("Name"),
        "kind": _("Kind"),
        "capacity": _("Capacity"),
        "address": _("Address"),
        "operator": _("Operated by"),
        "phone": _("Phone"),
        "is_active": _("In operation"),
        "county_code": _("County"),
        "township_code": _("Township"),
        "village_code": _("Village"),
    }


def facility_check(*, actor, data: Mapping[str, Any], instance: Facility | None = None) -> dict[str, Any]:
    """Clean a facility's fields without writing; raises RecordInvalid with the errors of every field."""
    errors, labels = _Errors(), _labels()
    values: dict[str, Any] = {key: _text(data, key) for key in ("name", "address", "operator", "phone")}
    if not values["name"]:
        errors.add("name", _("%(field)s: this field is empty.") % {"field": labels["name"]})
    for key, limit in LIMITS.items():
        if len(values[key]) > limit:
            errors.add(
                key, _("%(field)s: at most %(count)s characters.") % {"field": labels[key], "count": limit}
            )
    if values["phone"] and not PHONE.fullmatch(values["phone"]):
        errors.add("phone", _("Phone: write an 11-digit mobile number or a landline with its area code."))
    values["kind"] = _text(data, "kind")
    if values["kind"] not in FacilityKind.values:
        errors.add("kind", _("%(field)s: choose one of the listed values.") % {"field": labels["kind"]})
    raw = data.get("capacity")
    values["capacity"] = None
    if raw not in (None, ""):
        try:
            values["capacity"] = int(str(raw).strip())
            if not 0 <= values["capacity"] <= MAX_CAPACITY:
                raise ValueError
        except (TypeError, ValueError):
            errors.add(
                "capacity",
                _("Capacity: enter a whole number from 0 to %(max)s, or leave it empty.")
                % {"max": MAX_CAPACITY},
            )
    values["is_active"] = _flag(data.get("is_active", True))
    values.update(check_location(user_scope_prefix(actor), data, errors))
    if values["name"] and "name" not in errors.errors:
        same = Facility.objects.filter(county_code=values["county_code"], name=values["name"])
        if instance is not None:
            same = same.exclude(pk=instance.pk)
        if same.exists():
            errors.add("name", _name_taken_message())
    if errors.errors:
        raise RecordInvalid(errors.errors)
    return values


def _own_county(actor) -> str:
    """Facilities are kept by the county that runs them: a writer works in their own county."""
    area = getattr(actor, "area", None)
    if area is None or area.level != AreaLevel.COUNTY:
        raise NotAllowed(_("Facilities are kept by county offices."))
    return area.code


def _name_taken(error: IntegrityError) -> bool:
    return "facility_name_once_per_county" in str(error)


def _name_taken_message() -> str:
    return _("Name: your county already has a facility with this name.")


def _name_taken_error() -> RecordInvalid:
    return RecordInvalid({"name": [_name_taken_message()]})


@transaction.atomic
def facility_create(*, actor, data: Mapping[str, Any]) -> Facility:
    county = _own_county(actor)
    values = facility_check(actor=actor, data={**data, "county_code": county})
    try:
        with pghistory.context(user=actor.pk), transaction.atomic():
            return Facility.objects.create(**values)
    except IntegrityError as error:
        if _name_taken(error):
            raise _name_taken_error() from error
        raise


def _changed_since(facility_id: int, version: int, current: Facility) -> dict[str, tuple[object, object]]:
    """Field -> (as opened, as stored now), read from the history row of the version that was opened."""
    opened = (
        Facility.events.rel.related_model.objects.filter(pgh_obj_id=facility_id, version=version)
        .order_by("-pgh_id")
        .first()
    )
    if opened is None:
        return {}
    return {
        name: (getattr(opened, name), getattr(current, name))
        for name in FACILITY_FIELDS
        if getattr(opened, name) != getattr(current, name)
    }


def stale_message(changes: Mapping[str, tuple[object, object]]) -> str:
    labels = _labels()
    if changes:
        fields = "、".join(str(labels.get(name, name)) for name in changes)
        return _(
            "Someone else saved this facility after you opened it and changed: %(fields)s. Nothing of yours "
            "was saved: look at what changed, then edit again."
        ) % {"fields": fields}
    return _(
        "Someone else saved this facility after you opened it. Nothing of yours was saved: look at what "
        "changed, then edit again."
    )


@transaction.atomic
def facility_update(*, actor, facility: Facility, data: Mapping[str, Any], expected_version: int) -> Facility:
    """Save the fields in `data` over the stored ones, only if nobody saved since `expected_version`."""
    county = _own_county(actor)
    if facility.county_code != county:
        raise NotAllowed(_("This record is outside your area."))
    values = facility_check(actor=actor, data={**data, "county_code": county}, instance=facility)
    try:
        with pghistory.context(user=actor.pk), transaction.atomic():
            updated = Facility.objects.filter(pk=facility.pk, version=expected_version).update(
                **values, version=F("version") + 1, updated_at=timezone.now()
            )
    except IntegrityError as error:
        if _name_taken(error):
            raise _name_taken_error() from error
        raise
    current = Facility.objects.get(pk=facility.pk)
    if not updated:
        changes = _changed_since(facility.pk, expected_version, current)
        raise StaleRecord(stale_message(changes), current_version=current.version, changes=changes)
    return current


# -- reads ----------------------------------------------------------------------------------------------

FACILITY_FILTER_VALUES = {
    "county": re.compile(r"\d{6}"),
    "township": re.compile(r"\d{9}"),
    "kind": re.compile("|".join(FacilityKind.values)),
    "active": re.compile(r"yes|no"),
}


def facility_search(*, user, q: str = "", filters: Mapping[str, str] | None = None) -> QuerySet[Facility]:
    """Facilities the user may see, narrowed by the beginning of a name and the filters."""
    facilities = Facility.objects.visible_to(user)
    q = re.sub(r"[\s\x00-\x1f]", "", q or "")
    if q:
        facilities = facilities.filter(name__startswith=q)
    for key, value in (filters or {}).items():
        if value in (None, "") or key not in FACILITY_FILTER_VALUES:
            continue
        if not FACILITY_FILTER_VALUES[key].fullmatch(str(value)):
            return facilities.none()
        if key == "county":
            facilities = facilities.filter(county_code=value)
        elif key == "township":
            facilities = facilities.filter(township_code=value)
        elif key == "kind":
            facilities = facilities.filter(kind=value)
        else:
            facilities = facilities.filter(is_active=value == "yes")
    return facilities


def facility_people(*, user, facility: Facility) -> QuerySet[Enrollment]:
    """The people the facility serves: person enrolments that name it, newest year first."""
    return (
        Enrollment.objects.visible_to(user)
        .filter(facility=facility, recipient_unit=Unit.PERSON)
        .select_related("person", "benefit_type")
        .order_by("-year", "person__name", "id")
    )


def facility_recognitions(*, user, facility: Facility) -> QuerySet[Enrollment]:
    """What the facility itself was recognised or funded as (an institution or base enrolment)."""
    return (
        Enrollment.objects.visible_to(user)
        .filter(Q(recipient_unit=Unit.INSTITUTION) | Q(recipient_unit=Unit.BASE), facility=facility)
        .select_related("benefit_type")
        .order_by("-year", "benefit_type_id")
    )
