"""How fast a county roster goes through the import pipeline, against django-import-export's own path.

In a scratch database with the area tree and the role groups, a county clerk of 瑞金市 (360781) uploads a
roster of `--rows` people (title rows, the template's header, one household per person, valid and
distinct ID and certificate numbers). In this process, without a Celery worker:

(a) the project's path: `import_create` (the file stored, the read task's `.delay` a no-op), then
    `imports.pipeline.read` (inspect, parse, check every row, stage), the preview counts
    (`ImportJob.counts`), `import_commit` and `imports.pipeline.commit`.
(b) the baseline, as django-import-export's admin runs an import: `PersonResource.import_data` with
    `dry_run=True`, then again with `dry_run=False`, each on a fresh resource, on `--baseline-rows` rows
    of 宁都县 (360730) read from an .xlsx by the admin's XLSX format. Its rate is the rows over both calls.

The query log is off (DEBUG is set to False once the database is up), as in production. `--profile N`
runs the read and the commit under cProfile and prints their N slowest functions (cumulative time); the
timings are then the profiled ones. `--workbooks DIR` keeps the generated workbooks and reuses them.
(a) runs `--repeat` times (default 3), each into an emptied registry; the run with the median total gives
the figures, and runs_seconds lists every run's total.

`inspect_workbook` measures the worksheet with `imports.scan`; the run checks that it describes the file as
expat's handlers alone do (`exact=True`), and times both (inspect_seconds, exact_inspect_seconds).

Prints one JSON line last: rows, seconds, rows_per_s, baseline_rows_per_s, ratio, peak_rss_mb (the peak
resident memory of (a): on Linux the high-water mark is reset once the workbooks are written, so that it
is the pipeline's, not the generator's), and the phases: upload_seconds, inspect_seconds
(`inspect_workbook` alone on the same file, which `read` also runs), exact_inspect_seconds, read_seconds,
preview_seconds, commit_seconds, and the baseline's two calls.
"""

import argparse
import contextlib
import cProfile
import io
import json
import pstats
import resource
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

from _db import scratch_database

COUNTY = "360781"  # 瑞金市
BASELINE_COUNTY = "360730"  # 宁都县: the baseline's people never meet the pipeline's
FIRST_BIRTH = date(1940, 1, 1)
BIRTH_SPREAD = 20_000  # days; with 1,000 sequence numbers a day, room for 20 million distinct IDs
CATEGORY_NAMES = ["视力", "听力", "言语", "肢体", "智力", "精神", "多重"]
LEVEL_NAMES = ["一级", "二级", "三级", "四级"]
BASELINE_HEADER = ["乡镇", "村", "姓名", "身份证号", "残疾证号", "残疾类别", "残疾等级", "联系电话"]


def reset_peak_rss() -> None:
    """Start the high-water mark of resident memory afresh (Linux; elsewhere the peak is the process's)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_rss_mb() -> float:
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)  # kilobytes
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux: kilobytes


def villages(county: str) -> list[tuple[str, str, str, str]]:
    """(township name, village name, township code, village code) of every village of the county."""
    from areas.models import Area, AreaLevel

    townships = dict(
        Area.objects.filter(code__startswith=county, level=AreaLevel.TOWNSHIP).values_list("code", "name")
    )
    return [
        (townships[v.parent_id], v.name, v.parent_id, v.code)
        for v in Area.objects.filter(code__startswith=county, level=AreaLevel.VILLAGE).order_by("code")
    ]


def person(n: int, county: str, places: list[tuple[str, str, str, str]]) -> dict[str, Any]:
    """The n-th person of a generated roster, as `tests.imports.rosters.person_row` writes one."""
    from beneficiaries.validation import make_id_number

    township, village, township_code, village_code = places[n % len(places)]
    birth = FIRST_BIRTH + timedelta(days=n % BIRTH_SPREAD)
    id_number = make_id_number(county, birth, n // BIRTH_SPREAD)
    category, level = n % 7 + 1, n % 4 + 1
    return {
        "序号": n + 1, "乡镇": township, "村": village, "姓名": f"刘{n:05d}",
        "性别": "男" if int(id_number[16]) % 2 else "女", "身份证号": id_number,
        "残疾证号": f"{id_number}{category}{level}", "残疾类别": CATEGORY_NAMES[category - 1],
        "残疾等级": LEVEL_NAMES[level - 1], "户主姓名": f"刘{n:05d}", "与户主关系": "户主", "家庭人口": 3,
        "脱贫状态": "未脱贫", "脱贫年度": "", "低保": "是", "联系电话": f"139{n:08d}", "备注": "",
        "township_code": township_code, "village_code": village_code,
    }  # fmt: skip


def write_workbook(path: Path, header: list[str], rows: Iterator[list[Any]], title_rows: int = 0) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("花名册")
    for n in range(title_rows):
        sheet.append(["瑞金市贫困残疾人花名册" if n == 0 else "填报单位：瑞金市残联  填报日期：2018年3月"])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)


def write_roster(path: Path, rows: int) -> None:
    from tests.imports.rosters import HEADER

    places = villages(COUNTY)
    lines = (
        [values[column] for column in HEADER] for values in (person(n, COUNTY, places) for n in range(rows))
    )
    write_workbook(path, HEADER, lines, title_rows=2)


def write_baseline(path: Path, rows: int) -> None:
    """The same people, under the resource's columns: township and village as codes."""
    places = villages(BASELINE_COUNTY)
    columns = {"乡镇": "township_code", "村": "village_code"}
    people = (person(n, BASELINE_COUNTY, places) for n in range(rows))
    lines = ([values[columns.get(column, column)] for column in BASELINE_HEADER] for values in people)
    write_workbook(path, BASELINE_HEADER, lines)


