"""How fast the roll-up recomputes progress from the registry and the enrolments, against the obvious
Django ORM loop, and how fast the province dashboard's selector answers while 16 clients ask at once.

In a scratch database with the area tree and the 2018 plan: `--people` people in households over every
village of Jiangxi and `--records` enrolments, generated inside PostgreSQL (below), then:

- the whole roll-up (`reporting.services.rollup_run`) into the empty table once (`first_seconds`: every
  row is new), then `--repeat` times, each after `--changes` applications were approved (the audit
  triggers fire for them); `seconds` is the median of these;
- a one-county run for the county with the most enrolments, `--repeat` times, each after a hundredth as
  many approvals in that county; `county_seconds` is the median;
- the baseline: a loop over the enrolments as model instances (`Enrollment.objects.filter(...)
  .iterator()`), adding each to its village, township, county, city and province totals, and a loop over
  the status rows and the people for the exits, each timed on a sample (`--sample` rows) and
  extrapolated to the whole tables; writing its rows is not counted (in its favour);
- the province dashboard's selector (`reporting.selectors.area_progress` for the province, every
  benefit type): 16 threads, each with its own database connection, `--calls` calls each; p95 of all.

Prints one JSON line last: people, records, seconds, county_seconds, baseline_seconds, ratio
(baseline_seconds / seconds), dashboard_p95_ms; then first_seconds, dashboard_uncached_p95_ms (the
selector keeps the rows it read until the next run; here every call reads them), rows, county,
dashboard_queries, runs, county_runs, statement_seconds (the median seconds of each statement of the whole
runs after approvals, named by the table it creates or writes, those of 0.05 s and more), load_average (the
machine's, at the end).

With `--keep` and `BENCH_DATABASE`, the database stays after the run and a later run with `--keep` reuses
the data generated there (same `--people` and `--records`): it empties the tables the roll-up writes and
vacuums, so the first run is again into empty tables; the approvals of earlier runs are undone.

The data: households spread over every village of the real area tree (all counties), written village after
village as county imports write them, so that a county's rows lie together; people are their members
(four households for every five people, so a quarter of the households have two registered members);
household status history with exits from 2014 to 2019 (a row "not out" in 2014, "out" in the exit year,
for some a later "out" row that only records a 低保 change); enrolments of the person-unit benefit types
(one per person, type and year, as the database requires), of the household-unit types, and of
institutions and bases recognised in 2018; a share applied for or rejected, which do not count. Target
splits from the province to its cities and from the cities to their counties.

ID numbers are unique 18-character strings made from the row number, not valid check digits: the roll-up
never reads them. The audit triggers are off while the rows are written (as in the registry generator).
"""

import argparse
import json
import os
import re
import statistics
import threading
import time
from collections import defaultdict
from contextlib import contextmanager
from decimal import Decimal

from _db import scratch_database

CLIENTS = 16


HOUSEHOLD_TYPES = ["M02-ASSIST", "M04-UTILITIES", "M11-LOAN", "M11-HOUSING", "M11-BARRIER-FREE"]
FACILITY_TYPES = ["M07-INSTITUTION", "M09-BASE", "M10-BASE"]
BATCH = 1_000_000  # enrolments per statement: keeps the deferred foreign-key checks of one commit small
FACILITIES_PER_COUNTY = 5

AUDIT_TRIGGERS = (
    "beneficiaries.Person:insert_insert",
    "beneficiaries.Household:insert_insert",
    "programs.Enrollment:insert_insert",
    "programs.Facility:insert_insert",
    "programs.Target:insert_insert",
)


