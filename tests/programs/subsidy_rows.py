"""Permission-matrix rows of the monthly subsidy lists (joined in tests/programs/permission_rows.py)."""

from tests.permission_table import LOGIN, Case, everyone

NOT_PROGRAMS = {"sysadmin": 403, "unassigned": 403}


def county_list(owners, anonymous):
    """A county's list: 200 for its own staff and the offices above it, 404 for other counties."""
    expect = {**everyone(404, anonymous=anonymous), **NOT_PROGRAMS}
    expect.update(dict.fromkeys(owners | {"ganzhou_reviewer", "province_officer"}, 200))
    return expect


RUIJIN = county_list({"ruijin_clerk", "ruijin_supervisor"}, LOGIN)
NINGDU = county_list({"ningdu_clerk"}, LOGIN)
READERS = {**everyone(200, anonymous=LOGIN), **NOT_PROGRAMS}
# The province's own code is not a county: nobody has a list for it.
NO_COUNTY = {**everyone(404, anonymous=LOGIN), **NOT_PROGRAMS}

PAGES: dict[str, list[Case]] = {
    "subsidies/": [
        Case("/subsidies/", READERS),  # a county's own; above a county, the county picker
        Case("/subsidies/?month=2018-3x", READERS),  # the page says what is wrong with the month
        Case("/subsidies/?county=360781&month=2018-03", RUIJIN),
        Case("/subsidies/?county=360730&month=2018-03&ids=full", NINGDU),
        Case("/subsidies/?county=360000&month=2018-03", NO_COUNTY),
    ],
    "subsidies/<str:county>/<int:year>-<int:month>.xlsx": [
        Case("/subsidies/360781/2018-03.xlsx", RUIJIN),
        Case("/subsidies/360730/2018-12.xlsx", NINGDU),
        Case("/subsidies/360781/2018-13.xlsx", NO_COUNTY),
        Case("/subsidies/360000/2018-03.xlsx", NO_COUNTY),
    ],
}

API: dict[str, list[Case]] = {
    "api/v1/subsidy-lists/": [
        Case(
            "/api/v1/subsidy-lists/?county=360781&month=2018-03",
            county_list({"ruijin_clerk", "ruijin_supervisor"}, 401),
        ),
        Case("/api/v1/subsidy-lists/?county=360730&month=2018-03", county_list({"ningdu_clerk"}, 401)),
        # A bad month is a 400 that says so, before any county is looked at.
        Case(
            "/api/v1/subsidy-lists/?county=360781&month=March",
            {**everyone(400, anonymous=401), **NOT_PROGRAMS},
        ),
        Case(
            "/api/v1/subsidy-lists/?county=360781&month=2018-03",
            everyone(405, anonymous=401, **NOT_PROGRAMS),
            "post",
        ),
    ],
}


def objects(cast, made: dict) -> dict:
    """Objects the rows name, built once for the matrix; `made` holds those built before."""
    return {}
