"""The registry in the roster layout: who is in it, under which title, with whole or masked numbers.

The county's direct download (`beneficiaries.views.registry_export`) and the export job write through
here, so both files have the template's layout and its formula defence (`write_roster`), and a file
written for the job can be filled in and uploaded again like the direct one.
"""

from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any

from django.db.models import QuerySet
from django.utils import timezone

from areas.models import Area
from beneficiaries.models import LifeStatus, Person
from beneficiaries.roster_workbooks import person_export_rows, roster_title, write_roster
from beneficiaries.selectors import FILTER_VALUES, PERSON_FILTERS, mask_id_number, person_search

FULL_ID = "beneficiaries.view_full_id_number"
PERMISSION = "beneficiaries.view_person"
#: The filters that name an area, narrowest first: the export belongs to the first one given.
AREA_FILTERS = ("village", "township", "county")
MAX_SEARCH = 40


def registry_parameters(user, data: Mapping[str, Any]) -> dict[str, Any]:
    """The search text and filters of the registry list, as the export job keeps them.

    Values the list would not accept are dropped rather than kept: an export never holds more than the
    list showed, since `person_search` answers a malformed filter with nobody."""
    filters = {key: str(data[key]) for key in PERSON_FILTERS if data.get(key) and str(data[key]).strip()}
    return {
        "q": str(data.get("q") or "")[:MAX_SEARCH],
        "filters": filters,
        "whole_numbers": user.has_perm(FULL_ID),
    }


def registry_area(user, parameters: Mapping[str, Any]) -> Area | None:
    """The narrowest area the export is about: the village, township or county filtered on, else the
    user's own. None when a filter names an area the user may not see."""
    filters = parameters.get("filters", {})
    for key in AREA_FILTERS:
        code = filters.get(key)
        if code:
            if not FILTER_VALUES[key].fullmatch(code):
                return None
            return Area.objects.visible_to(user).filter(code=code).first()
    return user.area


def registry_people(user, parameters: Mapping[str, Any]) -> QuerySet[Person]:
    """The people the export writes: those the list shows for the same search, and only people on the
    registry (alive, not moved away) unless the list was filtered by status."""
    filters = parameters.get("filters", {})
    people = person_search(user=user, q=parameters.get("q", ""), filters=filters)
    if not filters.get("life_status"):
        people = people.filter(life_status=LifeStatus.ACTIVE)
    return people


def registry_title(area: Area) -> str:
    return roster_title(area.name)


def registry_file_name(area: Area) -> str:
    return f"{registry_title(area)}-{area.code}.xlsx"


def registry_write(
    people: QuerySet[Person],
    out: IO[bytes],
    *,
    title: str,
    whole_numbers: bool,
    on_row: Callable[[int], None] | None = None,
) -> int:
    """Stream the people to `out` in the roster layout; returns the rows written.

    Without `whole_numbers` the ID and certificate numbers are masked, as every list shows them.
    `on_row(n)` is called after each row is handed to the sheet (the job's progress)."""
    rows = person_export_rows(people)
    if not whole_numbers:
        rows = _masked(rows)
    if on_row is not None:
        rows = _counted(rows, on_row)
    return write_roster(rows, out, title=title, subtitle=timezone.localdate().isoformat())


def registry_job_write(
    people: QuerySet[Person],
    parameters: Mapping[str, Any],
    out: IO[bytes],
    *,
    title: str,
    on_row: Callable[[int], None] | None = None,
) -> int:
    """`registry_write` with the job's own answer to whole numbers, decided when it was asked for."""
    whole_numbers = bool(parameters.get("whole_numbers"))
    return registry_write(people, out, title=title, whole_numbers=whole_numbers, on_row=on_row)


def _masked(rows: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for row in rows:
        row["id_number"] = mask_id_number(row["id_number"])
        row["certificate_number"] = mask_id_number(row["certificate_number"])
        yield row


def _counted(rows: Iterator[dict[str, Any]], on_row: Callable[[int], None]) -> Iterator[dict[str, Any]]:
    for number, row in enumerate(rows, 1):
        yield row
        on_row(number)
