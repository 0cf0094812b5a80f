"""The audit trail cannot be rewritten through the application's database connection.

pghistory's `append_only` triggers refuse UPDATE and DELETE on the event tables, but, like every pgtrigger
trigger, they step aside for a session that names them in `pgtrigger.ignore` (a `set_config` any role may
call), and nothing guards TRUNCATE or the context rows that say who acted. The guards installed here have
no such switch:

- event tables: UPDATE and DELETE refused for everyone, TRUNCATE refused for every role but a superuser
  (a superuser can disable any trigger anyway; the test suite's flush truncates as one);
- `pghistory_context`: DELETE refused, TRUNCATE as above, and UPDATE refused when it would change the
  acting user once recorded (pghistory itself updates a context row as nested contexts add keys).

The application must therefore connect as a role that is neither a superuser nor the owner of the tables
(an owner may `ALTER TABLE ... DISABLE TRIGGER`). `protect_history` runs after every `migrate`, so a newly
tracked model is guarded without anyone having to remember it.
"""

from django.apps import apps
from django.db import connections

GUARD_FUNCTION = """
CREATE OR REPLACE FUNCTION pr_history_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
            RETURN NULL;
        END IF;
    ELSIF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'pghistory_context' THEN
        IF COALESCE(OLD.metadata -> 'user', 'null'::jsonb) = 'null'::jsonb
           OR NEW.metadata -> 'user' = OLD.metadata -> 'user' THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION 'history is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def history_tables() -> list[str]:
    from pghistory.models import Context, Event

    tables = [
        model._meta.db_table
        for model in apps.get_models()
        if issubclass(model, Event) and model._meta.managed and not model._meta.proxy
    ]
    return sorted(tables) + [Context._meta.db_table]


def protect_history(using: str = "default") -> list[str]:
    """Install (again) the guards on every history table; returns the tables guarded."""
    tables = history_tables()
    with connections[using].cursor() as cursor:
        cursor.execute(GUARD_FUNCTION)
        for table in tables:
            for name, event, level in (
                ("pr_history_guard_rows", "UPDATE OR DELETE", "ROW"),
                ("pr_history_guard_truncate", "TRUNCATE", "STATEMENT"),
            ):
                cursor.execute(f'DROP TRIGGER IF EXISTS {name} ON "{table}"')
                cursor.execute(
                    f'CREATE TRIGGER {name} BEFORE {event} ON "{table}" '
                    f"FOR EACH {level} EXECUTE FUNCTION pr_history_guard()"
                )
    return tables


def protect_history_after_migrate(sender, using="default", **kwargs) -> None:
    protect_history(using)
