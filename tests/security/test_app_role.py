"""The application's database role, as `grant_app_role` makes it and Compose connects with it.

A fresh login role is made for each test and granted by the command on the test database; the tests then
connect as that role (psycopg2 for the refusals, a Django process of its own for the application's work)
and show that it cannot switch the history guards off or rewrite history, while the registry, a roster
commit and the roll-up (temporary tables, ANALYZE, advisory locks, COPY, SET LOCAL) all work under it.
"""

import io
import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
RUIJIN = "360781"

pytestmark = pytest.mark.django_db(transaction=True)


def connect_as(role: str):
    db = connection.settings_dict
    return psycopg2.connect(
        dbname=db["NAME"], host=db["HOST"] or None, port=db["PORT"] or None, user=role, password=None
    )


def refused(role: str, statement: str, params=()) -> str:
    """The error PostgreSQL answers `statement` with, run as `role` (the statement must fail)."""
    conn = connect_as(role)
    try:
        with conn.cursor() as cursor:
            cursor.execute(statement, params)
    except psycopg2.Error as error:
        return f"{error.pgcode} {error.pgerror}"
    finally:
        conn.close()  # uncommitted: whatever was allowed is rolled back
    raise AssertionError(f"{role} was allowed: {statement}")


@pytest.fixture
def app_role(area_tree):
    role = f"pr_app_{secrets.token_hex(5)}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE ROLE "{role}" LOGIN')
    try:
        for _ in range(2):  # run twice: the second run must change nothing and not fail
            call_command("grant_app_role", role, stdout=io.StringIO())
        yield role
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", [role]
            )
            # Its grants and default privileges here; the role itself is cluster-wide.
            cursor.execute(f'DROP OWNED BY "{role}"')
            cursor.execute(f'DROP ROLE "{role}"')


@pytest.fixture
def clerk(area_tree):
    from accounts.models import Role
    from accounts.services import user_create

    return user_create(
        username=f"clerk_{secrets.token_hex(3)}",
        password="app-role-password-2018",
        role=Role.COUNTY_CLERK,
        area_code=RUIJIN,
        check_password=False,
    )


def test_the_role_may_not_switch_off_or_rewrite_history(app_role, clerk):
    from beneficiaries.services import person_register
    from poverty_relief.history import history_tables
    from tests.beneficiaries.factories import person_data

    assert "beneficiaries_personevent" in history_tables()
    person_register(actor=clerk, data=person_data(RUIJIN, sequence=811))  # history rows to aim at
    count = "SELECT count(*) FROM beneficiaries_personevent"
    with connection.cursor() as cursor:
        cursor.execute(count)
        before = cursor.fetchone()[0]
    assert before >= 1

    for statement in (
        "ALTER TABLE beneficiaries_personevent DISABLE TRIGGER ALL",
        "ALTER TABLE beneficiaries_personevent DISABLE TRIGGER pr_history_guard_rows",
        "DROP TRIGGER pr_history_guard_rows ON beneficiaries_personevent",
        "ALTER TABLE pghistory_context DISABLE TRIGGER USER",
    ):
        assert "must be owner" in refused(app_role, statement), statement
    # Triggers do not fire in a replica session: only a superuser may start one.
    assert "permission denied" in refused(app_role, "SET session_replication_role = replica")

    # Either trigger answers first: pghistory's own, or the guard that no session can step around.
    guard = re.compile(r"history is append-only|pgtrigger: Cannot update or delete rows")
    for statement in (
        "UPDATE beneficiaries_personevent SET pgh_label = pgh_label",
        "DELETE FROM beneficiaries_personevent",
        "DELETE FROM pghistory_context",
        "UPDATE pghistory_context SET metadata = '{\"user\": 0}'",
    ):
        assert guard.search(refused(app_role, statement)), statement
    for table in ("beneficiaries_personevent", "pghistory_context"):
        assert "permission denied" in refused(app_role, "TRUNCATE " + table), table
    assert "permission denied" in refused(app_role, "CREATE TABLE pr_role_probe (id integer)")
    assert "permission denied" in refused(
        app_role, "CREATE FUNCTION pr_role_probe() RETURNS int AS 'SELECT 1' LANGUAGE sql"
    )
    assert "permission denied" in refused(
        app_role, "SELECT setval(pg_get_serial_sequence('beneficiaries_personevent', 'pgh_id'), 1)"
    )

    with connection.cursor() as cursor:
        cursor.execute(count)
        assert cursor.fetchone()[0] == before


