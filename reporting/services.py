"""The roll-up: progress of every area, year and benefit type, recomputed from the source tables in SQL.

What counts:
- A benefit type's achievement is the number of its enrolments in the year whose status is in
  `ACHIEVED_STATUSES`. The database allows one live record per recipient, benefit type and year, so this
  plain count is the number of distinct people (unit person), households (unit household) or facilities
  (institutions and bases). Households are counted where that is a plain count too: for household-unit
  types (the achievement itself) and for the headline. For person-unit types a distinct count of the
  people's households would cost more than the rest of the roll-up (measured: 8 s of CPU for the
  households of 3 million records alone), so it is left empty.
- The headline (people out of poverty, no benefit type) comes from the dated household status rows, not
  from the household's `exit_year` field, which holds only the latest state: a household out in 2016,
  back into poverty in 2017 and out again in 2019 has two exits, and its rows keep both. A household
  counts as out of poverty in each year that one of its "out" rows gives as its year out of poverty (the
  row's date when it gives none): a household registered in 2019 as out since 2016 exited in 2016, not
  on the day it was typed in, and a later "out" row that only records a 低保 change is not a second exit.
  Its people are its registered disabled members as the registry holds them now (every person linked to
  the household, except records marked duplicate), each counted in the village of their own record; the
  household counts once a year, in each village where it has such members (one, normally). A household
  with no such member adds nothing.

How it is written: in one transaction, under a PostgreSQL advisory lock so that two runs never overlap.
Enrolments and exits are counted per village (one pass over each source table); townships and counties
are sums of their villages, cities of their counties, the province of its cities. The new roll-up of
the areas the run covers (all, or one county with its city and the province) goes into a temporary
table, is compared with the live rows of those areas in one join, and only the differences are
written: rows deleted, changed, added. Until the commit readers see the previous roll-up, after it the
new one; they never wait and never see a mixture. A run repeated on the same data writes nothing.
Each statement reads what was committed when it began (a run that waited for another sees its rows).
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction

from areas.models import PROVINCE_CODE, Area, AreaLevel
from programs.models import ACHIEVED_STATUSES

from .models import Progress, RollupRun, RollupTrigger

# For this transaction: the hash aggregates and joins hold a million rows or more (the default 4 MB of
# work_mem would spill them to disk); joins hash rather than sort, since sorting text in the database's
# collation is several times slower than hashing it; parallel workers would pass every group through one
# merge in the leader (measured slower than one process); expressions are compiled without LLVM's
# optimisation passes, which cost more than they save here.
SESSION = (
    "SET LOCAL work_mem = '256MB'; SET LOCAL enable_mergejoin = off; "
    "SET LOCAL max_parallel_workers_per_gather = 0; "
    "SET LOCAL jit_optimize_above_cost = -1; SET LOCAL jit_inline_above_cost = -1"
)
# pg_advisory_xact_lock key of the roll-up ("rollup" in ASCII): every run, whole or one county, takes it.
LOCK_KEY = 0x726F6C6C7570

LIVE = Progress._meta.db_table
FIGURES = "target, allocated, achieved, achieved_for_target, households, amount"
KEY = "year, area_code, level, parent_code, benefit_type_id"


class RollupError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class RollupResult:
    skipped: bool  # another run held the lock and this one did not wait
    run: RollupRun | None = None

    @property
    def rows(self) -> int:
        return self.run.rows if self.run else 0


def rollup_run(
    *, county_code: str | None = None, trigger: str = RollupTrigger.MANUAL, wait: bool = False
) -> RollupResult:
    """Recompute the roll-up: everything, or one county and the areas above it.

    With `wait`, a run that finds another in progress waits for it to finish; without, it returns at
    once with `skipped=True` and writes nothing.
    """
    if county_code is not None and not Area.objects.filter(code=county_code, level=AreaLevel.COUNTY).exists():
        raise RollupError(f"not a county: {county_code!r}")
    with transaction.atomic(), connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        else:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [LOCK_KEY])
            if not cursor.fetchone()[0]:
                return RollupResult(skipped=True)
        cursor.execute(SESSION)
        # Not now(): the transaction may have begun long before, waiting for the lock.
        cursor.execute("SELECT clock_timestamp()")
        started_at: datetime = cursor.fetchone()[0]
        params = {
            "computed_at": started_at,
            "statuses": [str(status) for status in ACHIEVED_STATUSES],
            "county": county_code,
            "city": f"{county_code[:4]}00" if county_code else None,
            "province": PROVINCE_CODE,
        }
        sql = WHOLE if county_code is None else COUNTY
        for statement in sql.compute:
            cursor.execute(statement, params)
        changed = 0
        for statement in sql.apply:
            cursor.execute(statement, params)
            changed += max(cursor.rowcount, 0)
        cursor.execute(sql.count, params)
        rows = cursor.fetchone()[0]
        from .trend import trend_rollup  # the monthly rows of the same areas, in the same transaction

        trend_rollup(cursor=cursor, params=params)
        cursor.execute("DROP TABLE rollup_village, rollup_exits, rollup_target, rollup_rows, rollup_changes")
        cursor.execute("SELECT clock_timestamp()")
        run = RollupRun.objects.create(
            started_at=started_at,
            finished_at=cursor.fetchone()[0],
            county_code=county_code or "",
            rows=rows,
            changed=changed,
            trigger=trigger,
        )
    return RollupResult(skipped=False, run=run)


# Per village: the counted enrolments of each year and benefit type (no distinct count). Households are
# counted for household-unit types, where each record is one. The whole province is read from the index
# that holds these columns in this order (enrollment_rollup_idx), group after group: a hash aggregate
# would hold a million groups of text keys and spill them to disk, at two to three times the cost. Rows
# on pages changed since the last vacuum are checked in the table too (slower, still well ahead of the
# hash). Figures are integers from here on, as in the roll-up table: sums of integers stay integers
# (numeric sums are slow).
ENROLMENT_TOTALS = """
DROP TABLE IF EXISTS rollup_village;
{sorted}
CREATE TEMP TABLE rollup_village ON COMMIT DROP AS
SELECT e.year, e.benefit_type_id, e.village_code, count(*)::int AS achieved,
    nullif(count(*) FILTER (WHERE e.recipient_unit = 'household'), 0)::int AS households,
    coalesce(sum(e.amount), 0) AS amount