class Phases:
    """Seconds per named phase; with `profile_top`, the phases named in `profiled` run under cProfile."""

    def __init__(self, profile_top: int = 0, profiled: tuple[str, ...] = ()):
        self.seconds: dict[str, float] = {}
        self.profile_top = profile_top
        self.profiled = profiled

    def run(self, name: str, action: Callable[[], Any]) -> Any:
        profiler = cProfile.Profile() if self.profile_top and name in self.profiled else None
        started = time.perf_counter()
        result = profiler.runcall(action) if profiler else action()
        self.seconds[name] = time.perf_counter() - started
        if profiler:
            report = io.StringIO()
            pstats.Stats(profiler, stream=report).sort_stats("cumulative").print_stats(self.profile_top)
            print(f"--- profile of {name} ({self.seconds[name]:.1f} s) ---\n{report.getvalue()}")
        return result


@contextmanager
def no_queue() -> Iterator[None]:
    """The tasks' `.delay` does nothing: this process runs the pipeline's steps itself."""
    from imports.tasks import commit_import, read_import

    with mock.patch.object(read_import, "delay"), mock.patch.object(commit_import, "delay"):
        yield


def run_pipeline(path: Path, rows: int, phases: Phases) -> dict[str, int]:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from accounts.models import Role, User
    from accounts.services import user_create
    from beneficiaries.models import Person
    from imports import pipeline
    from imports.models import ImportJob, ImportStatus
    from imports.reading import inspect_workbook
    from imports.services import import_commit, import_create

    clerk = User.objects.filter(username="bench_clerk").first() or user_create(
        username="bench_clerk", password="x", role=Role.COUNTY_CLERK, area_code=COUNTY, check_password=False
    )
    upload = SimpleUploadedFile("花名册.xlsx", path.read_bytes())
    described = phases.run("inspect", lambda: inspect_workbook(path))
    if phases.run("exact_inspect", lambda: inspect_workbook(path, exact=True)) != described:
        raise SystemExit("imports.scan describes the workbook otherwise than expat's handlers alone")
    with no_queue():
        job = phases.run("upload", lambda: import_create(actor=clerk, kind="roster", upload=upload))
        phases.run("read", lambda: pipeline.read(job.pk))
        counts = phases.run("preview", lambda: ImportJob.objects.get(pk=job.pk).counts)
        if counts.get("new") != rows:
            raise SystemExit(f"expected {rows} new rows, the preview says {counts}")

        def commit() -> None:
            import_commit(actor=clerk, job=ImportJob.objects.get(pk=job.pk), all_or_nothing=True)
            pipeline.commit(job.pk, clerk.pk)

        phases.run("commit", commit)
    job.refresh_from_db()
    stored = Person.objects.filter(county_code=COUNTY).count()
    if job.status != ImportStatus.COMMITTED or stored != rows:
        raise SystemExit(f"the commit left the job {job.status} and {stored} people")
    return counts


def empty_registry() -> None:
    """Back to an empty registry and no uploads, for the next run of the pipeline."""
    from django.db import connection

    from beneficiaries.models import Household, HouseholdStatus, Person
    from imports.models import ImportJob, ImportRow

    tables = [m._meta.db_table for m in (ImportRow, ImportJob, Person, HouseholdStatus, Household)]
    events = [m.pgh_event_model._meta.db_table for m in (Person, Household) if hasattr(m, "pgh_event_model")]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables + events)} CASCADE")  # noqa: S608 (model tables)
        cursor.execute(f"VACUUM ANALYZE {', '.join(tables)}")  # noqa: S608


