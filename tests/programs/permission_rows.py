"""Permission-matrix rows for the measures, benefit types and targets API. {province_target} is the
province's 2018 out-of-poverty target, {ganzhou_target} the part of it split to 赣州市."""

from programs.models import Target
from programs.services import target_split
from tests.permission_table import Case, everyone

from . import enrollment_rows, facility_rows, inspection_rows, subsidy_rows

PARTS = (enrollment_rows, facility_rows, subsidy_rows, inspection_rows)

READERS = {**everyone(200, anonymous=401), "sysadmin": 403, "unassigned": 403}
# County roles may read targets but not split them.
COUNTY_ROLES = {r: 403 for r in ("ruijin_clerk", "ruijin_supervisor", "ningdu_clerk", "nanchang_clerk")}


def program_objects(cast) -> dict[str, int]:
    province = Target.objects.get(year=2018, benefit_type=None, area_id="360000")
    target_split(actor=cast["province_officer"], target=province, allocations={"360700": 8000})
    made = {
        "province_target": province.pk,
        "ganzhou_target": Target.objects.get(area_id="360700", year=2018).pk,
    }
    for part in PARTS:
        made.update(part.objects(cast, made))
    return made


def only(roles: dict, anonymous=401):
    return {**everyone(404, anonymous=anonymous), "sysadmin": 403, "unassigned": 403, **roles}


PAGE_READERS = {**everyone(200, anonymous=302), "sysadmin": 403, "unassigned": 403}

PROGRAM_PAGES: dict[str, list[Case]] = {
    "targets/": [Case("/targets/", PAGE_READERS), Case("/targets/?year=abc", PAGE_READERS)],
    "targets/<int:pk>/split/": [
        Case(
            "/targets/{province_target}/split/",
            {**only({"province_officer": 200}, anonymous=302), **COUNTY_ROLES},
        ),
        Case(
            "/targets/{ganzhou_target}/split/",
            {**only({"ganzhou_reviewer": 200}, anonymous=302), **COUNTY_ROLES, "province_officer": 404},
        ),
        # Saved: back to the page (302).
        Case(
            "/targets/{ganzhou_target}/split/",
            {**only({"ganzhou_reviewer": 302}, anonymous=302), **COUNTY_ROLES, "province_officer": 404},
            "post",
            {"q_360730": "1"},
        ),
    ],
    "targets/<int:pk>/split/remainder/": [
        Case(
            "/targets/{province_target}/split/remainder/",
            {**only({"province_officer": 200}, anonymous=302), **COUNTY_ROLES},
            "post",
            {"q_360700": "10"},
        ),
    ],
}

PROGRAM_API: dict[str, list[Case]] = {
    "api/v1/^measures/$": [Case("/api/v1/measures/", READERS)],
    "api/v1/^measures/(?P<pk>[^/.]+)/$": [Case("/api/v1/measures/M03/", READERS)],
    "api/v1/^benefit-types/$": [Case("/api/v1/benefit-types/", READERS)],
    "api/v1/^benefit-types/(?P<pk>[^/.]+)/$": [Case("/api/v1/benefit-types/M03-LIVING/", READERS)],
    "api/v1/^targets/$": [Case("/api/v1/targets/?year=2018", READERS)],
    "api/v1/^targets/(?P<pk>[^/.]+)/$": [
        Case("/api/v1/targets/{province_target}/", only({"province_officer": 200})),
        Case("/api/v1/targets/{ganzhou_target}/", only({"province_officer": 200, "ganzhou_reviewer": 200})),
    ],
    "api/v1/^targets/(?P<pk>[^/.]+)/split/$": [
        # Splitting needs the change permission (province and city offices); the split itself only
        # by the office of the target's own area (400 otherwise, with the reason).
        Case(
            "/api/v1/targets/{ganzhou_target}/split/",
            {**everyone(403, anonymous=401), "province_officer": 400, "ganzhou_reviewer": 200},
            "post",
            {"children": {"360730": 500}},
        ),
        Case(
            "/api/v1/targets/{province_target}/split/",
            {**everyone(403, anonymous=401), "province_officer": 200, "ganzhou_reviewer": 404},
            "post",
            {"children": {"360700": 9000}},
        ),
    ],
}

for _part in PARTS:
    PROGRAM_PAGES.update(_part.PAGES)
    PROGRAM_API.update(_part.API)
