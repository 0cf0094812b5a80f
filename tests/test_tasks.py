from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from accounts.tasks import clear_expired_sessions
from poverty_relief.celery import app


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_expired_sessions_are_cleared_by_a_real_worker(celery_worker_process, area_tree):
    live, stale = SessionStore(), SessionStore()
    live.create()
    stale.create()
    Session.objects.filter(session_key=stale.session_key).update(
        expire_date=timezone.now() - timedelta(minutes=1)
    )

    deleted = clear_expired_sessions.delay().get(timeout=30)

    assert deleted == 1
    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]


def test_every_scheduled_task_exists():
    app.loader.import_default_modules()
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry["task"] in app.tasks, name


def test_tasks_are_acknowledged_late_and_requeued_on_worker_loss():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
