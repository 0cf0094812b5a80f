"""The roll-up as a Celery task: every 10 minutes from beat (settings.CELERY_BEAT_SCHEDULE), and soon
after a change through `queue_rollup`, which imports and enrolment decisions call."""

import logging

import redis
from celery import shared_task
from django.conf import settings
from django.db import transaction
from kombu.exceptions import OperationalError as BrokerUnreachable

from .models import RollupTrigger
from .services import rollup_run

logger = logging.getLogger(__name__)

# Changes within this many seconds of a queued run are folded into it; it starts after they are written.
DEBOUNCE_SECONDS = 30
# A change-triggered run that finds another in progress comes back this much later, at most this often.
RETRY_SECONDS = 30
MAX_RETRIES = 20

_redis: redis.Redis | None = None


def _client() -> redis.Redis:
    global _redis
    if _redis is None:
        _redis = redis.Redis.from_url(
            settings.REDIS_URL,
            socket_timeout=settings.REDIS_SOCKET_TIMEOUT,
            socket_connect_timeout=settings.REDIS_CONNECT_TIMEOUT,
        )
    return _redis


def debounce_key(county_code: str | None) -> str:
    return f"reporting:rollup-queued:{county_code or 'all'}"


@shared_task(
    bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True, max_retries=MAX_RETRIES
)
def rollup(self, county_code: str | None = None, trigger: str = RollupTrigger.SCHEDULE) -> None:
    """Recompute the roll-up (one county and the areas above it, or all). Idempotent: run again on the
    same data, it writes nothing. When another run holds the lock, a scheduled run gives way (the next
    one comes in 10 minutes); a run asked for after a change comes back later, since the run in progress
    may have read the data before that change."""
    skipped = rollup_run(county_code=county_code, trigger=trigger).skipped
    if skipped and trigger != RollupTrigger.SCHEDULE:
        raise self.retry(countdown=RETRY_SECONDS)


def queue_rollup(county_code: str | None = None, *, countdown: int = DEBOUNCE_SECONDS) -> None:
    """Ask for a roll-up of one county (or all) after the current transaction commits.

    Calls for the same county within `countdown` seconds of each other make one run, `countdown` seconds
    after the first: a Redis key set with NX and that expiry marks a run as queued. The change is already
    saved when this runs; if Redis or the broker cannot be reached, it is logged and the scheduled run
    picks the change up within 10 minutes.
    """
    transaction.on_commit(lambda: _queue(county_code, countdown))


def _queue(county_code: str | None, countdown: int) -> bool:
    try:
        if not _client().set(debounce_key(county_code), "1", nx=True, ex=max(1, countdown)):
            return False
        rollup.apply_async(
            kwargs={"county_code": county_code, "trigger": RollupTrigger.CHANGE}, countdown=countdown
        )
    except (redis.RedisError, BrokerUnreachable):
        logger.warning("roll-up not queued for %s: Redis unreachable", county_code or "all", exc_info=True)
        return False
    return True
