from collections import Counter

from django.db.models import Count
from django.db.models.functions import Substr

from .models import PREFIX_LENGTH, Area, AreaLevel

CHILD_LEVEL = {
    AreaLevel.PROVINCE: AreaLevel.CITY,
    AreaLevel.CITY: AreaLevel.COUNTY,
    AreaLevel.COUNTY: AreaLevel.TOWNSHIP,
    AreaLevel.TOWNSHIP: AreaLevel.VILLAGE,
}


def area_children_with_counts(area: Area) -> list[tuple[Area, dict[str, int]]]:
    """The area's children, each with how many areas of each level lie under it (two queries)."""
    children = list(Area.objects.filter(parent=area).order_by("code"))
    child_level = CHILD_LEVEL.get(AreaLevel(area.level))
    if child_level is None:
        return []
    length = PREFIX_LENGTH[child_level]
    rows = (
        Area.objects.filter(code__startswith=area.prefix)
        .exclude(level__in=[area.level, child_level])
        .annotate(child_prefix=Substr("code", 1, length))
        .values("child_prefix", "level")
        .annotate(n=Count("code"))
    )
    counts: dict[str, Counter] = {}
    for row in rows:
        counts.setdefault(row["child_prefix"], Counter())[row["level"]] = row["n"]
    return [(child, dict(counts.get(child.prefix, Counter()))) for child in children]


def area_breadcrumbs(area: Area, user) -> list[tuple[Area, bool]]:
    """The path from the province to `area`, each with whether the user may open it."""
    visible_prefix = user.area.prefix if getattr(user, "area", None) else None
    trail = [*area.ancestors(), area]
    return [(a, visible_prefix is not None and a.code.startswith(visible_prefix)) for a in trail]
