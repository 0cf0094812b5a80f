"""PostgreSQL restarted under load: the app served by gunicorn and a Celery worker, both left running,
recover by themselves.

The cluster is one of the test's own (tests/faults/postgres.py), stopped with `pg_ctl -m fast` (every
backend terminated, as in a restart or a failover) and started again while threads keep requesting a
registry page (session cookie) and an API endpoint (token). Requests during the outage must answer 503
with the "try later" message (a page in the site's language, JSON for the API), never a 500 or a broken
connection; every request begun after the restart must succeed, with the same gunicorn worker process.
"""

import http.client
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.utils.translation import gettext

from accounts.tasks import clear_expired_sessions
from tests import conftest
from tests.conftest import ROOT, start_worker, stop_worker

from .postgres import PostgresCluster
from .servers import free_port, wait_for

pytestmark = [pytest.mark.worker]

DATABASE = "faults"
QUEUE = f"pg-restart-{os.getpid()}"
DATABASE_DOWN = "The database is not answering, so this page cannot be shown or saved now. Try again shortly."
SETUP = """
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from rest_framework.authtoken.models import Token
from accounts.models import Role
from accounts.services import user_create
from areas.services import areas_load
areas_load()
user = user_create(username="ruijin", password="x", role=Role.COUNTY_CLERK, area_code="360781",
                   check_password=False)
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
print("KEYS", session.session_key, Token.objects.create(user=user).key)
"""


@dataclass
class Outcome:
    kind: str
    started: float
    ended: float
    status: int | None
    body: str
    headers: dict[str, str]
    error: str = ""


def request(port: int, kind: str, session: str, token: str) -> Outcome:
    started = time.monotonic()
    path, headers = {
        "page": ("/registry/people/", {"Cookie": f"sessionid={session}"}),
        "api": ("/api/v1/me/", {"Authorization": f"Token {token}"}),
    }[kind]
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read().decode()
        return Outcome(kind, started, time.monotonic(), response.status, body, dict(response.getheaders()))
    except OSError as exc:
        return Outcome(kind, started, time.monotonic(), None, "", {}, f"{type(exc).__name__}: {exc}")
    finally:
        connection.close()


def gunicorn_workers(master: int) -> set[int]:
    return {int(pid) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split()}


@pytest.fixture
def cluster():
    server = PostgresCluster()
    try:
        server.init()
        server.start()
        server.create_database(DATABASE)
        yield server
    finally:
        server.remove()


def test_the_app_and_a_worker_recover_from_a_postgres_restart(cluster, tmp_path, monkeypatch):
    env = {
        **os.environ,
        "DATABASE_URL": cluster.url(DATABASE),
        "DJANGO_SETTINGS_MODULE": "tests.faults.served_settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "faults-test-secret-key-not-for-production",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_LOG_LEVEL": "ERROR",
    }
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, cwd=ROOT, check=True, timeout=300)
    keys = subprocess.run(
        [*manage, "shell", "-c", SETUP], env=env, cwd=ROOT, check=True, timeout=300, capture_output=True,
        text=True,
    )  # fmt: skip
    session, token = next(line for line in keys.stdout.splitlines() if line.startswith("KEYS")).split()[1:]

    port = free_port()
    log = (tmp_path / "gunicorn.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "poverty_relief.wsgi:application", f"--bind=127.0.0.1:{port}",
         "--workers=1", "--threads=4", "--timeout=60", "--graceful-timeout=5"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    log.close()
    monkeypatch.setattr(conftest, "worker_env", lambda: {**env, "DJANGO_DEBUG": "1"})
    worker = None
    outcomes: list[Outcome] = []
    stop = threading.Event()

    def load(kind: str) -> None:
        deadline = time.monotonic() + 240  # bounded whatever happens to the test thread
        while not stop.is_set() and time.monotonic() < deadline:
            outcomes.append(request(port, kind, session, token))
            time.sleep(0.05)

    threads = [threading.Thread(target=load, args=(kind,), daemon=True) for kind in ("page", "api") * 2]
    try:
        wait_for(lambda: request(port, "api", session, token).status == 200, 60, "gunicorn answering")
        worker = start_worker("pg-restart", tmp_path / "worker.log", "--pool=solo", "-Q", QUEUE)
        assert clear_expired_sessions.apply_async(queue=QUEUE).get(timeout=60) == 0
        workers_before = gunicorn_workers(server.pid)
        for thread in threads:
            thread.start()
        wait_for(lambda: sum(o.status == 200 for o in outcomes) >= 20, 60, "requests before the restart")

        down_from = time.monotonic()
        cluster.stop("fast")
        down = time.monotonic()
        wait_for(lambda: sum(o.started >= down for o in outcomes) >= 8, 60, "requests during the outage")
        up_from = time.monotonic()
        cluster.start()
        up = time.monotonic()
        wait_for(lambda: sum(o.started >= up for o in outcomes) >= 20, 60, "requests after the restart")
        stop.set()
        for thread in threads:
            thread.join(timeout=30)

        # The worker, on the connection the restart broke, runs its next task.
        assert clear_expired_sessions.apply_async(queue=QUEUE).get(timeout=60) == 0
        assert server.poll() is None
        assert gunicorn_workers(server.pid) == workers_before  # no worker was restarted
    finally:
        stop.set()
        if worker is not None:
            stop_worker(worker)
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

    assert [o.error for o in outcomes if o.error] == []
    assert {o.status for o in outcomes} <= {200, 503}, sorted({o.status for o in outcomes})
    during = [o for o in outcomes if o.started >= down and o.ended <= up_from]
    assert during and all(o.status == 503 for o in during), [(o.kind, o.status) for o in during]
    for outcome in during:
        assert outcome.headers.get("Retry-After") == "30"
        if outcome.kind == "api":
            assert json.loads(outcome.body) == {"detail": gettext(DATABASE_DOWN)}
            assert "请稍后再试" in json.loads(outcome.body)["detail"]
        else:
            assert "数据库暂时没有响应" in outcome.body and "请稍后再试" in outcome.body
            assert '<html lang="zh-Hans">' in outcome.body
            assert gettext(DATABASE_DOWN) in outcome.body
            assert "Traceback" not in outcome.body
    after = [o for o in outcomes if o.started >= up]
    assert len(after) >= 20 and all(o.status == 200 for o in after), [o.status for o in after]
    before = [o for o in outcomes if o.ended <= down_from]
    assert before and all(o.status == 200 for o in before)
    print(f"requests: {len(before)} before, {len(during)} during the outage, {len(after)} after the restart")
    log_text = (tmp_path / "gunicorn.log").read_text()
    assert "Traceback" not in log_text or "OperationalError" in log_text, log_text[-3000:]
