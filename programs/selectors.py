"""Reads of enrolments for pages and the API; every one starts from what the user may see."""

from collections.abc import Mapping

from django.db.models import Q, QuerySet

from .models import Enrollment, EnrollmentStatus

#: Filters a list accepts, each checked before it reaches the query (anything else is ignored).
ENROLLMENT_FILTERS = ("year", "benefit_type", "status", "township", "person", "household", "facility", "q")


def enrollment_search(*, user, filters: Mapping[str, str]) -> QuerySet[Enrollment]:
    rows = Enrollment.objects.visible_to(user).select_related(
        "benefit_type", "person", "household", "facility"
    )
    year = (filters.get("year") or "").strip()
    if year.isdigit() and len(year) == 4:
        rows = rows.filter(year=int(year))
    if benefit_type := (filters.get("benefit_type") or "").strip()[:30]:
        rows = rows.filter(benefit_type_id=benefit_type)
    status = (filters.get("status") or "").strip()
    if status in EnrollmentStatus.values:
        rows = rows.filter(status=status)
    township = (filters.get("township") or "").strip()
    if township.isdigit() and len(township) == 9:
        rows = rows.filter(township_code=township)
    for key in ("person", "household", "facility"):
        value = (filters.get(key) or "").strip()
        if value.isdigit() and len(value) < 19:
            rows = rows.filter(**{f"{key}_id": int(value)})
    if q := (filters.get("q") or "").strip()[:50]:
        rows = rows.filter(
            Q(person__name__startswith=q)
            | Q(household__head_name__startswith=q)
            | Q(facility__name__startswith=q)
        )
    return rows


def recipient_name(enrollment: Enrollment) -> str:
    if enrollment.person_id:
        return enrollment.person.name
    if enrollment.facility_id:
        return enrollment.facility.name
    return enrollment.household.head_name if enrollment.household_id else ""
