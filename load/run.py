"""`make load`: county clerks browse, search and save against gunicorn while a county roster imports.

On the servers of DATABASE_URL and REDIS_URL (the local stack's when they are not set, started as
`make test` starts them; its Redis then in database 15, so that a `make run` worker never takes these
tasks), in a scratch database `load_<pid>_<random>` dropped at the end:

1. migrate, the area tree, the plan, a generated registry of `--people` people over `--counties` with
   their enrolments, a roll-up; `--users` county clerks spread over those counties, each with people of
   their own to edit; one clerk of 瑞金市 (360781) with a roster of `--rows` new people.
2. gunicorn as in production (DEBUG off, static files collected and compressed, served by whitenoise,
   `--workers` = 2 x cores + 1) and a Celery worker. Requests come as from the TLS proxy.
3. locust, headless (load/locustfile.py): the clerks start `--spawn-rate` a second and log in once, then
   browse the registry list and its next pages, search by name and by ID prefix, open people, save an
   edit through the form and open the county's dashboard, `--think` seconds apart. `--import-delay`
   seconds after the last login, the 瑞金 clerk uploads the roster on the upload page, waits for the check,
   commits and waits for the commit, polling as the page does.

The figures that count are taken in a window that opens when the last clerk's login has been answered
(50 password hashes at once are the start of a day, not its work) and lasts `--seconds`, or until the
import has committed if that is later. The run prints, per kind of request in the window and over all:
requests, failures, p50, p95, p99 and max in milliseconds, requests per second; the logins and the
requests before the window on lines of their own; the CPU seconds gunicorn and the Celery worker spent in
the window; the import's seconds (upload to committed, and its check and commit); then one JSON line.

Exit status 1 when the p95 of the clerks' work in the window (every request but the login POST) is
`--p95-ms` or more, when any request of the whole run failed or a server logged an error, or when the
import did not commit every row. The servers' and locust's logs stay in var/load/ after the run, with the
collected static files (collected again only when a source file changes).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import os
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LOG_DIR = ROOT / "var" / "load"
IMPORT_COUNTY = "360781"  # 瑞金市: bench/import_roster.py's roster, kept apart from the clerks' counties
DEFAULT_COUNTIES = "360730,360731,360732,360733,360121"  # 宁都 于都 兴国 会昌 (赣州), 南昌县
EMBEDDED_REDIS_DB = 15
EDITS_PER_CLERK = 200
VIEWED_PER_COUNTY = 2_000
SEED = 2018


def log(message: str) -> None:
    print(f"load: {message}", file=sys.stderr, flush=True)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    cores = os.cpu_count() or 1
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50, help="simulated clerks (besides the importing one)")
    parser.add_argument(
        "--counties", default=DEFAULT_COUNTIES, help="the clerks' county codes, comma-separated"
    )
    parser.add_argument("--people", type=int, default=50_000, help="generated registry over those counties")
    parser.add_argument("--rows", type=int, default=10_000, help="rows of the imported roster (0: no import)")
    parser.add_argument("--seconds", type=int, default=60, help="how long the clerks work, at least")
    parser.add_argument(
        "--spawn-rate", type=float, default=10, help="clerks starting (logging in) per second"
    )
    parser.add_argument(
        "--think", type=float, nargs=2, default=(2, 6), metavar=("MIN", "MAX"), help="seconds between tasks"
    )
    parser.add_argument("--import-delay", type=float, default=10, help="seconds before the upload starts")
    parser.add_argument("--import-timeout", type=int, default=600, help="longest wait for the import")
    parser.add_argument("--workers", type=int, default=2 * cores + 1, help="gunicorn workers")
    parser.add_argument("--port", type=int, default=0, help="gunicorn's port (default: a free one)")
    parser.add_argument("--p95-ms", type=float, default=300, help="the clerks' p95 must stay below this")
    options = parser.parse_args(argv)
    options.counties = [code.strip() for code in options.counties.split(",") if code.strip()]
    if options.users < 1 or not options.counties or options.people < len(options.counties):
        parser.error("--users, --counties and --people must leave every clerk people to work on")
    return options


# --------------------------------------------------------------------------------------------------
# Servers and the scratch database


def use_servers():
    """DATABASE_URL and REDIS_URL as given, or the local stack's; returns what was started here, which
    the run stops at the end as `make test` does."""
    from poverty_relief.devstack import default_layout, ensure_services

    redis_given = bool(os.environ.get("REDIS_URL"))
    services = ensure_services(default_layout())
    if not redis_given:
        parts = urllib.parse.urlsplit(os.environ["REDIS_URL"])
        os.environ["REDIS_URL"] = urllib.parse.urlunsplit(parts._replace(path=f"/{EMBEDDED_REDIS_DB}"))
    return services


def database_url(url: str, name: str) -> str:
    return urllib.parse.urlunsplit(urllib.parse.urlsplit(url)._replace(path=f"/{name}"))


@contextlib.contextmanager
def scratch_database() -> Iterator[str]:
    """A new database on DATABASE_URL's server, named in DATABASE_URL for this process and its children;
    dropped at the end, whoever is still connected."""
    import django
    from django.conf import settings
    from django.db import connection, connections

    django.setup()
    name = f"load_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    original_url, original_name = os.environ["DATABASE_URL"], settings.DATABASES["default"]["NAME"]
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    connections.close_all()
    settings.DATABASES["default"]["NAME"] = connections["default"].settings_dict["NAME"] = name
    os.environ["DATABASE_URL"] = database_url(original_url, name)
    try:
        yield name
    finally:
        connections.close_all()
        settings.DATABASES["default"]["NAME"] = connections["default"].settings_dict["NAME"] = original_name
        os.environ["DATABASE_URL"] = original_url
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connections.close_all()


# --------------------------------------------------------------------------------------------------
# Data


def step(label: str, action, *args, **kwargs) -> Any:
    started = time.perf_counter()
    result = action(*args, **kwargs)
    log(f"{label} ({time.perf_counter() - started:.1f} s)")
    return result


def prepare(options: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Fill the scratch database and write what the simulated clerks need to know; returns the plan."""
    from django.core.management import call_command

    from areas.services import areas_load
    from beneficiaries.generator import generate_registry
    from programs.demo import generate_enrollments
    from programs.services import plan_load
    from reporting.services import rollup_run

    step("migrated", call_command, "migrate", verbosity=0)
    step("areas loaded", areas_load)
    step("plan loaded", plan_load)
    step(
        f"{options.people:,} people generated",
        generate_registry,
        people=options.people,
        county_codes=options.counties,
        seed=SEED,
    )
    step("enrolments generated", generate_enrollments, county_codes=options.counties, year=SEED, seed=SEED)
    step("rolled up", rollup_run, wait=True)
    step("static files ready", collect_static)
    password = secrets.token_urlsafe(16)
    plan: dict[str, Any] = {
        "password": password,
        "seconds": options.seconds,
        "think": list(options.think),
        "results": str(work / "results.json"),
        "window": str(work / "window-opened"),
        "clerks": step("clerks created", clerks, options, password),
        "counties": step("samples taken", county_samples, options.counties),
        "import": None,
    }
    if options.rows:
        roster = work / f"roster_{options.rows}.xlsx"
        step(f"{options.rows:,}-row roster written", write_roster, roster, options.rows)
        plan["import"] = {
            "username": make_user("load_import", IMPORT_COUNTY, password).username,
            "county": IMPORT_COUNTY,
            "rows": options.rows,
            "roster": str(roster),
            "delay": options.import_delay,
            "timeout": options.import_timeout,
        }
    return plan


