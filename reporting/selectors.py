"""What progress pages and the API read: only the roll-up tables (and the area tree for the areas below).

The caller passes an area it has already checked against the user's scope
(`get_visible_or_404(Area, user, code=...)`); nothing here widens it.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from functools import lru_cache

from django.conf import settings
from django.db import connection
from django.utils import timezone

from areas.models import Area, AreaLevel
from programs.models import Unit

#: Ask for every benefit type and the headline.
ALL = "all"
#: The headline: people out of poverty (no benefit type).
HEADLINE = None

BEAT_ENTRY = "reporting-rollup"


@dataclass(frozen=True, slots=True)
class ProgressRow:
    area_code: str
    area_name: str
    level: str
    parent_code: str
    benefit_type: str | None
    unit: str
    target: int | None = None
    allocated: int | None = None
    achieved: int = 0
    achieved_for_target: int = 0
    households: int | None = None
    amount: Decimal = Decimal("0.00")

    @property
    def remaining(self) -> int | None:
        """What the area's target has not yet split further down."""
        return None if self.target is None else self.target - (self.allocated or 0)

    @property
    def completion(self) -> float | None:
        """Achieved against the area's own target, 0.0 upward (above 1.0 when exceeded)."""
        if not self.target:
            return None
        return self.achieved_for_target / self.target


@dataclass(frozen=True)
class AreaProgress:
    area: Area
    year: int
    rows: list[ProgressRow]  # the area's own, the headline first, then by benefit type
    children: list[ProgressRow]  # the areas below, by code, then as `rows`
    computed_at: datetime | None
    stale: bool
    benefit_types: list[str | None] = field(default_factory=list)
    latest_run: int | None = None  # the run the rows were read after: what cached reads are keyed on

    def all_rows(self) -> list[ProgressRow]:
        return [*self.rows, *self.children]


def rollup_interval() -> timedelta:
    return settings.CELERY_BEAT_SCHEDULE[BEAT_ENTRY]["schedule"]


def is_stale(computed_at: datetime | None, now: datetime | None = None) -> bool:
    """Older than twice the schedule promises (or never computed)."""
    if computed_at is None:
        return True
    return (now or timezone.now()) - computed_at > 2 * rollup_interval()


def last_computed_at(area: Area) -> datetime | None:
    """When the roll-up last covered the area: the last whole run, or a later run of the area's county
    (a county run rewrites its county, city and province rows, but a city's or the province's page
    also shows other counties, as of the last whole run)."""
    return _runs(area)[1]


def _runs(area: Area) -> tuple[int | None, datetime | None]:
    """The latest run of any kind (whatever it rewrote), and when the roll-up last covered the area."""
    counties = [""]
    if area.level in (AreaLevel.COUNTY, AreaLevel.TOWNSHIP, AreaLevel.VILLAGE):
        counties.append(area.code[:6])
    with connection.cursor() as cursor:
        cursor.execute(RUNS, [counties])
        return cursor.fetchone()


@lru_cache(maxsize=4096)
def child_areas(code: str) -> tuple[tuple[str, str, str], ...]:
    """(code, name, level) of the areas directly below, by code. Kept for the life of the process: the
    tree changes only when `load_areas` runs, at a deployment."""
    return tuple(Area.objects.filter(parent_id=code).order_by("code").values_list("code", "name", "level"))


def area_progress(*, area: Area, year: int, benefit_type: str | None = ALL) -> AreaProgress:
    """The area's roll-up rows and its children's for a year: all benefit types and the headline
    (`ALL`), one benefit type (its code) or the headline alone (`HEADLINE`).

    Every child appears for every benefit type that the area or one of its children has a row of (zeros
    where a child has none), so a table has no holes. Roll-up rows change only in a run, which leaves a
    run row: the rows read are kept in memory until the next run, so a page view costs one query (two
    after a run).
    """
    latest_run, computed_at = _runs(area)
    key = (area.code, area.name, area.level, area.parent_id or "", year, benefit_type)
    own, children, types = _read_rows(*key, latest_run=latest_run)
    return AreaProgress(
        area, year, list(own), list(children), computed_at, is_stale(computed_at), list(types), latest_run
    )


