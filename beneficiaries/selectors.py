"""Reads of the registry. Every one starts from `visible_to(user)`."""

import re
from collections.abc import Mapping
from dataclasses import dataclass

from django.db.models import QuerySet

from poverty_relief.logging import mask_id_numbers

from .models import Household, Person

ID_LIKE = re.compile(r"^\d{6,17}[\dXx]?$|^\d{18}[1-7]?[1-4]?$")
PAGE_SIZE = 50

# Query parameter -> lookup, for the filters the list offers.
PERSON_FILTERS = {
    "county": "county_code",
    "township": "township_code",
    "village": "village_code",
    "category": "disability_category",
    "level": "disability_level",
    "life_status": "life_status",
    "poverty_status": "household__poverty_status",
}


FILTER_VALUES = {
    "county": re.compile(r"\d{6}"),
    "township": re.compile(r"\d{9}"),
    "village": re.compile(r"\d{12}"),
    "category": re.compile(r"[1-7]"),
    "level": re.compile(r"[1-4]"),
    "life_status": re.compile(r"[a-z_]{1,16}"),
    "poverty_status": re.compile(r"[a-z_]{1,16}"),
}


def person_search(*, user, q: str = "", filters: Mapping[str, str] | None = None) -> QuerySet[Person]:
    """People the user may see, narrowed by a search text and filters.

    The search text is an ID or certificate number (or its beginning), or the beginning of a name: each
    uses an index, so a search stays fast on a registry of millions.
    """
    people = Person.objects.visible_to(user)
    q = re.sub(r"[\s\x00-\x1f]", "", q or "")
    if q:
        if ID_LIKE.match(q):
            number = q.upper()
            people = people.filter(id_number__startswith=number[:18])
            if len(number) > 18:
                people = people.filter(certificate_number__startswith=number)
        else:
            people = people.filter(name__startswith=q)
    for key, lookup in PERSON_FILTERS.items():
        value = (filters or {}).get(key)
        if value in (None, ""):
            continue
        if not FILTER_VALUES[key].fullmatch(str(value)):
            return people.none()  # a value no record can have (a hand-edited address, say)
        people = people.filter(**{lookup: value})
    return people


def household_search(*, user, q: str = "", filters: Mapping[str, str] | None = None) -> QuerySet[Household]:
    households = Household.objects.visible_to(user)
    q = re.sub(r"[\s\x00-\x1f]", "", q or "")
    if q:
        households = households.filter(head_name__startswith=q)
    for key, lookup in {
        "township": "township_code",
        "village": "village_code",
        "poverty_status": "poverty_status",
    }.items():
        value = (filters or {}).get(key)
        if value in (None, ""):
            continue
        if not FILTER_VALUES[key].fullmatch(str(value)):
            return households.none()
        households = households.filter(**{lookup: value})
    return households


@dataclass(frozen=True)
class KeysetPage:
    items: list
    next_after: int | None  # pass as ?after= for the next page
    prev_before: int | None  # pass as ?before= for the previous page


def keyset_page(
    queryset: QuerySet, *, after: int | None = None, before: int | None = None, size: int = PAGE_SIZE
) -> KeysetPage:
    """A page in id order, found from the last id seen instead of an offset: page 20,000 costs what page 1
    does."""
    if before is not None:
        rows = list(queryset.filter(pk__lt=before).order_by("-pk")[: size + 1])
        more_before = len(rows) > size
        items = list(reversed(rows[:size]))
        return KeysetPage(
            items, items[-1].pk if items else None, items[0].pk if items and more_before else None
        )
    if after is not None:
        queryset = queryset.filter(pk__gt=after)
    rows = list(queryset.order_by("pk")[: size + 1])
    items = rows[:size]
    return KeysetPage(
        items,
        items[-1].pk if len(rows) > size else None,
        items[0].pk if items and after is not None else None,
    )


def mask_id_number(number: str | None) -> str:
    """360781********0071: enough to tell people apart in a list, not enough to misuse."""
    return mask_id_numbers(number or "")