def collect_static() -> None:
    """collectstatic as the image build runs it (hashed names, compressed), into var/load/static; kept
    for the next run while no source file changed, since compressing them all takes a minute."""
    from django.conf import settings
    from django.contrib.staticfiles import finders
    from django.core.management import call_command

    digest = hashlib.sha256()
    for finder in finders.get_finders():
        for path, storage in sorted(finder.list([]), key=lambda found: found[0]):
            stat = os.stat(storage.path(path))
            digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    stamp = Path(settings.STATIC_ROOT) / ".sources"
    if stamp.exists() and stamp.read_text() == digest.hexdigest():
        return
    call_command("collectstatic", interactive=False, clear=True, verbosity=0)
    stamp.write_text(digest.hexdigest())


_hashes: dict[str, str] = {}


def make_user(username: str, county: str, password: str):
    """A county clerk; one hash for every account, since hashing is slow on purpose."""
    from django.contrib.auth.hashers import make_password

    from accounts.models import Role, User

    if password not in _hashes:
        _hashes[password] = make_password(password)
    user = User(username=username, role=Role.COUNTY_CLERK, area_id=county, password=_hashes[password])
    user.save()  # assigns the role's group
    return user


def clerks(options: argparse.Namespace, password: str) -> list[dict[str, Any]]:
    """Clerks round the counties; each edits only people of their own, so no two ever save the same one."""
    from beneficiaries.models import Person

    rng = random.Random(SEED)
    per_county: dict[str, list[int]] = {county: [] for county in options.counties}
    for n in range(options.users):
        per_county[options.counties[n % len(options.counties)]].append(n)
    result = []
    for county, numbers in per_county.items():
        if not numbers:
            continue
        ids = list(Person.objects.filter(county_code=county).values_list("pk", flat=True))
        if not ids:
            raise SystemExit(f"county {county} got no people: raise --people")
        pool = rng.sample(ids, min(len(ids), EDITS_PER_CLERK * len(numbers)))
        for k, n in enumerate(numbers):
            user = make_user(f"load_clerk_{n:03d}", county, password)
            result.append({"username": user.username, "county": county, "edit": pool[k :: len(numbers)]})
    return result