FROM programs_enrollment e
WHERE e.status = ANY(%(statuses)s) {in_county}
GROUP BY e.village_code, e.year, e.benefit_type_id;
SET LOCAL enable_hashagg = on
"""

# The month of a date within a year: its own month in that year, January when before it, December after
# (date_part, not extract: extract's numeric result made the trend's pass over the enrolments half as slow
# again).
MONTH_IN_YEAR = (
    "greatest(1, least(12, (date_part('year', {day}) - {year}) * 12 + date_part('month', {day})))::int"
)

# The exits, per year out of poverty, month (of the year's earliest "out" row, for the monthly trend)
# and village: their people and households. The exits are the distinct (household, year out of poverty)
# of the "out" rows; their members are joined once, for the yearly rows here and the monthly ones in
# `reporting.trend` alike (the join costs more than the rest of the exits together). A household has
# one month a year, so households summed over the months are the year's distinct households. Then the
# per-village yearly figures, from that table.
EXIT_TOTALS = """
DROP TABLE IF EXISTS rollup_exits;
CREATE TEMP TABLE rollup_exits ON COMMIT DROP AS
SELECT year, month, county_code, village_code, sum(people)::int AS people, count(*)::int AS households
FROM (
    SELECT x.year, x.month, p.county_code, p.village_code, x.household_id, count(*) AS people
    FROM ({exits}) x JOIN beneficiaries_person p ON p.household_id = x.household_id
    WHERE p.life_status <> 'duplicate' {in_county}
    GROUP BY 1, 2, 3, 4, 5
) members
GROUP BY 1, 2, 3, 4;
INSERT INTO rollup_village (year, benefit_type_id, village_code, achieved, households, amount)
SELECT year, NULL, village_code, sum(people)::int, sum(households)::int, 0
FROM rollup_exits
GROUP BY year, village_code;
ANALYZE rollup_village (year, benefit_type_id, village_code);
"""
_YEAR_OUT = "coalesce(s.exit_year, date_part('year', s.effective_date)::int)"
_EXIT = f"""s.household_id, {_YEAR_OUT} AS year,
        min({MONTH_IN_YEAR.format(day="s.effective_date", year=_YEAR_OUT)}) AS month"""
ALL_EXITS = f"""
    SELECT {_EXIT}
    FROM beneficiaries_householdstatus s
    WHERE s.poverty_status = 'out'
    GROUP BY 1, 2"""  # noqa: S608
# One county: from its people's households to their status rows (an index lookup each, which OFFSET 0
# keeps the planner from turning into a scan of every status row of the province).
COUNTY_EXITS = f"""
    SELECT {_EXIT}
    FROM (
        SELECT DISTINCT household_id FROM beneficiaries_person
        WHERE county_code = %(county)s AND household_id IS NOT NULL
    ) h
    CROSS JOIN LATERAL (
        SELECT * FROM beneficiaries_householdstatus s
        WHERE s.household_id = h.household_id AND s.poverty_status = 'out'
        OFFSET 0
    ) s
    GROUP BY 1, 2"""  # noqa: S608

# The targets of the areas the run covers, with what each has split further down.
TARGETS = """
DROP TABLE IF EXISTS rollup_target;
CREATE TEMP TABLE rollup_target ON COMMIT DROP AS
SELECT t.year, t.benefit_type_id, t.area_id AS area_code, a.level, t.quantity,
    (SELECT coalesce(sum(c.quantity), 0)::int FROM programs_target c WHERE c.parent_id = t.id) AS allocated
