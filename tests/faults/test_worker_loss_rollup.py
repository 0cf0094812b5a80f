"""A worker process killed (SIGKILL) while the roll-up is inside its transaction: the live figures stay as
they were, no run is recorded, the advisory lock is free again; the task goes back to the queue and a new
worker runs it to the end, once.

The kill point is observable without touching the code under test: another connection holds a SHARE lock
on the table of runs, so the roll-up's last statement (recording its run, after every figure is written
inside the transaction) waits for it, and pg_stat_activity shows the worker's backend waiting there.
"""

import os
import signal
import socket

import psycopg2
import pytest
from django.db import connection

from poverty_relief.celery import app
from reporting.models import Progress, RollupRun, RollupTrigger
from reporting.services import LOCK_KEY, rollup_run
from reporting.tasks import rollup
from tests.conftest import start_worker, stop_worker
from tests.imports.test_worker_loss import pool_child, wait_until
from tests.reporting.data import enrol, household, person, villages

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

QUEUE = f"rollup-loss-{os.getpid()}"
FIELDS = ("year", "area_code", "benefit_type_id", "achieved", "households", "amount", "target")


def figures() -> list[tuple]:
    return sorted(Progress.objects.values_list(*FIELDS), key=repr)


def raw_connection():
    """A connection of its own, outside Django's: it holds the lock while the test's own one reads."""
    db = connection.settings_dict
    return psycopg2.connect(
        dbname=db["NAME"], user=db["USER"], password=db.get("PASSWORD") or None,
        host=db.get("HOST") or None, port=db.get("PORT") or None, application_name="faults lock holder",
    )  # fmt: skip


def waiting_rollup_backend() -> int | None:
    """The backend that records the run and waits for the lock held on the table of runs."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            " AND query LIKE %s",
            ['%INSERT INTO "reporting_rolluprun"%'],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def backend_alive(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()[0] > 0


def advisory_lock_free() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY])
        taken = cursor.fetchone()[0]
        if taken:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
    return taken


def node_name(prefix: str) -> str:
    return f"{prefix}-{os.getpid()}@{socket.gethostname()}"


def test_a_rollup_killed_inside_its_transaction_leaves_nothing_and_runs_again_once(area_tree, tmp_path):
    places = villages("360781")
    enrol(person(places[0]), "M03-LIVING")
    enrol(household(places[1]), "M11-HOUSING")
    rollup_run(trigger=RollupTrigger.MANUAL)  # the figures the pages show before the killed run
    for village in places:  # changes the next run must write
        enrol(person(village), "M03-LIVING")
    before = figures()
    runs_before = RollupRun.objects.count()

    holder = raw_connection()
    options = ("--pool=prefork", "--concurrency=1", "-Q", QUEUE)
    first = start_worker("rollup-loss", tmp_path / "first.log", *options)
    second = None
    try:
        with holder.cursor() as cursor:
            cursor.execute("LOCK TABLE reporting_rolluprun IN SHARE MODE")
        rollup.apply_async(kwargs={"trigger": RollupTrigger.CHANGE}, queue=QUEUE)
        backend = wait_until(waiting_rollup_backend, 60, "roll-up waiting to record its run")
        # The first worker takes nothing more from the queue: the lost task waits there for the next one.
        first_node = [node_name("rollup-loss")]
        assert app.control.cancel_consumer(QUEUE, destination=first_node, reply=True, timeout=10)
        os.kill(pool_child(first.pid), signal.SIGKILL)
        holder.rollback()  # the orphaned backend goes on, finds its client gone and rolls back
        wait_until(lambda: not backend_alive(backend), 30, "end of the killed roll-up's backend")

        assert figures() == before
        assert RollupRun.objects.count() == runs_before
        assert advisory_lock_free()

        stop_worker(first)
        second = start_worker("rollup-again", tmp_path / "second.log", *options)
        changed = RollupRun.objects.filter(trigger=RollupTrigger.CHANGE)
        (run,) = wait_until(lambda: list(changed.all()), 60, "the run delivered again")
    finally:
        holder.close()
        stop_worker(first)
        if second is not None:
            stop_worker(second)

    assert run.changed > 0
    after = figures()
    assert after != before
    direct = rollup_run(trigger=RollupTrigger.MANUAL, wait=True)
    assert direct.run.changed == 0  # a recompute on the same data finds nothing to change
    assert figures() == after
    assert RollupRun.objects.filter(trigger=RollupTrigger.CHANGE).count() == 1
    log = (tmp_path / "first.log").read_text()
    assert "WorkerLostError" in log or "SIGKILL" in log, log[-2000:]