def county_samples(counties: Sequence[str]) -> dict[str, dict[str, list]]:
    """Per county: people to open, and name and ID-number beginnings to search for, taken from the data."""
    from beneficiaries.models import Person

    rng = random.Random(SEED + 1)
    samples = {}
    for county in counties:
        rows = list(Person.objects.filter(county_code=county).values_list("pk", "name", "id_number"))
        chosen = rng.sample(rows, min(len(rows), VIEWED_PER_COUNTY))
        samples[county] = {
            "people": [pk for pk, _, _ in chosen],
            # A surname, or a surname and the first character of the given name.
            "names": sorted({name[: rng.choice((1, 2))] for _, name, _ in chosen[:300]}),
            # The county and a birth year, or down to the birth date.
            "ids": sorted({number[: rng.choice((10, 12, 14))] for _, _, number in chosen[:300]}),
        }
    return samples


def write_roster(path: Path, rows: int) -> None:
    """The roster bench/import_roster.py measures: 瑞金市 people, one household each, all valid."""
    sys.path.insert(0, str(ROOT / "bench"))
    from import_roster import write_roster as bench_write_roster

    bench_write_roster(path, rows)


# --------------------------------------------------------------------------------------------------
# Processes


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)

    def reap(self, timeout: float = 20) -> None:
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log(f"{self.name} did not stop in {timeout:.0f} s; killing it")
        # Its own process group: this also takes gunicorn workers or pool processes left behind.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def stop_children(children: Sequence[Child]) -> None:
    for child in children:
        child.stop()
    for child in children:
        child.reap()


def _die_with_parent() -> None:
    # If this launcher is killed outright, the kernel sends the child SIGTERM: nothing outlives it.
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None).prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG


def spawn(name: str, argv: Sequence[str], env: dict[str, str] | None = None) -> Child:
    log_file = (LOG_DIR / f"{name}.log").open("wb")
    process = subprocess.Popen(  # noqa: S603
        list(argv),
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # Ctrl-C reaches only this launcher, which stops the children in order
        preexec_fn=_die_with_parent,  # noqa: PLW1509 - no threads here
    )
    log_file.close()
    log(f"started {name} (pid {process.pid}), log in {LOG_DIR / f'{name}.log'}")
    return Child(name, process)


def wait_until_healthy(port: int, children: Sequence[Child], timeout: float = 90) -> None:
    import http.client

    deadline = time.monotonic() + timeout
    answer = "no answer"
    while time.monotonic() < deadline:
        for child in children:
            if child.process.poll() is not None:
                raise SystemExit(f"{child.name} exited with {child.process.returncode}; see its log")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
            response = connection.getresponse()
            if response.status == 200:
                return
            answer = f"HTTP {response.status} {response.read()[:200]!r}"
        except OSError as error:
            answer = str(error)
        finally:
            connection.close()
        time.sleep(0.5)
    raise SystemExit(f"/healthz did not answer 200 within {timeout:.0f} s ({answer})")


def start_servers(options: argparse.Namespace, port: int) -> list[Child]:
    children = [
        spawn(
            "gunicorn",
            [sys.executable, "-m", "gunicorn", "poverty_relief.wsgi:application",
             "--bind", f"127.0.0.1:{port}", "--workers", str(options.workers),
             "--timeout", "60", "--graceful-timeout", "10"],
        ),
        spawn(
            "worker",
            [sys.executable, "-m", "celery", "-A", "poverty_relief", "worker", "--loglevel", "WARNING",
             "--concurrency", "2", "--hostname", f"load-{os.getpid()}@%h"],
        ),
    ]  # fmt: skip
    wait_until_healthy(port, children)
    return children