def test_the_role_has_exactly_the_row_privileges_on_every_table(app_role):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, rolcanlogin "
            "FROM pg_roles WHERE rolname = %s",
            [app_role],
        )
        assert cursor.fetchone() == (False, False, False, False, False, True)
        cursor.execute(
            "SELECT count(*) FROM pg_tables t WHERE schemaname = current_schema() "
            "AND pg_has_role(%s, t.tableowner, 'MEMBER')",
            [app_role],
        )
        assert cursor.fetchone()[0] == 0, "the role owns tables or belongs to their owner"
        cursor.execute(
            "SELECT c.relname, array_agg(DISTINCT g.privilege_type::text ORDER BY g.privilege_type::text) "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema() "
            "LEFT JOIN information_schema.role_table_grants g "
            "ON g.table_schema = n.nspname AND g.table_name = c.relname AND g.grantee = %s "
            "WHERE c.relkind IN ('r', 'p') GROUP BY c.relname",
            [app_role],
        )
        grants = dict(cursor.fetchall())
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind = 'S' "
            "AND NOT (has_sequence_privilege(%s, c.oid, 'USAGE') "
            "AND has_sequence_privilege(%s, c.oid, 'SELECT') "
            "AND NOT has_sequence_privilege(%s, c.oid, 'UPDATE'))",
            [app_role] * 3,
        )
        wrong_sequences = [name for (name,) in cursor.fetchall()]
    assert len(grants) > 50 and "pghistory_context" in grants
    wrong = {
        table: held for table, held in grants.items() if held != ["DELETE", "INSERT", "SELECT", "UPDATE"]
    }
    assert not wrong, wrong
    assert not wrong_sequences, wrong_sequences


