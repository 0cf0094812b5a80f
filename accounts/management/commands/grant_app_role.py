"""The database role the application connects as: rows in and out, nothing more.

The history guards (poverty_relief/history.py) hold against every session except one that may switch
triggers off: a superuser, or the owner of the tables (`ALTER TABLE ... DISABLE TRIGGER`). `migrate` runs
as the owner; web, worker and beat connect as a role made and kept here, which

- is a login role with no superuser, CREATEROLE, CREATEDB, replication or row-security bypass;
- is neither the role running this command nor a member of any role owning a table of the schema;
- has SELECT, INSERT, UPDATE and DELETE on every table of the schema and USAGE, SELECT on every sequence
  (no TRUNCATE, REFERENCES or TRIGGER, no UPDATE on a sequence, so no `setval`), USAGE but not CREATE on
  the schema, CONNECT and TEMPORARY on the database (the roster commit and the roll-up work in
  temporary tables);
- gets the same on tables and sequences that a later `migrate` creates (ALTER DEFAULT PRIVILEGES for the
  role running this command), and the command is run again after each `migrate` anyway.

Run it after `migrate`, as the same role. It can be run any number of times.
"""

import os
import re
from urllib.parse import unquote, urlsplit

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from psycopg2.extensions import encrypt_password

ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
TABLE_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
SEQUENCE_PRIVILEGES = "USAGE, SELECT"


def role_from_url(url: str) -> tuple[str, str | None]:
    """(role, password) of a postgres:// URL, as the application will connect with it."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql") or not parts.username:
        raise CommandError("The URL given for the application role is not a postgres:// URL with a user.")
    password = unquote(parts.password) if parts.password is not None else None
    return unquote(parts.username), password


class Command(BaseCommand):
    help = (
        "Create or update the application's database role and grant it SELECT, INSERT, UPDATE and DELETE "
        "on every table (now and made by later migrations); run after migrate, as the tables' owner."
    )

    def add_arguments(self, parser):
        parser.add_argument("role", nargs="?", help="Name of the application role.")
        parser.add_argument(
            "--url-env",
            metavar="VARIABLE",
            help="Take the role and its password from the postgres:// URL in this environment variable "
            "(the DATABASE_URL web, worker and beat connect with).",
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, role, url_env, database, **options):
        password = None
        if url_env:
            url = os.environ.get(url_env, "")
            if not url:
                raise CommandError(f"{url_env} is not set.")
            role, password = role_from_url(url)
        if not role:
            raise CommandError("Name the application role, or give --url-env.")
        if not ROLE_NAME.fullmatch(role):
            raise CommandError(f"{role!r} is not a plain role name (lower-case letters, digits, _).")

        connection = connections[database]
        with transaction.atomic(using=database), connection.cursor() as cursor:
            created = self._ensure_role(cursor, connection, role, password)
            schema = self._grant(cursor, connection, role)
        action = "Created" if created else "Updated"
        self.stdout.write(f"{action} role {role}: {TABLE_PRIVILEGES} on the tables of schema {schema}.")

    def _ensure_role(self, cursor, connection, role: str, password: str | None) -> bool:
        cursor.execute("SELECT current_user")
        (runner,) = cursor.fetchone()
        if role == runner:
            raise CommandError(
                f"{role} runs this command and owns the tables: the application must connect as another role."
            )
        cursor.execute(
            "SELECT rolsuper OR rolcreaterole OR rolbypassrls, rolcanlogin AND NOT rolcreatedb "
            "AND NOT rolreplication FROM pg_roles WHERE rolname = %s",
            [role],
        )
        found = cursor.fetchone()
        if found:
            dangerous, restricted = found
            if dangerous:
                raise CommandError(
                    f"{role} is a superuser or may create roles or bypass row security: "
                    "the application role must be none of these."
                )
            # A member of the owner (the owner itself included) may ALTER TABLE ... DISABLE TRIGGER.
            cursor.execute(
                "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = current_schema() "
                "AND pg_has_role(%s, tableowner, 'MEMBER') ORDER BY 1",
                [role],
            )
            owners = [owner for (owner,) in cursor.fetchall()]
            if owners:
                raise CommandError(
                    f"{role} is or belongs to {', '.join(owners)}, which owns tables: it could switch the "
                    "history guards off."
                )
            if restricted and password is None:
                # Nothing to change: a runner without CREATEROLE (a database owner that is not a superuser,
                # outside Compose) can still grant to a role made for it beforehand.
                return False
        quoted = connection.ops.quote_name(role)
        attributes = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
        params = []
        if password is not None:
            # Hashed here (SCRAM, or whatever password_encryption says): the server's statement log never
            # sees the password itself.
            attributes += " PASSWORD %s"
            params = [encrypt_password(password, role, connection.connection)]
        try:
            with transaction.atomic(using=connection.alias):
                cursor.execute(f"{'ALTER' if found else 'CREATE'} ROLE {quoted} {attributes}", params)
        except DatabaseError as error:
            raise CommandError(
                f"{runner} may not create or change the role {role} ({str(error).strip()}): have a superuser "
                f"run CREATE ROLE {role} LOGIN PASSWORD '...', then run this command again without --url-env."
            ) from error
        return not found

    def _grant(self, cursor, connection, role: str) -> str:
        cursor.execute("SELECT current_schema(), current_database()")
        schema, database = cursor.fetchone()
        quote = connection.ops.quote_name
        role, in_schema, database = quote(role), quote(schema), quote(database)
        tables, sequences = f"ALL TABLES IN SCHEMA {in_schema}", f"ALL SEQUENCES IN SCHEMA {in_schema}"
        defaults = f"ALTER DEFAULT PRIVILEGES IN SCHEMA {in_schema}"
        for statement in (
            f"GRANT CONNECT, TEMPORARY ON DATABASE {database} TO {role}",
            # CREATE on the schema was PUBLIC's before PostgreSQL 15; a database upgraded from one keeps it.
            f"REVOKE CREATE ON SCHEMA {in_schema} FROM PUBLIC",
            f"GRANT USAGE ON SCHEMA {in_schema} TO {role}",
            # Revoked first, so that whatever else the role was once given (TRUNCATE, say) goes.
            f"REVOKE ALL ON {tables} FROM {role}",
            f"GRANT {TABLE_PRIVILEGES} ON {tables} TO {role}",
            f"REVOKE ALL ON {sequences} FROM {role}",
            f"GRANT {SEQUENCE_PRIVILEGES} ON {sequences} TO {role}",
            f"{defaults} REVOKE ALL ON TABLES FROM {role}",
            f"{defaults} GRANT {TABLE_PRIVILEGES} ON TABLES TO {role}",
            f"{defaults} REVOKE ALL ON SEQUENCES FROM {role}",
            f"{defaults} GRANT {SEQUENCE_PRIVILEGES} ON SEQUENCES TO {role}",
        ):
            cursor.execute(statement)
        return schema
