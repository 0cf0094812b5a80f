import pytest

pytestmark = [pytest.mark.django_db, pytest.mark.worker]


def test_healthz_reports_every_part_with_a_live_worker(client, celery_worker_process):
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "redis", "workers"}
    assert all(check["ok"] for check in body["checks"].values())
    assert "worker" in body["checks"]["workers"]["detail"]
    assert response["Cache-Control"].startswith("max-age=0")


def test_healthz_is_503_when_redis_is_unreachable(client, settings, celery_worker_process):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "error"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["redis"]["ok"] is False
    assert body["checks"]["workers"]["ok"] is False
