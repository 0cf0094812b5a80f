"""Permission-matrix rows for the registry's pages. URLs may name the records of
`permission_rows.registry_objects`:
{ruijin_person}, {ningdu_person}, {ruijin_household}, {ningdu_household}."""

from tests.permission_table import LOGIN, RUIJIN_READERS, Case, everyone, scoped

NINGDU_READERS_ = {"ningdu_clerk", "ganzhou_reviewer", "province_officer"}
RUIJIN_READERS_ = RUIJIN_READERS - {"sysadmin"}  # the administrator manages accounts, not the registry
RUIJIN_WRITERS = {"ruijin_clerk", "ruijin_supervisor"}
COUNTY_WRITERS = {"ruijin_clerk", "ruijin_supervisor", "ningdu_clerk", "nanchang_clerk"}


def readers(owners, anonymous=LOGIN):
    """200 for the readers of the record's county, 404 for other readers, 403 for those who may not read."""
    expect = scoped(owners, anonymous)
    expect["sysadmin"] = 403
    return expect


def writers(owners, ok=200):
    """`ok` for the county's own writers, 404 for other counties' writers, 403 for read-only roles."""
    expect = {role: 403 for role in ("ganzhou_reviewer", "province_officer", "sysadmin", "unassigned")}
    expect.update({role: (ok if role in owners else 404) for role in COUNTY_WRITERS})
    expect[None] = LOGIN
    return expect


COUNTY_PAGE = {**{r: 200 for r in COUNTY_WRITERS}, "ganzhou_reviewer": 403, "province_officer": 403}
LIST_PAGE = {**everyone(200, anonymous=LOGIN), "sysadmin": 403, "unassigned": 403}

REGISTRY_PAGES: dict[str, list[Case]] = {
    "registry/": [Case("/registry/", everyone(302))],
    "registry/people/": [
        Case("/registry/people/", LIST_PAGE),
        Case("/registry/people/?q=钟&category=4", LIST_PAGE),
    ],
    "registry/export.xlsx": [
        Case("/registry/export.xlsx", {**COUNTY_PAGE, "sysadmin": 403, "unassigned": 403, None: LOGIN}),
    ],
    "registry/people/new/": [
        Case("/registry/people/new/", {**COUNTY_PAGE, "sysadmin": 403, "unassigned": 403, None: LOGIN}),
        # An empty form comes back with its errors (200); nothing is stored.
        Case(
            "/registry/people/new/", {**COUNTY_PAGE, "sysadmin": 403, "unassigned": 403, None: LOGIN}, "post"
        ),
    ],
    "registry/people/<int:pk>/": [
        Case("/registry/people/{ruijin_person}/", readers(RUIJIN_READERS_)),
        Case("/registry/people/{ningdu_person}/", readers(NINGDU_READERS_)),
        # Login and permission come before the method.
        Case(
            "/registry/people/{ruijin_person}/",
            {**everyone(405, anonymous=LOGIN), "sysadmin": 403, "unassigned": 403},
            "post",
        ),
    ],
    "registry/people/<int:pk>/edit/": [
        Case("/registry/people/{ruijin_person}/edit/", writers(RUIJIN_WRITERS)),
        Case("/registry/people/{ningdu_person}/edit/", writers({"ningdu_clerk"})),
    ],
    "registry/people/<int:pk>/status/": [
        Case("/registry/people/{ruijin_person}/status/", writers(RUIJIN_WRITERS))
    ],
    "registry/people/<int:pk>/history/": [
        Case("/registry/people/{ruijin_person}/history/", readers(RUIJIN_READERS_)),
        Case("/registry/people/{ningdu_person}/history/", readers(NINGDU_READERS_)),
    ],
    "registry/people/<int:pk>/transfer/": [
        Case("/registry/people/{ruijin_person}/transfer/", writers(RUIJIN_WRITERS))
    ],
    "registry/check/": [
        Case("/registry/check/", {**writers(COUNTY_WRITERS), None: LOGIN}, "post"),
        Case("/registry/check/", {**writers(COUNTY_WRITERS, ok=405), None: LOGIN}),
    ],
    "registry/area-options/": [
        Case("/registry/area-options/?township_code=360781100", everyone(200, anonymous=LOGIN))
    ],
    "registry/households/": [Case("/registry/households/", LIST_PAGE)],
    "registry/households/new/": [
        Case("/registry/households/new/", {**COUNTY_PAGE, "sysadmin": 403, "unassigned": 403, None: LOGIN}),
    ],
    "registry/households/<int:pk>/": [
        Case("/registry/households/{ruijin_household}/", readers(RUIJIN_READERS_)),
        Case("/registry/households/{ningdu_household}/", readers(NINGDU_READERS_)),
    ],
    "registry/households/<int:pk>/edit/": [
        Case("/registry/households/{ruijin_household}/edit/", writers(RUIJIN_WRITERS)),
    ],
    "registry/households/<int:pk>/deactivate/": [
        Case("/registry/households/{ruijin_household}/deactivate/", writers(RUIJIN_WRITERS)),
        Case("/registry/households/{ningdu_household}/deactivate/", writers({"ningdu_clerk"})),
    ],
    "registry/households/<int:pk>/history/": [
        Case("/registry/households/{ningdu_household}/history/", readers(NINGDU_READERS_)),
    ],
    "registry/transfers/": [Case("/registry/transfers/", LIST_PAGE)],
    "registry/transfers/<int:pk>/answer/": [
        # No such transfer: 404 for those who may decide, 403 for the others.
        Case(
            "/registry/transfers/999999/answer/",
            {**everyone(403, anonymous=LOGIN), "ruijin_supervisor": 404},
            "post",
        ),
    ],
}
