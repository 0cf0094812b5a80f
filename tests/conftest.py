import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
# A whole ID number anywhere in the application's output over the run fails it (tests/pii_scan.py).
pytest_plugins = ["tests.pii_scan"]


# This run's own queue: a worker left over from another run on the same Redis never takes its tasks.
TEST_QUEUE = f"test-{os.getpid()}"


def pytest_configure(config):
    from poverty_relief.celery import app

    # Fast hashing: the suite logs in hundreds of times. Production keeps Django's default.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    app.conf.task_default_queue = TEST_QUEUE


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database holds the whole Jiangxi tree, loaded once, as production does."""
    from areas.services import areas_load
    from programs.services import plan_load

    with django_db_blocker.unblock():
        areas_load()
        plan_load()


@pytest.fixture
def area_tree(transactional_db):
    """For transactional tests: the flush after each of them empties every table, the tree included.

    pytest-django runs transactional tests after all the others, so loading it back here is enough.
    """
    from areas.models import Area
    from areas.services import areas_load
    from programs.services import plan_load

    if not Area.objects.exists():
        areas_load()
        plan_load()


def worker_env() -> dict[str, str]:
    """The environment of a worker process: the test database, the suite's Redis."""
    from django.db import connection

    db = connection.settings_dict
    host = db.get("HOST") or ""
    if host.startswith("/"):
        host = host.replace("/", "%2F")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://{auth}@{host}{port}/{db['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "DJANGO_DEBUG": "1",
    }


def start_worker(name: str, log_path: Path, *options: str) -> subprocess.Popen:
    """A Celery worker in its own process group; returns once it answers a ping."""
    from poverty_relief.celery import app

    node = f"{name}-{os.getpid()}@{socket.gethostname()}"
    from tests.pii_scan import watch_worker_log

    watch_worker_log(log_path)
    log = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "poverty_relief", "worker", "--loglevel=WARNING",
         "--without-gossip", "--without-mingle", "-n", node, *options],
        cwd=ROOT, env=worker_env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    log.close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Celery worker exited: {log_path.read_text()[-2000:]}")
        if app.control.ping(destination=[node], timeout=0.5):
            return process
    stop_worker(process)
    raise RuntimeError("Celery worker did not answer within 30 s")


def stop_worker(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup, tmp_path_factory):
    """A real Celery worker in its own process, on the test database and the suite's Redis."""
    log_path = tmp_path_factory.mktemp("celery") / "worker.log"
    process = start_worker("test-worker", log_path, "--pool=solo", "-Q", TEST_QUEUE)
    yield process
    stop_worker(process)
