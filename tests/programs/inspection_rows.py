"""Permission-matrix rows of this part of the measures (joined in tests/programs/permission_rows.py)."""

from tests.permission_table import Case

PAGES: dict[str, list[Case]] = {}
API: dict[str, list[Case]] = {}


def objects(cast, made: dict) -> dict:
    """Objects the rows name, built once for the matrix; `made` holds those built before."""
    return {}