FROM programs_target t
JOIN areas_area a ON a.code = t.area_id
WHERE true {in_county}
"""

# Each statement below: the achievements of some levels, full-joined with the targets of those levels
# (a target with nothing achieved is a row too, and so is an achievement without a target).
_ROWS = """
SELECT coalesce(a.year, t.year) AS year, c.area_code, {level} AS level, {parent} AS parent_code,
    coalesce(a.benefit_type_id, t.benefit_type_id) AS benefit_type_id, t.quantity AS target, t.allocated,
    coalesce(a.achieved, 0) AS achieved, coalesce(a.achieved_for_target, 0) AS achieved_for_target,
    a.households, coalesce(a.amount, 0) AS amount
FROM ({achieved}) a
FULL JOIN (SELECT * FROM rollup_target WHERE level IN ({levels})) t
    ON t.year = a.year AND t.area_code = a.area_code
    AND coalesce(t.benefit_type_id, '') = coalesce(a.benefit_type_id, '')
CROSS JOIN LATERAL (SELECT coalesce(a.area_code, t.area_code) AS area_code) c
"""


def _rows(head: str, **parts: str) -> str:
    return head + _ROWS.format(**parts)  # noqa: S608 (made of this module's constants only)


# Villages straight from their totals (a million rows and more: they are not copied again), townships
# and counties into a temporary table (both in one pass over the villages), with the cities and the
# province below. Targets are seldom given to villages: without any, the villages' rows are their totals
# as they are (no join, row by row, with an empty table); each branch is decided once per run.
_VILLAGE_TARGETS = "(SELECT FROM rollup_target WHERE level = 'village')"
_TARGETED_VILLAGES = _rows(
    "",
    achieved="""
        SELECT year, benefit_type_id, village_code AS area_code, achieved, achieved AS achieved_for_target,
            households, amount
        FROM rollup_village""",
    levels="'village'",
    level="'village'",
    parent="left(c.area_code, 9)",
)
_VILLAGES = f"""
SELECT year, village_code AS area_code, 'village'::text AS level, left(village_code, 9) AS parent_code,
    benefit_type_id, NULL::int AS target, NULL::int AS allocated, achieved, achieved AS achieved_for_target,
    households, amount
