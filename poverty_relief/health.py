"""/healthz: is each part of the stack answering? 200 when all are, 503 when one is not."""

import time

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .celery import app as celery_app

TIMEOUT_SECONDS = 2.0


def _timed(check):
    started = time.perf_counter()
    try:
        detail = check()
        ok = True
    except Exception as exc:  # noqa: BLE001 - any failure of a dependency is a state to report
        detail = f"{type(exc).__name__}: {exc}"[:200]
        ok = False
    return {"ok": ok, "ms": round((time.perf_counter() - started) * 1000, 1), "detail": detail}


def check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def check_redis() -> str:
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS
    )
    try:
        client.ping()
    finally:
        client.close()
    return "ok"


# Clients of `redis_answers`, by URL and timeout: a page asks on every view, over a pooled connection.
_answering: dict[tuple[str, float], redis.Redis] = {}


def redis_answers(timeout: float = 0.5) -> bool:
    """Whether Redis (the task queue) answers now, within `timeout`: pages that depend on it say so."""
    key = (settings.REDIS_URL, timeout)
    if key not in _answering:
        _answering[key] = redis.Redis.from_url(key[0], socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        return bool(_answering[key].ping())
    except redis.RedisError:
        return False


def check_workers() -> str:
    # The first answer is enough: waiting out the timeout for others would make every probe take a second.
    replies = celery_app.control.ping(timeout=1.0, limit=1)
    if not replies:
        raise RuntimeError("no Celery worker answered")
    return f"worker {next(iter(replies[0]))} answered"


@never_cache
@require_GET
def healthz(request):
    checks = {"database": _timed(check_database), "redis": _timed(check_redis)}
    # Without Redis the workers cannot be reached either: say so instead of waiting on the broker.
    if checks["redis"]["ok"]:
        checks["workers"] = _timed(check_workers)
    else:
        checks["workers"] = {"ok": False, "ms": 0.0, "detail": "broker unreachable"}
    healthy = all(c["ok"] for c in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", "checks": checks}, status=200 if healthy else 503
    )
