"""The monthly trend: what the province, each city and each county achieved in each month of a year, and
up to each month's end, recomputed in SQL inside the roll-up's transaction and written by differences as
the yearly rows are (`reporting.services`).

When an achievement counts:
- An enrolment counts in the month it was approved: `reviewed_at`, the step that puts it among
  `ACHIEVED_STATUSES` (approved; on the roll and stopped come only after approval). Putting it on the roll
  or paying it later does not move it, and stopping it does not take it back, as in the yearly count.
  A record approved before its year began counts in January, one approved after its year ended in
  December: a year's months hold that year's records, so December's cumulative figure is the yearly one.
  A record without an approval time (one written straight to the table) counts in the month it starts
  from.
  Times are read in the project's time zone: an approval at 00:30 on 1 March in Beijing is March's.
- An exit counts in the month of the household's "out" row, the earliest such row for that year out of
  poverty (a household counts once a year, as in the yearly roll-up, whatever later rows record). A row
  dated in another year than the year it gives out of poverty (registered in 2019 as out since 2016)
  counts in December of that year, or in January when dated before it. Its people are counted as in
  the yearly roll-up: the household's registered members now, except records marked duplicate, each in
  their own county.

Counties are counted from one pass over the achieved enrolments, grouped by county and month, and from
the roll-up's exits, which it counts per village and month for both (one join of the "out" rows with
their people serves the yearly and the monthly rows); cities are sums of their counties and the
province of its cities; in a one-county run, the other counties and cities come from their live rows,
as in the yearly roll-up. Only months with an achievement have a row.
"""

from django.conf import settings
from django.db.backends.utils import CursorWrapper

from .models import ProgressMonth
from .services import MONTH_IN_YEAR, diff_statements

LIVE = ProgressMonth._meta.db_table
FIGURES = "achieved, cumulative, cumulative_for_target"
KEY = "year, month, area_code, level, benefit_type_id"

# Per county, year, benefit type and month of approval: the achieved enrolments. Grouped first by the
# calendar month (one conversion a record), then held within the record's year (once a group).
ENROLMENTS = f"""
DROP TABLE IF EXISTS trend_county;
CREATE TEMP TABLE trend_county ON COMMIT DROP AS
SELECT year, benefit_type_id, area_code, {MONTH_IN_YEAR.format(day="day", year="year")} AS month,
    sum(achieved)::int AS achieved
FROM (
    SELECT e.year, e.benefit_type_id, e.county_code AS area_code,
        date_trunc('month', coalesce(e.reviewed_at AT TIME ZONE %(zone)s, e.start_date)) AS day,
        count(*) AS achieved
    FROM programs_enrollment e
    WHERE e.status = ANY(%(statuses)s) {{in_county}}
    GROUP BY 1, 2, 3, 4
) calendar
GROUP BY 1, 2, 3, 4
"""  # noqa: S608

# Per county, year out of poverty and month: the people of the households that got out in that month, from
# the roll-up's exits (`reporting.services.EXIT_TOTALS`, same transaction, same areas).
EXITS = """
INSERT INTO trend_county (year, benefit_type_id, area_code, month, achieved)
SELECT year, NULL, county_code, month, sum(people)
FROM rollup_exits
GROUP BY 1, 2, 3, 4
"""

# Counties, cities and provinces with their cumulative figures. A city's figure against its target leaves
# out its province-managed counties (they take their targets from the province), as in `Progress`.
ROWS = """
DROP TABLE IF EXISTS trend_rows;
CREATE TEMP TABLE trend_rows ON COMMIT DROP AS
WITH counties AS MATERIALIZED (
    SELECT year, benefit_type_id, area_code, month, achieved FROM trend_county
    {other_counties}
), cities AS MATERIALIZED (
    SELECT c.year, c.benefit_type_id, left(c.area_code, 4) || '00' AS area_code, c.month,
        sum(c.achieved) AS achieved,
        coalesce(sum(c.achieved) FILTER (WHERE NOT coalesce(county.is_province_managed, false)), 0)
            AS achieved_for_target
    FROM counties c LEFT JOIN areas_area county ON county.code = c.area_code
    GROUP BY 1, 2, 3, 4
), months AS (
    SELECT year, benefit_type_id, area_code, 'county' AS level, month, achieved,
        achieved AS achieved_for_target
    FROM counties {own_county}
    UNION ALL
    SELECT year, benefit_type_id, area_code, 'city', month, achieved, achieved_for_target FROM cities
    {own_city}
    UNION ALL
    SELECT year, benefit_type_id, %(province)s, 'province', month, sum(achieved), sum(achieved)
    FROM (
        SELECT year, benefit_type_id, month, achieved FROM cities {own_city}
        {other_cities}
    ) p
    GROUP BY 1, 2, 3, 4, 5
)
SELECT year, month, area_code, level, benefit_type_id, achieved,
    sum(achieved) OVER w AS cumulative, sum(achieved_for_target) OVER w AS cumulative_for_target
FROM months
WINDOW w AS (PARTITION BY year, benefit_type_id, area_code ORDER BY month)
"""
OTHER_COUNTIES = f"""
    UNION ALL
    SELECT year, benefit_type_id, area_code, month, achieved FROM {LIVE}
    WHERE level = 'county' AND area_code LIKE left(%(city)s, 4) || '%%' AND area_code <> %(county)s"""  # noqa: S608
OTHER_CITIES = f"""
    UNION ALL
    SELECT year, benefit_type_id, month, achieved FROM {LIVE}
    WHERE level = 'city' AND area_code <> %(city)s"""  # noqa: S608

# The live rows a run covers: all, or the county's, its city's and the province's.
IN_COUNTY_ROWS = "area_code IN (%(county)s, %(city)s, %(province)s)"

CHANGES, APPLY = diff_statements(
    live=LIVE,
    new_rows="trend_rows",
    changes="trend_changes",
    match=("area_code", "year", "month"),
    figures=FIGURES,
    key=KEY,
    order="area_code, year, benefit_type_id, month",
)
CHANGES = "ANALYZE trend_rows;" + CHANGES
DROP = "DROP TABLE trend_county, trend_rows, trend_changes"


def _statements(county: bool) -> tuple[str, ...]:
    in_county = "AND {alias}.county_code = %(county)s" if county else ""
    own = "WHERE area_code = %(county)s" if county else ""
    return (
        ENROLMENTS.format(in_county=in_county.format(alias="e")),
        EXITS,
        ROWS.format(
            other_counties=OTHER_COUNTIES if county else "",
            own_county=own,
            own_city="WHERE area_code = %(city)s" if county else "",
            other_cities=OTHER_CITIES if county else "",
        ),
        CHANGES.format(covered=IN_COUNTY_ROWS if county else "true"),
    )


WHOLE = _statements(county=False)
COUNTY = _statements(county=True)


def trend_rollup(*, cursor: CursorWrapper, params: dict) -> int:
    """Recompute the monthly rows of the areas a roll-up run covers, in its transaction and under its
    lock, after its statements (the exits come from its `rollup_exits`), and write the differences;
    returns the number of rows written (inserted, updated, deleted).

    `params` are the run's: `computed_at`, `statuses`, `county` (None for a whole run), `city` and
    `province`.
    """
    params = {**params, "zone": settings.TIME_ZONE}
    for statement in WHOLE if params["county"] is None else COUNTY:
        cursor.execute(statement, params)
    changed = 0
    for statement in APPLY:
        cursor.execute(statement, params)
        changed += max(cursor.rowcount, 0)
    cursor.execute(DROP)
    return changed