FROM rollup_village
WHERE NOT EXISTS {_VILLAGE_TARGETS}
UNION ALL
{_TARGETED_VILLAGES}WHERE EXISTS {_VILLAGE_TARGETS}"""  # noqa: S608
BELOW_CITY = _rows(
    "DROP TABLE IF EXISTS rollup_rows; CREATE TEMP TABLE rollup_rows ON COMMIT DROP AS",
    achieved="""
        SELECT year, benefit_type_id,
            CASE grouping(left(village_code, 9)) WHEN 0 THEN left(village_code, 9) ELSE left(village_code, 6)
            END AS area_code,
            sum(achieved)::int AS achieved, sum(achieved)::int AS achieved_for_target,
            sum(households)::int AS households, sum(amount) AS amount
        FROM rollup_village
        GROUP BY year, benefit_type_id, GROUPING SETS (left(village_code, 9), left(village_code, 6))""",
    levels="'township', 'county'",
    level="CASE length(c.area_code) WHEN 9 THEN 'township' ELSE 'county' END",
    parent="CASE length(c.area_code) WHEN 9 THEN left(c.area_code, 6) ELSE left(c.area_code, 4) || '00' END",
)

# A city is the sum of its counties (in a county run: that county's new row and the others' live
# rows); what counts against its target leaves out the province-managed counties, which take their
# targets from the province.
CITIES = _rows(
    f"INSERT INTO rollup_rows ({KEY}, {FIGURES})",
    achieved="""
        SELECT p.year, p.benefit_type_id, p.parent_code AS area_code, sum(p.achieved) AS achieved,
            coalesce(sum(p.achieved) FILTER (WHERE NOT coalesce(county.is_province_managed, false)), 0)
                AS achieved_for_target,
            sum(p.households) AS households, sum(p.amount) AS amount
        FROM (
            SELECT year, benefit_type_id, area_code, parent_code, achieved, households, amount
            FROM rollup_rows WHERE level = 'county'
            {other_counties}
        ) p
        LEFT JOIN areas_area county ON county.code = p.area_code
        GROUP BY 1, 2, 3""",
    levels="'city'",
    level="'city'",
    parent="%(province)s",
)
PROVINCE = _rows(
    f"INSERT INTO rollup_rows ({KEY}, {FIGURES})",
    achieved="""
        SELECT year, benefit_type_id, %(province)s AS area_code, sum(achieved) AS achieved,
            sum(achieved) AS achieved_for_target, sum(households) AS households, sum(amount) AS amount
        FROM (
            SELECT year, benefit_type_id, achieved, households, amount FROM rollup_rows WHERE level = 'city'
            {other_cities}
        ) p
        GROUP BY 1, 2""",
    levels="'province'",
    level="'province'",
    parent="''",
)
OTHER_COUNTIES = f"""
    UNION ALL
    SELECT year, benefit_type_id, area_code, parent_code, achieved, households, amount FROM {LIVE}
    WHERE parent_code = %(city)s AND area_code <> %(county)s"""  # noqa: S608
OTHER_CITIES = f"""
    UNION ALL
    SELECT year, benefit_type_id, achieved, households, amount FROM {LIVE}
    WHERE parent_code = %(province)s AND area_code <> %(city)s"""  # noqa: S608

# The live rows the run covers: all, or a county's own, its townships' and villages' (their parent
# codes start with the county's), its city's and the province's. Each part is a range of the index.
IN_COUNTY_ROWS = """(
    parent_code LIKE %(county)s || '%%'
    OR (parent_code = %(city)s AND area_code = %(county)s)
    OR (parent_code = %(province)s AND area_code = %(city)s)
    OR (parent_code = '' AND area_code = %(province)s)
)"""


def diff_statements(
    *, live: str, new_rows: str, changes: str, match: tuple[str, ...], figures: str, key: str, order: str
) -> tuple[str, tuple[str, str, str]]:
    """The statements that write recomputed rows over the live ones by their differences.

    First, in one join, the differences into the temporary table `changes`: rows only live (to delete),
    only new (to add), or with other figures (or level); live rows are those `{covered}` selects, a
    placeholder left for the caller. Then the deletes, updates and inserts, the inserts in `order`."""
    on = " AND ".join(f"l.{column} = n.{column}" for column in match)
    compared = [*figures.split(", "), "level"]
    live_figures, new_figures = (", ".join(f"{side}.{name}" for name in compared) for side in "ln")
    find = f"""
