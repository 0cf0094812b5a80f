"""A scratch database for a benchmark: created from DATABASE_URL's server, migrated, dropped at the end.

Its name is `BENCH_DATABASE` when set, otherwise `bench_<pid>_<random>`: runs side by side on one server
never meet. With `keep`, a database named by `BENCH_DATABASE` is created only when missing and left in
place at the end, so that a benchmark can reuse the data it generated there before.
"""

import contextlib
import os
import re
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "poverty_relief.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")


@contextlib.contextmanager
def scratch_database(keep: bool = False):
    import django
    from django.conf import settings

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections

    name = os.environ.get("BENCH_DATABASE") or f"bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise SystemExit(f"BENCH_DATABASE={name!r}: use lower-case letters, digits and _")
    if keep and not os.environ.get("BENCH_DATABASE"):
        raise SystemExit("keeping the scratch database needs BENCH_DATABASE to name it")
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if not (keep and cursor.fetchone()):
            cursor.execute(f'CREATE DATABASE "{name}"')
    original = settings.DATABASES["default"]["NAME"]
    connections.close_all()
    settings.DATABASES["default"]["NAME"] = name
    connections["default"].settings_dict["NAME"] = name
    try:
        call_command("migrate", verbosity=0)
        yield
    finally:
        connections.close_all()
        settings.DATABASES["default"]["NAME"] = original
        connections["default"].settings_dict["NAME"] = original
        if not keep:
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