def run_baseline(path: Path, rows: int, phases: Phases) -> None:
    from import_export.formats.base_formats import XLSX

    from beneficiaries.models import Person
    from beneficiaries.resources import PersonResource

    dataset = XLSX().create_dataset(path.read_bytes())
    for step, dry_run in (("baseline_dry_run", True), ("baseline_import", False)):
        result = phases.run(
            step,
            lambda dry_run=dry_run: PersonResource().import_data(
                dataset, dry_run=dry_run, use_transactions=True, raise_errors=False
            ),
        )
        if result.has_errors() or result.has_validation_errors() or result.totals["new"] != rows:
            raise SystemExit(f"{step}: {dict(result.totals)}, first invalid: {result.invalid_rows[:1]}")
    stored = Person.objects.filter(county_code=BASELINE_COUNTY).count()
    if stored != rows:
        raise SystemExit(f"the baseline stored {stored} people, not {rows}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--baseline-rows", type=int, default=5_000, help="0 skips the baseline")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="profile read and commit")
    parser.add_argument(
        "--workbooks", metavar="DIR", help="keep the generated workbooks in DIR and reuse them on later runs"
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="pipeline runs, each into an empty registry; the median counts",
    )
    options = parser.parse_args()
    phases = Phases(options.profile, ("read", "commit"))

    with scratch_database(), tempfile.TemporaryDirectory() as folder:
        from django.conf import settings
        from django.test import override_settings

        from accounts.roles import sync_role_groups
        from areas.services import areas_load

        settings.DEBUG = False  # DEBUG logs every query, which production does not pay for
        areas_load()
        sync_role_groups()
        kept = Path(options.workbooks) if options.workbooks else Path(folder)
        kept.mkdir(parents=True, exist_ok=True)
        roster = kept / f"roster_{options.rows}.xlsx"
        baseline = kept / f"baseline_{options.baseline_rows}.xlsx"
        started = time.perf_counter()
        if not roster.exists():
            write_roster(roster, options.rows)
        if not baseline.exists():
            write_baseline(baseline, options.baseline_rows)
        size_mb = roster.stat().st_size / 2**20
        print(f"{options.rows:,} rows ({size_mb:.1f} MB) ready in {time.perf_counter() - started:.1f} s")
        reset_peak_rss()
        with override_settings(MEDIA_ROOT=Path(folder) / "media"):
            runs = []
            for run in range(max(1, options.repeat)):
                if run:
                    empty_registry()
                counts = run_pipeline(roster, options.rows, phases)
                runs.append(dict(phases.seconds))
            rss = peak_rss_mb()
            if options.baseline_rows:
                run_baseline(baseline, options.baseline_rows, phases)
    # The run with the median total gives the figures; every run's total is printed too.
    runs.sort(key=pipeline_seconds)
    seconds = {**phases.seconds, **runs[len(runs) // 2]}
    print(json.dumps(summary(options, seconds, counts, rss, size_mb, [pipeline_seconds(r) for r in runs])))


def pipeline_seconds(seconds: dict[str, float]) -> float:
    return sum(seconds[name] for name in ("upload", "read", "preview", "commit"))


def summary(
    options,
    seconds: dict[str, float],
    counts: dict[str, int],
    rss: float,
    size_mb: float,
    totals: list[float],
) -> dict:
    total = pipeline_seconds(seconds)
    rows_per_s = options.rows / total
    baseline_seconds = seconds.get("baseline_dry_run", 0) + seconds.get("baseline_import", 0)
    baseline_rows_per_s = options.baseline_rows / baseline_seconds if baseline_seconds else None
    for name, value in seconds.items():
        print(f"{name:>17}: {value:8.2f} s")
    print(
        f"pipeline: {options.rows:,} rows in {total:.1f} s (median of {len(totals)}: "
        f"{', '.join(f'{t:.1f}' for t in totals)}), {rows_per_s:,.0f} rows/s, counts {counts}"
    )
    if baseline_rows_per_s:
        print(
            f"baseline: {options.baseline_rows:,} rows in {baseline_seconds:.1f} s (dry run + import), "
            f"{baseline_rows_per_s:,.0f} rows/s"
        )
    print(f"peak RSS after the pipeline: {rss} MB")
    return {
        "rows": options.rows,
        "seconds": round(total, 2),
        "runs_seconds": [round(value, 2) for value in totals],
        "rows_per_s": round(rows_per_s),
        "baseline_rows": options.baseline_rows,
        "baseline_rows_per_s": round(baseline_rows_per_s) if baseline_rows_per_s else None,
        "ratio": round(rows_per_s / baseline_rows_per_s, 1) if baseline_rows_per_s else None,
        "peak_rss_mb": rss,
        **{f"{name}_seconds": round(value, 2) for name, value in seconds.items()},
        "workbook_mb": round(size_mb, 1),
        "profiled": bool(options.profile),
    }


if __name__ == "__main__":
    main()
