"""Permission-matrix rows of the progress dashboards: every role that reads targets sees the dashboards of
its own area and the areas below; another area is 404; only the provincial office recomputes."""

from tests.permission_table import GANZHOU_READERS, RUIJIN_READERS, Case, everyone, scoped


def pages_of(owners: set[str]) -> dict:
    return {**scoped(owners - {"sysadmin"}, 302), "sysadmin": 403}


READERS = {**everyone(200, anonymous=302), "sysadmin": 403, "unassigned": 403}

DASHBOARD_PAGES: dict[str, list[Case]] = {
    # Each reader is sent to the dashboard of their own area.
    "progress/": [Case("/progress/", {**everyone(302, anonymous=302), "sysadmin": 403, "unassigned": 403})],
    "progress/recompute/": [
        Case("/progress/recompute/", {**everyone(403, anonymous=302), "province_officer": 302}, "post"),
    ],
    "progress/<str:code>/": [
        Case("/progress/360781/?year=2018", pages_of(RUIJIN_READERS)),
        Case("/progress/360700/?year=2018&benefit_type=M03-LIVING", pages_of(GANZHOU_READERS)),
        Case("/progress/360000/?year=abc&benefit_type=x", pages_of({"province_officer"})),
        # A village has no dashboard of its own: its township's.
        Case("/progress/360781100001/",
             {**pages_of(RUIJIN_READERS), **{r: 302 for r in RUIJIN_READERS - {"sysadmin"}}}),
        Case("/progress/999999/", {**everyone(404, anonymous=302), "sysadmin": 403, "unassigned": 403}),
    ],
    "progress/<str:code>/ledger.xlsx": [
        Case("/progress/360781/ledger.xlsx?year=2018", pages_of(RUIJIN_READERS)),
        Case("/progress/360000/ledger.xlsx", pages_of({"province_officer"})),
    ],
    "progress/<str:code>/table.xlsx": [
        Case("/progress/360781/table.xlsx?year=2018", pages_of(RUIJIN_READERS)),
    ],
}  # fmt: skip