def cpu_seconds(child: Child) -> float:
    """User and system CPU of a server and the processes under it (gunicorn's workers, Celery's pool)."""
    import psutil  # comes with locust

    total = 0.0
    with contextlib.suppress(psutil.Error):
        root = psutil.Process(child.process.pid)
        for process in [root, *root.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                times = process.cpu_times()
                total += times.user + times.system
    return total


def run_locust(
    options: argparse.Namespace, port: int, plan: dict[str, Any], plan_path: Path, servers: Sequence[Child]
) -> tuple[int, dict[str, float]]:
    """Run locust to its end; returns its exit code and the CPU seconds each server spent in the window."""
    clerks_and_importer = options.users + (1 if options.rows else 0)
    locust = spawn(
        "locust",
        [sys.executable, "-m", "locust", "-f", str(ROOT / "load" / "locustfile.py"), "--headless",
         "--users", str(clerks_and_importer), "--spawn-rate", str(options.spawn_rate),
         "--host", f"http://127.0.0.1:{port}", "--only-summary", "--loglevel", "WARNING"],
        env={**os.environ, "LOAD_PLAN": str(plan_path)},
    )  # fmt: skip
    deadline = time.monotonic() + options.seconds + options.import_delay + options.import_timeout + 300
    window = Path(plan["window"])
    opened: dict[str, float] | None = None
    try:
        while locust.process.poll() is None:
            if time.monotonic() > deadline:
                log("locust runs past its time; stopping it")
                return -1, {}
            if opened is None and window.exists():
                opened = {server.name: cpu_seconds(server) for server in servers}
            time.sleep(0.2)
        spent = {server.name: cpu_seconds(server) - (opened or {}).get(server.name, 0) for server in servers}
        return locust.process.returncode, spent
    finally:
        locust.stop()
        locust.reap()


# --------------------------------------------------------------------------------------------------
# Figures


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """Nearest rank: the smallest value with at least `fraction` of the values at or below it."""
    if not ordered:
        return 0.0
    return ordered[max(1, math.ceil(len(ordered) * fraction)) - 1]


def figures(samples: Sequence[Sequence[Any]], seconds: float) -> dict[str, Any]:
    times = sorted(sample[1] for sample in samples)
    return {
        "requests": len(times),
        "failures": sum(1 for sample in samples if sample[2]),
        "p50_ms": round(percentile(times, 0.50)),
        "p95_ms": round(percentile(times, 0.95)),
        "p99_ms": round(percentile(times, 0.99)),
        "max_ms": round(times[-1]) if times else 0,
        "rps": round(len(times) / seconds, 1) if seconds else 0.0,
    }


def server_errors() -> list[str]:
    """Lines the servers logged at ERROR or above, or a gunicorn worker timing out."""
    found = []
    for name in ("gunicorn", "worker"):
        path = LOG_DIR / f"{name}.log"
        if not path.exists():
            continue
        for line in path.read_text(errors="replace").splitlines():
            if re.search(r'"level": "(ERROR|CRITICAL)"|\[(ERROR|CRITICAL)\]|WORKER TIMEOUT', line):
                found.append(f"{name}: {line[:300]}")
    return found


def report(
    options: argparse.Namespace, results: dict[str, Any], locust_code: int, uptime: str, cpu: dict[str, float]
) -> int:
    """Print the figures; the window that counts opens when the last clerk's login has been answered."""
    samples = results["requests"]
    opened = results["measuring"] or results["started"]
    ramp = [s for s in samples if s[3] < opened]
    window = [s for s in samples if s[3] >= opened]
    seconds = results["stopped"] - opened
    rows = {
        kind: figures([s for s in window if s[0] == kind], seconds) for kind in sorted({s[0] for s in window})
    }
    work = figures([s for s in window if s[0] != "login"], seconds)
    logins = [s for s in samples if s[0] == "login"]
    print(
        f"\n{options.users} clerks, {options.people:,} people, {options.workers} gunicorn workers; "
        f"{opened - results['started']:.0f} s of logins, then {seconds:.0f} s measured ({uptime})"
    )
    print(f"{'request':<22}{'requests':>9}{'fail':>6}{'p50':>7}{'p95':>7}{'p99':>7}{'max':>7}{'req/s':>8}")
    lines = [
        *rows.items(),
        ("all but login", work),
        ("all", figures(window, seconds)),
        ("(logins, whole run)", figures(logins, results["stopped"] - results["started"])),
        ("(before the window)", figures(ramp, opened - results["started"])),
    ]
    imported = results.get("import")
    during_import = None
    if imported and imported.get("ended"):
        during = [s for s in window if imported["started"] <= s[3] <= imported["ended"] and s[0] != "login"]
        during_import = figures(during, imported["ended"] - imported["started"])
        lines.append(("(work during import)", during_import))
    for name, row in lines:
        print(
            f"{name:<22}{row['requests']:>9}{row['failures']:>6}{row['p50_ms']:>7}{row['p95_ms']:>7}"
            f"{row['p99_ms']:>7}{row['max_ms']:>7}{row['rps']:>8}"
        )
    if cpu:
        per_request = cpu.get("gunicorn", 0) * 1000 / max(1, len(window))
        print(
            f"server CPU in the window: gunicorn {cpu.get('gunicorn', 0):.1f} s ({per_request:.0f} ms a "
            f"request), Celery worker {cpu.get('worker', 0):.1f} s (PostgreSQL not counted)"
        )
    failures = [s for s in samples if s[2]]
    for message, count in _most_common(f"{s[0]}: {s[4]}" for s in failures):
        print(f"  failed {count}x  {message}")
    logged = server_errors()
    for line in logged[:10]:
        print(f"  server error: {line}")
    if imported:
        state = "committed" if imported.get("ok") else f"FAILED: {imported.get('error')}"
        print(
            f"import of {imported['rows']:,} rows: {state}; {imported.get('seconds', 0):.1f} s upload to "
            f"committed (check {imported.get('check_seconds', 0):.1f} s, commit "
            f"{imported.get('commit_seconds', 0):.1f} s), counts {imported.get('counts')}"
        )
    passed = (
        work["p95_ms"] < options.p95_ms
        and not failures
        and not logged
        and (imported is None or bool(imported.get("ok")))
        and locust_code in (0, 1)  # 1: some request failed, which the figures already say
    )
    verdict = "PASS" if passed else "FAIL"
    print(
        f"{verdict}: p95 of the clerks' work {work['p95_ms']} ms (limit {options.p95_ms:.0f}), "
        f"{len(failures)} failed requests, {len(logged)} server errors"
    )
    summary = {
        "users": options.users,
        "people": options.people,
        "workers": options.workers,
        "login_seconds": round(opened - results["started"], 1),
        "seconds": round(seconds, 1),
        "work": work,
        "kinds": rows,
        "logins": figures(logins, results["stopped"] - results["started"]),
        "failures": len(failures),
        "cpu_seconds": {name: round(value, 1) for name, value in cpu.items()},
        "server_errors": len(logged),
        "import": imported,
        "work_during_import": during_import,
        "load_average": uptime,
        "passed": passed,
    }
    print(json.dumps(summary, ensure_ascii=False))
    return 0 if passed else 1


def _most_common(messages: Iterator[str], top: int = 5) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for message in messages:
        counts[message[:200]] = counts.get(message[:200], 0) + 1
    return sorted(counts.items(), key=lambda item: -item[1])[:top]


def machine_load() -> str:
    with contextlib.suppress(OSError):
        return "load average " + " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return "load average unknown"


# --------------------------------------------------------------------------------------------------


def _stop_on_sigterm(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through the `finally` blocks that stop and drop


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    services = use_servers()
    os.environ.update(
        DJANGO_SETTINGS_MODULE="poverty_relief.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_hex(32),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_LOG_LEVEL="WARNING",
    )
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="load-"))
    os.environ.update(DJANGO_STATIC_ROOT=str(LOG_DIR / "static"), DJANGO_MEDIA_ROOT=str(work / "media"))
    children: list[Child] = []
    try:
        with scratch_database() as name:
            try:
                log(f"scratch database {name}; Redis {os.environ['REDIS_URL']}")
                plan = prepare(options, work)
                plan_path = work / "plan.json"
                plan_path.write_text(json.dumps(plan))
                from django.db import connections

                from poverty_relief.devstack import free_port

                connections.close_all()
                port = options.port or free_port()
                children = start_servers(options, port)
                log(f"gunicorn on 127.0.0.1:{port}; {options.users} clerks start ({machine_load()})")
                locust_code, cpu = run_locust(options, port, plan, plan_path, children)
                uptime = machine_load()
            finally:
                stop_children(children)  # before the database is dropped
        results_path = Path(plan["results"])
        if not results_path.exists():
            log(f"locust wrote no results (exit {locust_code}); see {LOG_DIR / 'locust.log'}")
            return 1
        return report(options, json.loads(results_path.read_text()), locust_code, uptime, cpu)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        services.stop_started()


if __name__ == "__main__":
    sys.exit(main())