def generate(people: int, records: int, log=print) -> dict[str, int]:
    import pgtrigger
    from django.db import connection, transaction

    from programs.models import BenefitType, Unit

    person_types = list(
        BenefitType.objects.filter(unit=Unit.PERSON).order_by("code").values_list("code", flat=True)
    )
    households = max(1, people * 4 // 5)
    facilities_records = min(records // 100, 100 * FACILITIES_PER_COUNTY)
    household_records = records // 10
    person_records = records - household_records - facilities_records
    if person_records > people * len(person_types):
        raise SystemExit(
            f"--records: at most {people * len(person_types)} person records for {people} people"
        )
    if household_records > households * len(HOUSEHOLD_TYPES):
        raise SystemExit("--records: too many household records for the households")
    params = {
        "people": people,
        "households": households,
        "person_types": person_types,
        "household_types": HOUSEHOLD_TYPES,
        "facility_types": FACILITY_TYPES,
        "per_county": FACILITIES_PER_COUNTY,
    }

    def step(label: str, sql: str, extra: dict | None = None) -> None:
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            with pgtrigger.ignore(*AUDIT_TRIGGERS):
                # pgtrigger's setting rides on this statement and lasts while the context is open; the
                # statement below goes to psycopg directly, as pgtrigger's wrapper takes no named
                # parameters.
                cursor.execute("SELECT 1")
                cursor.cursor.execute(sql, {**params, **(extra or {})})
                count = cursor.cursor.rowcount
        log(f"  {label}: {count} rows in {time.perf_counter() - started:.1f} s")

    with connection.cursor() as cursor:
        cursor.execute(VILLAGES)
    step("households", HOUSEHOLDS)
    step("household statuses", STATUSES)
    step("people", PEOPLE)
    step("facilities", FACILITIES)
    with plain_indexes_set_aside("programs_enrollment", log):
        for first in range(0, person_records, BATCH):
            last = min(first + BATCH, person_records)
            step(
                f"person enrolments {first + 1}-{last}", PERSON_ENROLMENTS, {"first": first + 1, "last": last}
            )
        step("household enrolments", HOUSEHOLD_ENROLMENTS, {"count": household_records})
        step("facility enrolments", FACILITY_ENROLMENTS, {"count": facilities_records})
    step("target splits", TARGET_SPLITS)
    with connection.cursor() as cursor:
        cursor.execute(SEQUENCES)
    return {"people": people, "households": households, "records": records}


@contextmanager
def plain_indexes_set_aside(table: str, log):
    """Drop the table's indexes that enforce nothing while millions of rows go in, and build them again
    after (far faster than maintaining them row by row). The unique ones stay: they check the data."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid = %s::regclass AND NOT indisunique",
            [table],
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {name}")
    yield
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for _, definition in indexes:
            cursor.execute(definition)
    log(f"  {len(indexes)} indexes of {table} built again in {time.perf_counter() - started:.1f} s")


VILLAGES = """
CREATE TEMP TABLE bench_village AS
SELECT row_number() OVER (ORDER BY code) AS n, code FROM areas_area WHERE level = 'village';
CREATE UNIQUE INDEX ON bench_village (n);
ANALYZE bench_village;
"""

# Household h lives in village ceil(h * V / H): every village gets its share, in code order.
HOUSEHOLDS = """
WITH v AS (SELECT count(*) AS total FROM bench_village)
INSERT INTO beneficiaries_household (id, county_code, township_code, village_code, head_name, size,
    poverty_status, exit_year, is_dibao, is_tekun, main_cause, is_active, deactivation_reason, version,
    created_at, updated_at)
SELECT h, left(b.code, 6), left(b.code, 9), b.code, '户主' || h, 1 + h %% 6,
    CASE WHEN h %% 10 < 6 THEN 'out' WHEN h %% 10 < 9 THEN 'not_out' ELSE 'not_registered' END,
    CASE WHEN h %% 10 < 6 THEN 2014 + h %% 6 END,
    h %% 3 = 0, false, 'disability', true, '', 1, now(), now()
FROM generate_series(1, %(households)s) AS h
CROSS JOIN v
JOIN bench_village b ON b.n = (h - 1)::bigint * v.total / %(households)s + 1
"""

STATUSES = """
INSERT INTO beneficiaries_householdstatus (household_id, effective_date, poverty_status, exit_year,
    is_dibao, is_tekun, recorded_at, note)
SELECT h.id, date '2014-06-01', CASE WHEN h.poverty_status = 'not_registered' THEN 'not_registered'
    ELSE 'not_out' END, NULL, h.is_dibao, false, now(), ''
FROM beneficiaries_household h
UNION ALL
SELECT h.id, make_date(h.exit_year, 12, 1 + (h.id %% 28)::int), 'out', h.exit_year, h.is_dibao, false,
    now(), ''
FROM beneficiaries_household h WHERE h.poverty_status = 'out'
UNION ALL
SELECT h.id, make_date(h.exit_year + 1, 3, 1), 'out', h.exit_year, NOT h.is_dibao, false, now(), '低保'
FROM beneficiaries_household h WHERE h.poverty_status = 'out' AND h.id %% 20 = 0
"""

# Person i belongs to household ((i - 1) mod H) + 1: the first H are heads, the rest second members.
PEOPLE = """
INSERT INTO beneficiaries_person (id, county_code, township_code, village_code, name, id_number,
    certificate_number, gender, birth_date, disability_category, disability_level, relation_to_head,
    phone, household_id, life_status, life_status_reason, version, created_at, updated_at, is_employed,
    work_injury_nursing)
SELECT i, h.county_code, h.township_code, h.village_code, '居民' || i,
    h.county_code || lpad(i::text, 12, '0'), h.county_code || lpad(i::text, 12, '0') || (1 + i %% 7)
    || (1 + i %% 4), CASE WHEN i %% 2 = 0 THEN 'F' ELSE 'M' END, date '1940-01-01' + (i %% 25000)::int,
    1 + i %% 7, 1 + i %% 4, CASE WHEN i <= %(households)s THEN 'head' ELSE 'spouse' END, '', h.id,
    CASE WHEN i %% 100 = 0 THEN 'deceased' ELSE 'active' END, '', 1, now(), now(), false, false
FROM generate_series(1, %(people)s) AS i
JOIN beneficiaries_household h ON h.id = (i - 1) %% %(households)s + 1
"""

FACILITIES = """
INSERT INTO programs_facility (county_code, township_code, village_code, name, kind, address, operator,
    phone, is_active, version, created_at, updated_at)
SELECT DISTINCT ON (c.code, k) c.code, left(b.code, 9), b.code, c.name || '示范机构' || k,
    CASE WHEN k = 1 THEN 'sheltered' ELSE 'base' END, '', '', '', true, 1, now(), now()
FROM areas_area c
CROSS JOIN generate_series(1, %(per_county)s) AS k
JOIN bench_village b ON b.code LIKE c.code || '%%'
WHERE c.level = 'county'
ORDER BY c.code, k, b.n
"""

# Record g goes to person ((g - 1) mod N) + 1 in round k = (g - 1) / N, with the type
# (7k + person) mod T: seven is prime to the number of types, so a person's rounds never repeat a type.
PERSON_ENROLMENTS = """
INSERT INTO programs_enrollment (county_code, township_code, village_code, year, recipient_unit,
    start_date, amount, status, note, override_reason, overridden_conditions, applied_at, review_note,
    stop_reason, version, updated_at, benefit_type_id, person_id, household_id)
SELECT p.county_code, p.township_code, p.village_code, 2016 + (g %% 3)::int, 'person',
    make_date(2016 + (g %% 3)::int, 1 + (g %% 12)::int, 1), 50 + (g %% 40) * 10,
    CASE g %% 20 WHEN 0 THEN 'applied' WHEN 1 THEN 'rejected' WHEN 2 THEN 'stopped'
        WHEN 3 THEN 'approved' ELSE 'active' END,
    '', '', '[]', now(), '', '', 1, now(),
    (%(person_types)s::text[])[
        1 + ((7 * ((g - 1) / %(people)s) + p.id) %% cardinality(%(person_types)s::text[]))
    ],
    p.id, p.household_id
FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g
JOIN beneficiaries_person p ON p.id = (g - 1) %% %(people)s + 1
"""

HOUSEHOLD_ENROLMENTS = """
INSERT INTO programs_enrollment (county_code, township_code, village_code, year, recipient_unit,
    start_date, amount, status, note, override_reason, overridden_conditions, applied_at, review_note,
    stop_reason, version, updated_at, benefit_type_id, household_id)
SELECT h.county_code, h.township_code, h.village_code, 2017 + (g %% 2)::int, 'household',
    make_date(2017 + (g %% 2)::int, 1 + (g %% 12)::int, 1), 1000 + (g %% 10) * 500,
    CASE g %% 20 WHEN 0 THEN 'applied' WHEN 1 THEN 'rejected' ELSE 'approved' END,
    '', '', '[]', now(), '', '', 1, now(),
    (%(household_types)s::text[])[1 + ((2 * ((g - 1) / %(households)s) + h.id) %% 5)], h.id
FROM generate_series(1, %(count)s) AS g
JOIN beneficiaries_household h ON h.id = (g - 1) %% %(households)s + 1
"""

FACILITY_ENROLMENTS = """
INSERT INTO programs_enrollment (county_code, township_code, village_code, year, recipient_unit,
    start_date, status, note, override_reason, overridden_conditions, applied_at, review_note,
    stop_reason, version, updated_at, benefit_type_id, facility_id)
SELECT f.county_code, f.township_code, f.village_code, 2018,
    CASE WHEN f.kind = 'sheltered' THEN 'institution' ELSE 'base' END, date '2018-06-01', 'approved',
    '', '', '[]', now(), '', '', 1, now(),
    CASE WHEN f.kind = 'sheltered' THEN 'M07-INSTITUTION' WHEN f.id %% 2 = 0 THEN 'M09-BASE'
        ELSE 'M10-BASE' END, f.id
FROM (SELECT * FROM programs_facility ORDER BY id LIMIT %(count)s) AS f
"""

# The province gives each city and province-managed county a share of each 2018 target, by its number
# of villages; a city gives its other counties a share of its own the same way.
TARGET_SPLITS = """
WITH counties AS (
    SELECT c.code, left(c.code, 4) || '00' AS city, c.is_province_managed AS managed,
        (SELECT count(*) FROM bench_village b WHERE left(b.code, 6) = c.code) AS villages
    FROM areas_area c WHERE c.level = 'county'
), receivers AS (
    SELECT city AS code, sum(villages) AS villages FROM counties WHERE NOT managed GROUP BY city
    UNION ALL
    SELECT code, villages FROM counties WHERE managed
), first_level AS (
    INSERT INTO programs_target (year, benefit_type_id, area_id, quantity, parent_id, updated_at)
    SELECT t.year, t.benefit_type_id, r.code,
        floor(t.quantity * 0.9 * r.villages / (SELECT sum(villages) FROM receivers)), t.id, now()
    FROM programs_target t CROSS JOIN receivers r
    WHERE t.area_id = '360000' AND t.year = 2018
    RETURNING id, area_id, quantity, benefit_type_id, year
)
INSERT INTO programs_target (year, benefit_type_id, area_id, quantity, parent_id, updated_at)
SELECT f.year, f.benefit_type_id, c.code, floor(f.quantity * 0.9 * c.villages / r.villages), f.id, now()
FROM first_level f
JOIN receivers r ON r.code = f.area_id
JOIN counties c ON c.city = f.area_id AND NOT c.managed
"""

SEQUENCES = """
SELECT setval(pg_get_serial_sequence('beneficiaries_household', 'id'), max(id)) FROM beneficiaries_household;
SELECT setval(pg_get_serial_sequence('beneficiaries_person', 'id'), max(id)) FROM beneficiaries_person;
ANALYZE;
"""


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


# What names a statement of the roll-up in the per-statement figures: the first table it creates or writes.
STATEMENT_NAME = re.compile(
    r"CREATE TEMP TABLE \w+|INSERT INTO \"?\w+|DELETE FROM \w+|UPDATE \w+|SELECT count\(\*\) FROM \w+"
)


@contextmanager
def statement_seconds(into: dict[str, list[float]]):
    """Time each statement the roll-up sends, by name (the n-th of the same name in a run gets `#n`)."""
    from django.db import connection

    seen: defaultdict[str, int] = defaultdict(int)

    def wrapper(execute, sql, params, many, context):
        match = STATEMENT_NAME.search(sql)
        name = match.group(0).replace('"', "") if match else " ".join(sql.split())[:40]
        seen[name] += 1
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            into[name if seen[name] == 1 else f"{name} #{seen[name]}"].append(time.perf_counter() - started)

    with connection.execute_wrapper(wrapper):
        yield


def approve(count: int, county_code: str | None = None) -> None:
    """What happens between two runs: `count` applications approved, anywhere in the province (or in one
    county), picked at random."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE programs_enrollment SET status = 'approved', version = version + 1, updated_at = now() "
            "WHERE id IN (SELECT id FROM programs_enrollment WHERE status = 'applied' "
            "AND county_code LIKE %s ORDER BY random() LIMIT %s)",
            [f"{county_code or '36'}%", count],
        )


def busiest_county() -> str:
    from django.db.models import Count

    from programs.models import Enrollment

    return Enrollment.objects.values("county_code").annotate(n=Count("id")).order_by("-n")[0]["county_code"]


def ancestors(village_code: str) -> tuple[str, ...]:
    return (village_code, village_code[:9], village_code[:6], village_code[:4] + "00", "360000")


def baseline(sample: int) -> dict[str, float]:
    """The obvious ORM loops on a sample of each table, extrapolated to the whole table."""
    from beneficiaries.models import HouseholdStatus, Person
    from programs.models import ACHIEVED_STATUSES, Enrollment

    achieved: dict[tuple, int] = defaultdict(int)
    amounts: dict[tuple, Decimal] = defaultdict(Decimal)
    records = Enrollment.objects.filter(status__in=ACHIEVED_STATUSES)
    started = time.perf_counter()
    for seen, enrollment in enumerate(records.iterator(chunk_size=2000), start=1):
        for code in ancestors(enrollment.village_code):
            key = (enrollment.year, enrollment.benefit_type_id, code)
            achieved[key] += 1
            amounts[key] += enrollment.amount or 0
        if seen >= sample:
            break
    per_record = (time.perf_counter() - started) / seen
    exits: set[tuple[int, int]] = set()
    statuses = HouseholdStatus.objects.filter(poverty_status="out")
    started = time.perf_counter()
    for seen_statuses, status in enumerate(statuses.iterator(chunk_size=2000), start=1):
        exits.add((status.household_id, status.exit_year or status.effective_date.year))
        if seen_statuses >= sample:
            break
    per_status = (time.perf_counter() - started) / seen_statuses
    years_of = defaultdict(set)
    for household_id, year in exits:
        years_of[household_id].add(year)
    people: dict[tuple, int] = defaultdict(int)
    started = time.perf_counter()
    for seen_people, person in enumerate(
        Person.objects.exclude(life_status="duplicate").iterator(2000), start=1
    ):
        for year in years_of.get(person.household_id, ()):
            for code in ancestors(person.village_code):
                people[(year, code)] += 1
        if seen_people >= sample:
            break
    per_person = (time.perf_counter() - started) / seen_people
    return {
        "enrolments": per_record * records.count(),
        "statuses": per_status * statuses.count(),
        "people": per_person * Person.objects.count(),
    }


def dashboard(calls: int, cached: bool = True) -> tuple[list[float], int]:
    """Latencies (ms) of the province dashboard's selector, 16 clients at once, and its queries. The
    selector keeps the rows it read until the next run; with `cached=False` every call reads them."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from areas.models import Area
    from reporting import selectors

    def area_progress(**kwargs):
        if not cached:
            selectors._read_rows.cache_clear()
        return selectors.area_progress(**kwargs)

    province = Area.objects.get(code="360000")
    with CaptureQueriesContext(connection) as queries:
        area_progress(area=province, year=2018)
    latencies: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(CLIENTS)

    def client():
        from django.db import connection as own

        mine = []
        area = Area.objects.get(code="360000")
        area_progress(area=area, year=2018)  # connect and warm up
        barrier.wait()
        for _ in range(calls):
            started = time.perf_counter()
            area_progress(area=area, year=2018)
            mine.append((time.perf_counter() - started) * 1000)
        own.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(latencies), len(queries)


def percentile(values: list[float], share: float) -> float:
    return values[min(len(values) - 1, round(share * (len(values) - 1)))]


def generate_all(people: int, records: int) -> None:
    from django.db import connection

    from areas.services import areas_load
    from programs.services import plan_load

    areas_load()
    plan_load()
    print(f"generating {people} people and {records} enrolments", flush=True)
    generate_seconds = timed(lambda: generate(people, records, log=lambda line: print(line, flush=True)))
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"generated in {generate_seconds:.1f} s (VACUUM ANALYZE included)", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--records", type=int, default=3_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--changes",
        type=int,
        default=10_000,
        help="applications approved before each whole run (a hundredth "
        "of them in the county before each county run)",
    )
    parser.add_argument(
        "--sample", type=int, default=100_000, help="rows of each table the baseline loops over"
    )
    parser.add_argument("--calls", type=int, default=50, help="selector calls per dashboard client")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the database named by BENCH_DATABASE after the run, and reuse the data generated "
        "there by an earlier run with --keep (the roll-up's tables are emptied first)",
    )
    args = parser.parse_args()

    with scratch_database(keep=args.keep):
        from django.apps import apps
        from django.db import connection

        from beneficiaries.models import Person
        from programs.models import Enrollment
        from reporting.models import Progress, RollupRun, RollupTrigger
        from reporting.services import rollup_run

        if args.keep and Person.objects.exists():
            if Person.objects.count() != args.people or Enrollment.objects.count() != args.records:
                raise SystemExit(f"{connection.settings_dict['NAME']} holds other data: drop it first")
            # Every table the roll-up writes (the yearly rows and any others of the app), not its runs.
            written = [
                model._meta.db_table
                for model in apps.get_app_config("reporting").get_models()
                if model is not RollupRun
            ]
            print(f"reusing the generated data; emptied {', '.join(written)}", flush=True)
            with connection.cursor() as cursor:
                cursor.execute(f"TRUNCATE {', '.join(written)}")
                # Earlier runs' approvals undone: only `approve` raises a generated record's version.
                cursor.execute(
                    "UPDATE programs_enrollment SET status = 'applied', version = 1 WHERE version > 1"
                )
                cursor.execute("VACUUM ANALYZE")
        else:
            generate_all(args.people, args.records)

        statements: defaultdict[str, list[float]] = defaultdict(list)

        def timed_run(label: str, county_code: str | None = None, into: dict | None = None) -> float:
            started = time.perf_counter()
            with statement_seconds(into if into is not None else defaultdict(list)):
                run = rollup_run(county_code=county_code, trigger=RollupTrigger.MANUAL).run
            seconds = time.perf_counter() - started
            print(f"  {label}: {run.rows} rows, {run.changed} written, in {seconds:.2f} s", flush=True)
            return seconds

        first_seconds = timed_run("whole roll-up into an empty table")
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE reporting_progress")  # what autovacuum does after such a load
        runs = []
        for _ in range(args.repeat):
            approve(args.changes)
            runs.append(timed_run(f"whole roll-up after {args.changes} approvals", into=statements))
        per_statement = {name: statistics.median(figures) for name, figures in statements.items()}
        print(
            "  whole roll-up by statement (median, 0.05 s and more): "
            + ", ".join(
                f"{name} {seconds:.2f} s" for name, seconds in per_statement.items() if seconds >= 0.05
            ),
            flush=True,
        )
        rows = Progress.objects.count()
        county = busiest_county()
        county_runs = []
        for _ in range(args.repeat):
            approve(args.changes // 100, county)
            county_runs.append(timed_run(f"county {county} after {args.changes // 100} approvals", county))

        loops = baseline(args.sample)
        baseline_seconds = sum(loops.values())
        print(
            "  baseline (extrapolated): " + ", ".join(f"{k} {v:.1f} s" for k, v in loops.items()), flush=True
        )

        latencies, queries = dashboard(args.calls)
        uncached, uncached_queries = dashboard(args.calls, cached=False)
        for label, figures, count in (
            ("", latencies, queries),
            (" (rows read every call)", uncached, uncached_queries),
        ):
            print(
                f"  dashboard selector{label}, {CLIENTS} clients x {args.calls} calls: median "
                f"{statistics.median(figures):.1f} ms, p95 {percentile(figures, 0.95):.1f} ms, "
                f"{count} queries",
                flush=True,
            )

    seconds = statistics.median(runs)
    print(
        json.dumps(
            {
                "people": args.people,
                "records": args.records,
                "seconds": round(seconds, 2),
                "first_seconds": round(first_seconds, 2),
                "county_seconds": round(statistics.median(county_runs), 2),
                "baseline_seconds": round(baseline_seconds, 1),
                "ratio": round(baseline_seconds / seconds, 1),
                "dashboard_p95_ms": round(percentile(latencies, 0.95), 1),
                "dashboard_uncached_p95_ms": round(percentile(uncached, 0.95), 1),
                "rows": rows,
                "county": county,
                "dashboard_queries": queries,
                "runs": [round(r, 2) for r in runs],
                "statement_seconds": {name: round(s, 2) for name, s in per_statement.items() if s >= 0.05},
                "county_runs": [round(r, 2) for r in county_runs],
                "load_average": [round(x, 1) for x in os.getloadavg()],
            }
        )
    )


if __name__ == "__main__":
    main()
