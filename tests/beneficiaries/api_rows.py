"""Permission-matrix rows for the registry's API. URLs may name the records of
`permission_rows.registry_objects`:
{ruijin_person}, {ningdu_person}, {ruijin_household}, {ningdu_household}."""

from tests.permission_table import Case

REGISTRY_API: dict[str, list[Case]] = {}
