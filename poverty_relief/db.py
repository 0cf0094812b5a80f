"""Bulk writes through PostgreSQL's COPY: an order of magnitude faster than INSERTs built by the ORM.

Row triggers (the audit trail) fire for copied rows as for any insert; the pghistory context set by the
transaction's previous statement through Django's cursor applies to them too.
"""

import io
from collections.abc import Iterable, Sequence
from datetime import date

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(value) -> str:
    """A value in COPY's text format: NULL as \\N, booleans as t/f, dates ISO, specials escaped."""
    if value is None:
        return r"\N"
    if value is True or value is False:
        return "t" if value else "f"
    if isinstance(value, date):  # datetimes too
        return value.isoformat()
    return str(value).translate(_ESCAPES)


def copy_rows(cursor, table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> int:
    buffer = io.StringIO()
    count = 0
    for row in rows:
        buffer.write("\t".join(copy_text(value) for value in row))
        buffer.write("\n")
        count += 1
    buffer.seek(0)
    cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer)
    return count


def next_ids(cursor, table: str, count: int) -> list[int]:
    """Ids from the table's own sequence, for rows written by COPY that others must point at."""
    if not count:
        return []
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
    )
    return [row[0] for row in cursor.fetchall()]