@lru_cache(maxsize=512)
def _read_rows(code, name, level, parent, year, benefit_type, *, latest_run) -> tuple[tuple, tuple, tuple]:
    if benefit_type == ALL:
        condition, params = "", []
    elif benefit_type is HEADLINE:
        condition, params = "AND p.benefit_type_id IS NULL", []
    else:
        condition, params = "AND p.benefit_type_id = %s", [benefit_type]
    with connection.cursor() as cursor:
        cursor.execute(AREA_ROWS.format(condition=condition), [year, parent, code, code, *params])
        found = [ProgressRow(*values) for values in cursor.fetchall()]
    if benefit_type == ALL:
        types = sorted({row.benefit_type for row in found}, key=lambda type_code: type_code or "")
    else:
        types = [benefit_type]
    units = {row.benefit_type: row.unit for row in found}
    by_key = {(row.area_code, row.benefit_type): row for row in found}

    def row_for(area_code: str, area_name: str, area_level: str, parent_code: str, type_code) -> ProgressRow:
        return by_key.get((area_code, type_code)) or ProgressRow(
            area_code, area_name, area_level, parent_code, type_code, units.get(type_code, Unit.PERSON)
        )

    below = child_areas(code)
    own = tuple(row_for(code, name, level, parent, t) for t in types)
    children = [
        row_for(child, child_name, child_level, code, t)
        for child, child_name, child_level in below
        for t in types
    ]
    # Rows of areas no longer in the tree (a withdrawn code still on old records) come after the rest.
    listed = {code, *(child for child, _, _ in below)}
    children += sorted(
        (row for row in found if row.area_code not in listed),
        key=lambda row: (row.area_code, row.benefit_type or ""),
    )
    return own, tuple(children), tuple(types)


#: Levels with monthly rows (`reporting.trend`).
TREND_LEVELS = (AreaLevel.PROVINCE, AreaLevel.CITY, AreaLevel.COUNTY)


@dataclass(frozen=True, slots=True)
class MonthlyProgress:
    """A year's twelve months of one area and benefit type (None: the headline), January first: what
    was achieved up to each month's end, in all and against the area's own target."""

    benefit_type: str | None
    cumulative: tuple[int, ...]
    cumulative_for_target: tuple[int, ...]


def area_trend(*, progress: AreaProgress) -> dict[str | None, MonthlyProgress]:
    """The monthly figures of the area and year that `progress` was read for, by benefit type (None for
    the headline); a type with nothing achieved in the year has none. Read after the same run as
    `progress` and kept until the next, as its rows are: no query on a page view between runs, and
    none for a township (no monthly rows)."""
    if progress.area.level not in TREND_LEVELS:
        return {}
    return _read_months(progress.area.code, progress.year, latest_run=progress.latest_run)


@lru_cache(maxsize=512)
def _read_months(code: str, year: int, *, latest_run: int | None) -> dict[str | None, MonthlyProgress]:
    with connection.cursor() as cursor:
        cursor.execute(AREA_MONTHS, [code, year])
        found = cursor.fetchall()
    months: dict[str | None, dict[int, tuple[int, int]]] = {}
    for type_code, month, cumulative, for_target in found:
        months.setdefault(type_code, {})[month] = (cumulative, for_target)
    trend = {}
    for type_code, by_month in months.items():
        carried, series = (0, 0), []
        for month in range(1, 13):  # a month without a row achieved nothing: the figure carries over
            carried = by_month.get(month, carried)
            series.append(carried)
        trend[type_code] = MonthlyProgress(
            type_code, tuple(c for c, _ in series), tuple(t for _, t in series)
        )
    return trend


# An area's monthly rows of a year: one range of the index (area, year, type, month).
AREA_MONTHS = """
SELECT benefit_type_id, month, cumulative, cumulative_for_target FROM reporting_progressmonth
WHERE area_code = %s AND year = %s
"""

# The area's own rows and its children's: both are ranges of the one index (parent, year, type, area).
AREA_ROWS = """
SELECT p.area_code, coalesce(a.name, ''), p.level, p.parent_code, p.benefit_type_id,
    coalesce(t.unit, 'person'), p.target, p.allocated, p.achieved, p.achieved_for_target, p.households,
    p.amount
FROM reporting_progress p
LEFT JOIN areas_area a ON a.code = p.area_code
LEFT JOIN programs_benefittype t ON t.code = p.benefit_type_id
WHERE p.year = %s AND ((p.parent_code = %s AND p.area_code = %s) OR p.parent_code = %s) {condition}
"""

RUNS = """
SELECT (SELECT id FROM reporting_rolluprun ORDER BY id DESC LIMIT 1),
    (SELECT started_at FROM reporting_rolluprun WHERE county_code = ANY(%s) ORDER BY started_at DESC LIMIT 1)
"""