def test_a_table_a_later_migration_makes_is_granted_at_once(app_role):
    """ALTER DEFAULT PRIVILEGES: what a migrate creates is usable before the grant that follows it."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE pr_role_later (id bigserial PRIMARY KEY, note text)")
    try:
        with connect_as(app_role) as conn, conn.cursor() as cursor:
            cursor.execute("INSERT INTO pr_role_later (note) VALUES ('x') RETURNING id")
            assert cursor.fetchone()[0] == 1
            cursor.execute("UPDATE pr_role_later SET note = 'y'")
            cursor.execute("DELETE FROM pr_role_later")
            assert cursor.rowcount == 1
        conn.close()
        assert "permission denied" in refused(app_role, "TRUNCATE pr_role_later")
        assert "must be owner" in refused(app_role, "ALTER TABLE pr_role_later ADD COLUMN more text")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE pr_role_later")


def test_the_command_refuses_a_role_that_could_switch_the_guards_off(app_role):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        (owner,) = cursor.fetchone()
    with pytest.raises(CommandError, match="runs this command"):
        call_command("grant_app_role", owner, stdout=io.StringIO())
    for give, take_back, refusal in (
        (f'GRANT "{owner}" TO "{app_role}"', f'REVOKE "{owner}" FROM "{app_role}"', "owns tables"),
        (f'ALTER ROLE "{app_role}" SUPERUSER', f'ALTER ROLE "{app_role}" NOSUPERUSER', "is a superuser"),
        (f'ALTER ROLE "{app_role}" CREATEROLE', f'ALTER ROLE "{app_role}" NOCREATEROLE', "may create roles"),
    ):
        with connection.cursor() as cursor:
            cursor.execute(give)
        try:
            with pytest.raises(CommandError, match=refusal):
                call_command("grant_app_role", app_role, stdout=io.StringIO())
        finally:
            with connection.cursor() as cursor:
                cursor.execute(take_back)


def test_the_command_makes_the_role_from_the_apps_url_and_keeps_its_password_hashed(monkeypatch):
    role = f"pr_app_{secrets.token_hex(5)}"
    monkeypatch.setenv("APP_ROLE_URL", f"postgres://{role}:Secret42@db:5432/poverty_relief")
    try:
        for expected in ("Created", "Updated"):
            out = io.StringIO()
            call_command("grant_app_role", "--url-env", "APP_ROLE_URL", stdout=out)
            assert out.getvalue().startswith(f"{expected} role {role}:")
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolpassword FROM pg_authid "
                "WHERE rolname = %s",
                [role],
            )
            *attributes, stored = cursor.fetchone()
        assert attributes == [True, False, False, False]
        assert stored.startswith("SCRAM-SHA-256$") and "Secret42" not in stored
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            if cursor.fetchone():
                cursor.execute(f'DROP OWNED BY "{role}"')
                cursor.execute(f'DROP ROLE "{role}"')


def test_the_applications_work_succeeds_as_the_role(app_role, clerk, tmp_path):
    db = connection.settings_dict
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DATABASE_URL": f"postgres://{app_role}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "DJANGO_DEBUG": "1",
        "DJANGO_MEDIA_ROOT": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "poverty_relief.settings",
    }
    result = subprocess.run(
        [sys.executable, "-c", f"from tests.security.test_app_role import work; work({clerk.pk})"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    done = json.loads(result.stdout.strip().splitlines()[-1])
    assert done["connected_as"] == app_role
    assert done["registered"]["history"] >= 1 and done["registered"]["acted_by"] == [clerk.pk]
    assert done["roster"]["status"] == "committed", done["roster"]
    assert done["roster"]["people"] == 3
    assert done["rollup"]["skipped"] is False and done["rollup"]["rows"] > 0
    assert done["rollup"]["achieved"] == 1

    # And in the database, seen from the owner's side.
    from beneficiaries.models import Person
    from reporting.models import RollupRun

    assert Person.objects.filter(county_code=RUIJIN).count() == 4
    assert RollupRun.objects.filter(pk=done["rollup"]["run"]).exists()


def work(clerk_id: int) -> None:
    """Run in a process of its own connected as the application role: the application's writes, each
    through its service, printed as one JSON line."""
    import django

    django.setup()
    from django.db import connection as app_connection
    from pghistory.models import Context

    from accounts.models import User
    from beneficiaries.models import Person
    from beneficiaries.services import person_register, person_update
    from imports import pipeline
    from imports import tasks as import_tasks
    from imports.models import ImportJob
    from imports.services import import_commit, import_create
    from reporting import tasks as reporting_tasks
    from reporting.models import Progress
    from reporting.services import rollup_run
    from tests.beneficiaries.factories import person_data
    from tests.imports.rosters import person_row, upload, workbook
    from tests.reporting.data import enrol

    # The queue is not under test: the work a worker would do runs here, in this process.
    import_tasks.read_import.delay = lambda *args: None
    import_tasks.commit_import.delay = lambda *args: None
    reporting_tasks._queue = lambda *args: False

    clerk = User.objects.get(pk=clerk_id)
    with app_connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        (connected_as,) = cursor.fetchone()

    person = person_register(actor=clerk, data=person_data(RUIJIN, sequence=812))
    person = person_update(
        actor=clerk, person=person, data={**person_data(RUIJIN, sequence=812), "phone": "13907970002"},
        expected_version=person.version,
    )  # fmt: skip
    events = Person.events.rel.related_model.objects.filter(pgh_obj_id=person.pk).order_by("pgh_id")
    contexts = Context.objects.filter(pk__in=[event.pgh_context_id for event in events])
    acted_by = sorted({context.metadata.get("user") for context in contexts}, key=str)

    job = import_create(
        actor=clerk, kind="roster", upload=upload(workbook([person_row(n) for n in range(3)]))
    )
    pipeline.read(job.pk)
    import_commit(actor=clerk, job=ImportJob.objects.get(pk=job.pk), all_or_nothing=False)
    pipeline.commit(job.pk, clerk.pk)
    job = ImportJob.objects.get(pk=job.pk)

    enrol(Person.objects.get(pk=person.pk), "M03-LIVING", status="approved")
    result = rollup_run(wait=True)
    living = Progress.objects.get(area_code=RUIJIN, benefit_type_id="M03-LIVING", year=2018)

    print(json.dumps({
        "connected_as": connected_as,
        "registered": {"history": events.count(), "acted_by": acted_by},
        "roster": {"status": job.status, "people": job.counts.get("written_created"), "message": job.message},
        "rollup": {"skipped": result.skipped, "rows": result.rows, "run": result.run.pk,
                   "achieved": living.achieved},
    }))  # fmt: skip
