"""Permission-matrix rows for the registry's API. URLs may name the records of
`permission_rows.registry_objects`:
{ruijin_person}, {ningdu_person}, {ruijin_household}, {ningdu_household}."""

from tests.permission_table import NINGDU_READERS, RUIJIN_READERS, Case, everyone, scoped

# County clerks and supervisors write; the city and the province read; the system administrator holds no
# registry permission at all. DELETE needs delete_*, which nobody holds: 403 before the method check.
WRITERS = {"ruijin_clerk", "ruijin_supervisor", "ningdu_clerk", "nanchang_clerk"}
RUIJIN_WRITERS = {"ruijin_clerk", "ruijin_supervisor"}
NINGDU_WRITERS = {"ningdu_clerk"}
NOT_REGISTRY = {"sysadmin": 403, "unassigned": 403}
LIST = everyone(200, anonymous=401, **NOT_REGISTRY)
NOBODY_DELETES = everyone(403, anonymous=401)


def read(readers):
    """200 in the record's area, 404 outside it, 403 without registry permissions."""
    return {**scoped(readers - {"sysadmin"}, 401), **NOT_REGISTRY}


def write(owners, ok=400):
    """`ok` for the writers of the record's area, 404 for other counties' writers, 403 for the rest."""
    return {**NOBODY_DELETES, **{role: ok if role in owners else 404 for role in WRITERS}}


CREATE = write(WRITERS)
DECEASED = {"life_status": "deceased", "effective_date": "2024-01-02", "reason": "病故", "version": 1}
NO_METHOD = everyone(405, anonymous=401, **NOT_REGISTRY)


def detail_cases(kind: str, change: dict) -> list[Case]:
    """The detail route of `kind` (person, household): read in and out of the area, edit, delete."""
    ruijin, ningdu = f"/api/v1/{kind}s/{{ruijin_{kind}}}/", f"/api/v1/{kind}s/{{ningdu_{kind}}}/"
    return [
        Case(ruijin, read(RUIJIN_READERS)),
        Case(ningdu, read(NINGDU_READERS)),
        Case(ruijin, write(RUIJIN_WRITERS), method="put"),  # no version: 400
        Case(ruijin, write(RUIJIN_WRITERS), method="patch"),
        Case(ruijin, write(RUIJIN_WRITERS, ok=200), method="patch", data={**change, "version": 1}),
        Case(ningdu, write(NINGDU_WRITERS, ok=200), method="patch", data={**change, "version": 1}),
        Case(ruijin, NOBODY_DELETES, method="delete"),
    ]


REGISTRY_API: dict[str, list[Case]] = {
    "api/v1/^persons/$": [
        Case("/api/v1/persons/", LIST),
        Case("/api/v1/persons/", CREATE, method="post"),  # empty body: 400
        Case("/api/v1/persons/", NOBODY_DELETES, method="delete"),
    ],
    "api/v1/^persons/(?P<pk>\\d+)/$": detail_cases("person", {"phone": "13800000001"}),
    "api/v1/^persons/(?P<pk>\\d+)/status/$": [
        Case("/api/v1/persons/{ruijin_person}/status/", write(RUIJIN_WRITERS), method="post"),
        Case("/api/v1/persons/{ningdu_person}/status/", write(NINGDU_WRITERS), method="post"),
        Case(
            "/api/v1/persons/{ruijin_person}/status/",
            write(RUIJIN_WRITERS, ok=200),
            method="post",
            data=DECEASED,
        ),
        Case("/api/v1/persons/{ruijin_person}/status/", NO_METHOD),
    ],
    "api/v1/^households/$": [
        Case("/api/v1/households/", LIST),
        Case("/api/v1/households/", CREATE, method="post"),
    ],
    "api/v1/^households/(?P<pk>\\d+)/$": detail_cases("household", {"size": 5}),
    "api/v1/^households/(?P<pk>\\d+)/deactivate/$": [
        Case("/api/v1/households/{ruijin_household}/deactivate/", write(RUIJIN_WRITERS), method="post"),
        Case(
            "/api/v1/households/{ningdu_household}/deactivate/",
            write(NINGDU_WRITERS, ok=200),
            method="post",
            data={"reason": "合户", "version": 1},
        ),
        Case("/api/v1/households/{ruijin_household}/deactivate/", NO_METHOD),
    ],
}
