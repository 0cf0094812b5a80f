"""Redis stopped (and frozen): the registry goes on, dashboards show their last figures under a banner,
uploads say to try later (503), /healthz says Redis is down; when Redis is back, uploads work again and
nothing entered meanwhile is lost.

The app and a real worker are pointed at a redis-server of the test's own, which the test stops, freezes
and starts again; PostgreSQL stays up throughout.
"""

import logging
import time

import pytest
from django.db import transaction
from django.utils.translation import gettext
from kombu import pools

from beneficiaries.models import Person
from imports.models import ImportJob, ImportStatus
from poverty_relief.celery import app
from reporting import tasks as reporting_tasks
from reporting.models import Progress, RollupRun, RollupTrigger
from reporting.services import rollup_run
from reporting.tasks import queue_rollup, rollup
from tests.beneficiaries.factories import person_data
from tests.cast import PASSWORD, make_cast
from tests.conftest import TEST_QUEUE, start_worker, stop_worker
from tests.imports.rosters import person_row, upload, workbook
from tests.reporting.data import enrol, person, villages

from .servers import RedisServer, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

TRY_LATER = "The background service is not available; try again in a few minutes."
QUEUE_BANNER = (
    "The task queue is not answering: these are the last figures computed, and they are not brought up to "
    "date until it is back."
)


def reconnect_celery() -> None:
    """Drop the connections Celery keeps, so that the next publish goes to the broker now configured."""
    pools.reset()  # closes every pooled connection and forgets the pools
    app._pool = None
    app.amqp._producer_pool = None
    app._backend_cache = None
    app._local.__dict__.pop("backend", None)
    reporting_tasks._redis = None


@pytest.fixture
def private_redis(tmp_path, settings, monkeypatch):
    """The app (settings, Celery's broker and results, the roll-up's debounce client) on a Redis of its
    own."""
    server = RedisServer(tmp_path)
    server.start()
    settings.REDIS_URL = server.url()
    monkeypatch.setattr(app.conf, "broker_url", server.url())
    monkeypatch.setattr(app.conf, "result_backend", server.url())
    monkeypatch.setenv("DJANGO_MEDIA_ROOT", str(tmp_path / "media"))  # for the worker
    settings.MEDIA_ROOT = tmp_path / "media"
    reconnect_celery()
    try:
        yield server
    finally:
        server.stop()
        monkeypatch.undo()
        reconnect_celery()


class Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


def roster(n: int):
    return upload(workbook([person_row(n)]), name=f"roster-{n}.xlsx")


def timed(call):
    started = time.monotonic()
    response = call()
    return response, round(time.monotonic() - started, 2)


