"""What the registry pages share: scope checks, labels, place names, history rows."""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from areas.models import Area, AreaLevel

from ..errors import StaleRecord
from ..selectors import mask_id_number

FULL_ID = "beneficiaries.view_full_id_number"


def int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def county_of(user) -> str:
    """Writing pages work inside one county: the user's own."""
    if user.area is None or user.area.level != AreaLevel.COUNTY:
        raise PermissionDenied
    return user.area.code


def township_choices(user):
    return Area.objects.visible_to(user).filter(level=AreaLevel.TOWNSHIP).order_by("code")


def labels(choices) -> dict:
    # Resolved once per request: a lazy label per cell costs more than the query of the page.
    return {value: str(label) for value, label in choices}


def area_names(codes) -> dict[str, str]:
    codes = set(codes)
    names = dict(Area.objects.filter(code__in=codes | {c[:9] for c in codes}).values_list("code", "name"))
    return {code: f"{names.get(code[:9], '')} {names.get(code, '')}".strip() for code in codes}


HISTORY_SKIP = {
    "pgh_id",
    "pgh_created_at",
    "pgh_label",
    "pgh_obj",
    "pgh_obj_id",
    "pgh_context",
    "pgh_context_id",
    "id",
    "version",
    "created_at",
    "updated_at",
}


def history(record, *, whole_numbers: bool = False) -> list[dict]:
    """Each saved version of the record, newest first, with what it changed and who saved it.

    ID numbers are masked; the birth date (the masked digits) shows only its year unless the user may see
    whole numbers."""
    from accounts.models import User

    events = list(record.events.select_related("pgh_context").order_by("pgh_id"))
    user_ids = {e.pgh_context.metadata.get("user") for e in events if e.pgh_context}
    users = {u.pk: u for u in User.objects.filter(pk__in=[u for u in user_ids if u])}
    fields = [f for f in record._meta.concrete_fields if f.name not in HISTORY_SKIP]
    rows, previous = [], None
    for event in events:
        changes = []
        for f in fields:
            after = getattr(event, f.attname)
            before = getattr(previous, f.attname) if previous else None
            if previous is None or before != after:
                changes.append(
                    (f.verbose_name, display(f, before, whole_numbers), display(f, after, whole_numbers))
                )
        context = event.pgh_context.metadata if event.pgh_context else {}
        rows.append(
            {
                "when": event.pgh_created_at,
                "label": event.pgh_label,
                "actor": users.get(context.get("user")),
                "url": context.get("url", ""),
                "version": event.version,
                "changes": changes,
            }
        )
        previous = event
    return rows[::-1]


def display(field, value, whole_numbers: bool = False) -> str:
    if value is None or value == "":
        return "—"
    if field.name == "birth_date" and not whole_numbers:
        return str(value.year)  # with the masked ID number, the whole date would give the number back
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if field.name in ("id_number", "certificate_number"):
        return mask_id_number(value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return str(value)


def conflict_rows(model, stale: StaleRecord) -> list[tuple[str, str, str]]:
    rows = []
    for name, (opened, current) in stale.changes.items():
        field = model._meta.get_field(name)
        rows.append((field.verbose_name, display(field, opened), display(field, current)))
    return rows
