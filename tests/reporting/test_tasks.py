"""The roll-up task through a real Celery worker, the debounced queue, the schedule."""

import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
import redis
from celery.exceptions import MaxRetriesExceededError
from django.conf import settings
from django.db import connection, transaction
from django.test import TestCase

from reporting import tasks
from reporting.models import Progress, RollupRun
from reporting.services import LOCK_KEY
from reporting.tasks import _client, _queue, debounce_key, queue_rollup, rollup

from .data import enrol, household, person, villages


def wait_for_runs(count: int, timeout: float = 60, **filters) -> list[RollupRun]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = list(RollupRun.objects.filter(**filters))
        if len(runs) >= count:
            return runs
        time.sleep(0.2)
    raise AssertionError(f"{count} run(s) {filters} not there after {timeout} s")


def revoke_scheduled() -> None:
    """Runs that earlier tests queued with a countdown (a committed import queues one) are waiting in the
    session's worker: revoked, so that they do not land in this test's database."""
    from poverty_relief.celery import app

    scheduled = app.control.inspect(timeout=1).scheduled() or {}
    ids = [entry["request"]["id"] for entries in scheduled.values() for entry in entries]
    if ids:
        app.control.revoke(ids)


@pytest.fixture
def clean_keys():
    revoke_scheduled()
    for county in (None, "360781"):
        _client().delete(debounce_key(county))
    yield
    for county in (None, "360781"):
        _client().delete(debounce_key(county))


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_rolls_up(celery_worker_process, area_tree):
    village = villages("360781")[0]
    enrol(person(village), "M03-LIVING", amount=Decimal("150.00"))
    enrol(household(village), "M11-HOUSING")

    rollup.delay(trigger="manual")

    (run,) = wait_for_runs(1, trigger="manual", county_code="")
    assert run.rows == Progress.objects.count() > 0
    living = Progress.objects.get(area_code="360000", benefit_type_id="M03-LIVING", year=2018)
    assert (living.achieved, living.amount, living.households) == (1, Decimal("150.00"), None)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_changes_close_together_make_one_run_after_them(celery_worker_process, area_tree, clean_keys):
    enrol(person(villages("360781")[0]), "M03-LIVING")
    assert _queue("360781", 2) is True
    enrol(person(villages("360781")[1]), "M03-LIVING")  # a second change within the two seconds
    assert _queue("360781", 2) is False
    assert not RollupRun.objects.exists()  # not before the countdown

    (run,) = wait_for_runs(1, county_code="360781", trigger="change")
    assert Progress.objects.get(area_code="360781", benefit_type_id="M03-LIVING").achieved == 2
    time.sleep(1)
    assert RollupRun.objects.count() == 1
    assert _queue("360781", 1) is True  # the key has expired: a later change queues a run of its own
    wait_for_runs(2, county_code="360781", trigger="change")


class QueueTest(TestCase):
    def setUp(self):
        for county in (None, "360781"):
            _client().delete(debounce_key(county))

    def test_nothing_is_queued_before_the_change_commits(self):
        with self.captureOnCommitCallbacks(execute=False) as callbacks:
            queue_rollup(county_code="360781")
        self.assertEqual(len(callbacks), 1)
        self.assertFalse(_client().exists(debounce_key("360781")))

    def test_a_run_already_queued_takes_the_change(self):
        _client().set(debounce_key("360781"), "1", ex=30)
        self.assertFalse(_queue("360781", 30))
        self.assertGreater(_client().ttl(debounce_key("360781")), 25)  # the first one's expiry stands

    def test_without_redis_the_change_is_saved_and_the_schedule_catches_up(self):
        tasks._redis = redis.Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1)
        try:
            with self.assertLogs("reporting.tasks", "WARNING") as logs:
                self.assertFalse(_queue("360781", 30))
        finally:
            tasks._redis = None
        self.assertIn("Redis unreachable", logs.output[0])

    def test_beat_runs_it_every_ten_minutes(self):
        entry = settings.CELERY_BEAT_SCHEDULE["reporting-rollup"]
        self.assertEqual(entry["task"], rollup.name)
        self.assertEqual(entry["schedule"], timedelta(minutes=10))
        self.assertEqual(entry["kwargs"], {"trigger": "schedule"})
        self.assertTrue(rollup.acks_late and rollup.ignore_result)


@pytest.mark.django_db(transaction=True)
def test_a_scheduled_run_gives_way_a_run_after_a_change_tries_again(area_tree):
    holding, release = threading.Event(), threading.Event()

    def hold_the_lock():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
            holding.set()
            release.wait(30)
        connection.close()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    try:
        assert holding.wait(10)
        scheduled = rollup.apply(kwargs={"trigger": "schedule"})
        assert scheduled.successful()
        # Run eagerly, its retries follow at once (a worker spaces them RETRY_SECONDS apart): with the
        # lock held throughout, it tries MAX_RETRIES more times, then fails loudly.
        after_change = rollup.apply(kwargs={"county_code": "360781", "trigger": "change"})
        assert isinstance(after_change.result, MaxRetriesExceededError)
    finally:
        release.set()
        holder.join(10)
    assert not RollupRun.objects.exists()