DROP TABLE IF EXISTS {changes};
CREATE TEMP TABLE {changes} ON COMMIT DROP AS
SELECT l.id AS live_id, n.*
FROM {new_rows} n
FULL JOIN (SELECT * FROM {live} WHERE {{covered}}) l
    ON {on} AND coalesce(l.benefit_type_id, '') = coalesce(n.benefit_type_id, '')
WHERE l.id IS NULL OR n.area_code IS NULL
    OR ({live_figures}) IS DISTINCT FROM ({new_figures})
"""  # noqa: S608
    apply = (
        f"DELETE FROM {live} WHERE id IN (SELECT live_id FROM {changes} WHERE area_code IS NULL)",  # noqa: S608
        f"""
    UPDATE {live} l SET {", ".join(f"{name} = c.{name}" for name in figures.split(", "))}, level = c.level,
        computed_at = %(computed_at)s
    FROM {changes} c WHERE l.id = c.live_id AND c.area_code IS NOT NULL
    """,  # noqa: S608
        f"""
    INSERT INTO {live} ({key}, {figures}, computed_at)
    SELECT {key}, {figures}, %(computed_at)s FROM {changes} WHERE live_id IS NULL
    ORDER BY {order}
    """,  # noqa: S608
    )
    return find, apply


CHANGES, APPLY = diff_statements(
    live=LIVE,
    new_rows=f"({_VILLAGES} UNION ALL SELECT * FROM rollup_rows)",  # noqa: S608
    changes="rollup_changes",
    match=("parent_code", "year", "area_code"),
    figures=FIGURES,
    key=KEY,
    # In the order of the index, so that a first run (everything new) appends to it page after page.
    order='parent_code COLLATE "C", year, benefit_type_id COLLATE "C", area_code COLLATE "C"',
)
CHANGES = "ANALYZE rollup_rows (year, area_code, level, parent_code, benefit_type_id);" + CHANGES


@dataclass(frozen=True)
class Statements:
    compute: tuple[str, ...]
    apply: tuple[str, ...]
    count: str


def _statements(county: bool) -> Statements:
    in_county = {
        "enrollment": "AND e.county_code = %(county)s" if county else "",
        "person": "AND p.county_code = %(county)s" if county else "",
        "target": "AND (t.area_id LIKE %(county)s || '%%' OR t.area_id IN (%(city)s, %(province)s))"
        if county
        else "",
    }
    exits = COUNTY_EXITS if county else ALL_EXITS
    return Statements(
        compute=(
            ENROLMENT_TOTALS.format(
                in_county=in_county["enrollment"], sorted="" if county else "SET LOCAL enable_hashagg = off;"
            ),
            EXIT_TOTALS.format(exits=exits, in_county=in_county["person"]),
            TARGETS.format(in_county=in_county["target"]),
            BELOW_CITY,
            CITIES.format(other_counties=OTHER_COUNTIES if county else ""),
            PROVINCE.format(other_cities=OTHER_CITIES if county else ""),
            CHANGES.format(covered=IN_COUNTY_ROWS if county else "true"),
        ),
        apply=APPLY,
        count=f"SELECT count(*) FROM {LIVE} WHERE {IN_COUNTY_ROWS if county else 'true'}",  # noqa: S608
    )


WHOLE = _statements(county=False)
COUNTY = _statements(county=True)
