"""Runs against each other and against readers, each on its own connection (committed data, threads)."""

import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, transaction

from reporting.models import Progress, RollupRun
from reporting.services import LOCK_KEY, rollup_run

from .data import enrol, household, person, villages

pytestmark = pytest.mark.django_db(transaction=True)

COLUMNS = (
    "year, area_code, benefit_type_id, target, allocated, achieved, achieved_for_target, households, amount"
)


def seed(counties=("360781", "360730")):
    for county in counties:
        for village in villages(county):
            enrol(person(village), "M03-LIVING", amount=Decimal("90.00"))
            enrol(household(village), "M11-HOUSING")


def snapshot(cursor=None) -> set[tuple]:
    if cursor is None:
        return set(Progress.objects.values_list(*COLUMNS.split(", ")))
    cursor.execute(f"SELECT {COLUMNS} FROM reporting_progress")  # noqa: S608
    return set(cursor.fetchall())


def in_thread(target, *args) -> tuple[threading.Thread, dict]:
    """Run `target` on a thread (and so on a connection of its own); its result lands in the dict."""
    out = {}

    def run():
        try:
            out["result"] = target(*args)
        except BaseException as error:  # reported by the test that reads `out`
            out["error"] = error
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


def wait_until(condition, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_a_run_that_finds_another_gives_way_or_waits_and_the_result_is_the_same(area_tree):
    seed()
    holding, release = threading.Event(), threading.Event()

    def hold_the_lock():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
            holding.set()
            release.wait(30)

    holder, _ = in_thread(hold_the_lock)
    assert holding.wait(10)
    assert rollup_run().skipped
    assert not RollupRun.objects.exists() and not Progress.objects.exists()

    waiter, waited = in_thread(lambda: rollup_run(wait=True))
    waiter.join(1.0)
    assert waiter.is_alive()  # still waiting for the lock
    release.set()
    holder.join(10)
    waiter.join(30)
    assert not waited["result"].skipped, waited
    rows = snapshot()
    assert rows and rollup_run().rows == len(rows)
    assert snapshot() == rows


def test_two_runs_at_once_take_turns(area_tree):
    seed()
    start = threading.Barrier(2)

    def run(county):
        start.wait(10)
        return rollup_run(county_code=county, wait=True).run

    threads = [in_thread(run, None), in_thread(run, "360781")]
    for thread, _ in threads:
        thread.join(60)
    runs = sorted((out["result"] for _, out in threads), key=lambda run: run.started_at)
    assert runs[0].finished_at <= runs[1].started_at
    rows = snapshot()
    rollup_run()
    assert snapshot() == rows


def test_readers_see_the_old_roll_up_in_full_until_the_run_commits_then_the_new_one(area_tree):
    seed(("360781",))
    rollup_run()
    old = snapshot()
    seed(("360730",))  # the next run adds rows and changes the city's and the province's
    holder = connection.get_new_connection(connection.get_connection_params())
    reader = connection.get_new_connection(connection.get_connection_params())
    reader.autocommit = True
    try:
        # A lock on the province's row makes the run wait halfway through writing: after its deletes
        # and the updates before that row, before its inserts.
        holder.cursor().execute(
            "SELECT 1 FROM reporting_progress WHERE area_code = '360000' AND benefit_type_id = 'M03-LIVING' "
            "FOR UPDATE"
        )
        run, out = in_thread(rollup_run)

        def run_is_waiting():
            with connection.cursor() as probe:
                probe.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()"
                )
                return probe.fetchone()[0] == 1

        wait_until(run_is_waiting)
        started = time.monotonic()
        assert snapshot(reader.cursor()) == old  # in full, and at once
        assert time.monotonic() - started < 2
        holder.rollback()
        run.join(30)
        assert "error" not in out, out
        new = snapshot(reader.cursor())
    finally:
        holder.close()
        reader.close()
    assert new != old and len(new) > len(old)
    assert new == snapshot()
