"""Permission-matrix rows of facilities and standard amounts (joined in tests/programs/permission_rows.py).
{ruijin_facility} and {ningdu_facility} are a facility of 瑞金市 and one of 宁都县."""

from programs.facilities import facility_create
from tests.beneficiaries.factories import location
from tests.permission_table import LOGIN, Case, everyone, scoped

COUNTY_WRITERS = {"ruijin_clerk", "ruijin_supervisor", "ningdu_clerk", "nanchang_clerk"}
RUIJIN_WRITERS = {"ruijin_clerk", "ruijin_supervisor"}
RUIJIN_READERS = {"ruijin_clerk", "ruijin_supervisor", "ganzhou_reviewer", "province_officer"}
NINGDU_READERS = {"ningdu_clerk", "ganzhou_reviewer", "province_officer"}
NOT_PROGRAMS = {"sysadmin": 403, "unassigned": 403}


def readers(owners, anonymous):
    """200 in the facility's area, 404 outside it, 403 without the view permission."""
    return {**scoped(owners, anonymous), **NOT_PROGRAMS}


def writers(owners, ok, anonymous):
    """`ok` for the county's own writers, 404 for other counties' writers, 403 for read-only roles."""
    expect = everyone(403, anonymous=anonymous)
    expect.update({role: ok if role in owners else 404 for role in COUNTY_WRITERS})
    return expect


PAGE_LIST = {**everyone(200, anonymous=LOGIN), **NOT_PROGRAMS}
COUNTY_ONLY = {**everyone(403, anonymous=LOGIN), **dict.fromkeys(COUNTY_WRITERS, 200)}

PAGES: dict[str, list[Case]] = {
    "facilities/": [
        Case("/facilities/", PAGE_LIST),
        Case("/facilities/?kind=care&active=yes&township=360781100&q=阳光", PAGE_LIST),
        Case("/facilities/?kind=nonsense", PAGE_LIST),
    ],
    "facilities/new/": [
        Case("/facilities/new/", COUNTY_ONLY),
        # An empty form comes back with its errors; nothing is stored.
        Case("/facilities/new/", COUNTY_ONLY, "post"),
    ],
    "facilities/<int:pk>/": [
        Case("/facilities/{ruijin_facility}/", readers(RUIJIN_READERS, LOGIN)),
        Case("/facilities/{ningdu_facility}/", readers(NINGDU_READERS, LOGIN)),
        Case("/facilities/{ruijin_facility}/", {**everyone(405, anonymous=LOGIN), **NOT_PROGRAMS}, "post"),
    ],
    "facilities/<int:pk>/edit/": [
        Case("/facilities/{ruijin_facility}/edit/", writers(RUIJIN_WRITERS, 200, LOGIN)),
        Case("/facilities/{ningdu_facility}/edit/", writers({"ningdu_clerk"}, 200, LOGIN)),
        Case("/facilities/{ruijin_facility}/edit/", writers(RUIJIN_WRITERS, 200, LOGIN), "post"),
    ],
    # Everyone with a registry role reads the amounts; only the provincial office saves them (an empty
    # save changes nothing and goes back to the page).
    "standards/": [
        Case("/standards/", PAGE_LIST),
        Case("/standards/?year=2018", PAGE_LIST),
        Case("/standards/?year=abc", PAGE_LIST),
        Case(
            "/standards/",
            {**everyone(403, anonymous=LOGIN), "province_officer": 302},
            "post",
        ),
    ],
}

API_LIST = {**everyone(200, anonymous=401), **NOT_PROGRAMS}
NOBODY_DELETES = everyone(403, anonymous=401)

API: dict[str, list[Case]] = {
    "api/v1/^facilities/$": [
        Case("/api/v1/facilities/", API_LIST),
        Case("/api/v1/facilities/?kind=base&active=no", API_LIST),
        Case("/api/v1/facilities/", writers(COUNTY_WRITERS, 400, 401), "post"),  # empty body
    ],
    "api/v1/^facilities/(?P<pk>\\d+)/$": [
        Case("/api/v1/facilities/{ruijin_facility}/", readers(RUIJIN_READERS, 401)),
        Case("/api/v1/facilities/{ningdu_facility}/", readers(NINGDU_READERS, 401)),
        Case("/api/v1/facilities/{ruijin_facility}/", writers(RUIJIN_WRITERS, 400, 401), "patch"),
        Case(
            "/api/v1/facilities/{ruijin_facility}/",
            writers(RUIJIN_WRITERS, 200, 401),
            "patch",
            {"capacity": 40, "version": 1},
        ),
        Case(
            "/api/v1/facilities/{ruijin_facility}/",
            writers(RUIJIN_WRITERS, 409, 401),
            "patch",
            {"capacity": 40, "version": 9},
        ),
        # Edits are PATCH only; nothing is deleted (the permission check answers before the method).
        Case("/api/v1/facilities/{ruijin_facility}/", writers(COUNTY_WRITERS, 405, 401), "put"),
        Case("/api/v1/facilities/{ruijin_facility}/", NOBODY_DELETES, "delete"),
    ],
}


def objects(cast, made: dict) -> dict:
    """Objects the rows name, built once for the matrix; `made` holds those built before."""

    def facility(clerk, county, name):
        data = {**location(county), "name": name, "kind": "sheltered", "capacity": 30, "is_active": True}
        return facility_create(actor=cast[clerk], data=data).pk

    return {
        "ruijin_facility": facility("ruijin_clerk", "360781", "瑞金市阳光辅助性就业中心"),
        "ningdu_facility": facility("ningdu_clerk", "360730", "宁都县残疾人托养中心"),
    }