def test_with_redis_down_the_registry_goes_on_and_nothing_is_lost(area_tree, private_redis, tmp_path, client):
    make_cast()
    places = villages("360781")
    enrol(person(places[0]), "M03-LIVING")
    rollup_run(trigger=RollupTrigger.MANUAL)  # the figures the dashboard shows
    known = Person.objects.get()
    worker = start_worker("redis-down", tmp_path / "worker.log", "--pool=solo", "-Q", TEST_QUEUE)
    timings = {}
    try:
        private_redis.stop()

        # Login, the registry, record entry: none of them needs Redis.
        response = client.post("/accounts/login/", {"username": "ruijin_clerk", "password": PASSWORD})
        assert response.status_code == 302, response.content.decode()[:500]
        assert client.get("/registry/people/").status_code == 200
        assert client.get(f"/registry/people/{known.pk}/").status_code == 200
        response = client.post("/registry/people/new/", person_data(sequence=8))
        added = Person.objects.exclude(pk=known.pk).get()
        assert response.status_code == 302 and response["Location"] == f"/registry/people/{added.pk}/"
        edited = {**person_data(sequence=8, phone="13800000001"), "version": 1}
        response = client.post(f"/registry/people/{added.pk}/edit/", edited)
        assert response.status_code == 302, response.content.decode()[:500]
        assert Person.objects.get(pk=added.pk).phone == "13800000001"

        # The dashboard: the last figures, and a banner saying they are not brought up to date.
        response, timings["dashboard, Redis stopped"] = timed(lambda: client.get("/progress/360781/"))
        assert response.status_code == 200
        assert response.context["queue_down"] is True
        assert response.context["progress"].computed_at is not None
        assert any(row.achieved for row in response.context["progress"].rows)
        assert gettext(QUEUE_BANNER) in response.content.decode()
        assert "任务队列暂时没有响应" in response.content.decode()

        # Uploads: 503, "try later" in Chinese, and no job left waiting for a worker.
        response, timings["upload page, Redis stopped"] = timed(
            lambda: client.post("/imports/", {"kind": "roster", "file": roster(1)})
        )
        assert response.status_code == 503
        assert "请过几分钟再试" in response.content.decode()
        response, timings["upload API, Redis stopped"] = timed(
            lambda: client.post("/api/v1/imports/", {"kind": "roster", "file": roster(2)})
        )
        assert response.status_code == 503
        assert response.json() == {"detail": gettext(TRY_LATER)}
        assert "请过几分钟再试" in response.json()["detail"]
        assert set(ImportJob.objects.values_list("status", flat=True)) == {ImportStatus.REFUSED}

        response, timings["healthz, Redis stopped"] = timed(lambda: client.get("/healthz"))
        checks = response.json()["checks"]
        assert response.status_code == 503
        assert [checks[part]["ok"] for part in ("database", "redis", "workers")] == [True, False, False]

        # A change that asks for a roll-up: saved, the request is logged and dropped, the schedule counts it.
        records = Records()
        logging.getLogger("reporting.tasks").addHandler(records)
        try:
            with transaction.atomic():
                enrol(person(places[1]), "M03-LIVING")
                queue_rollup("360781", countdown=1)
        finally:
            logging.getLogger("reporting.tasks").removeHandler(records)
        logged = [record.getMessage() for record in records.records]
        assert logged == ["roll-up not queued for 360781: Redis unreachable"]

        # Up but frozen: the same answers, within the timeouts rather than never.
        private_redis.start()
        private_redis.freeze()
        reconnect_celery()
        response, timings["dashboard, Redis frozen"] = timed(lambda: client.get("/progress/360781/"))
        assert response.status_code == 200 and response.context["queue_down"] is True
        response, timings["upload page, Redis frozen"] = timed(
            lambda: client.post("/imports/", {"kind": "roster", "file": roster(3)})
        )
        assert response.status_code == 503
        assert set(ImportJob.objects.values_list("status", flat=True)) == {ImportStatus.REFUSED}

        # Redis back (empty, as after a restart without its dump): uploads work and are read by the worker.
        private_redis.thaw()
        reconnect_celery()
        response = client.get("/progress/360781/")
        assert response.context["queue_down"] is False
        assert gettext(QUEUE_BANNER) not in response.content.decode()
        response = client.post("/imports/", {"kind": "roster", "file": roster(4)})
        assert response.status_code == 302, response.content.decode()[:500]
        job = ImportJob.objects.exclude(status=ImportStatus.REFUSED).get()
        wait_for(lambda: ImportJob.objects.get(pk=job.pk).status == ImportStatus.REVIEW, 90, "upload read")

        # Saving it while Redis is down again: the same page with "try later", 503, the upload as it was.
        private_redis.stop()
        reconnect_celery()
        response, timings["save, Redis stopped"] = timed(lambda: client.post(f"/imports/{job.pk}/commit/"))
        assert response.status_code == 503
        assert "请过几分钟再试" in response.content.decode()
        assert ImportJob.objects.get(pk=job.pk).status == ImportStatus.REVIEW
        private_redis.start()
        reconnect_celery()

        # The scheduled roll-up, as beat sends it, counts the change made while Redis was down.
        rollup.apply_async(kwargs={"trigger": RollupTrigger.SCHEDULE})
        scheduled = RollupRun.objects.filter(trigger=RollupTrigger.SCHEDULE)
        wait_for(scheduled.exists, 60, "scheduled run")
    finally:
        stop_worker(worker)

    assert Person.objects.filter(pk=added.pk, phone="13800000001").exists()
    living = Progress.objects.get(area_code="360781", benefit_type_id="M03-LIVING", year=2018)
    assert living.achieved == 2
    print("seconds per request (machine load shared; for reading, not asserted):", timings)
