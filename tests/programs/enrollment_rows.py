"""Permission-matrix rows of enrolments: {ruijin_enrollment} is an application for 瑞金市's person recorded by
its clerk, {ruijin_approved} one already approved (joined in tests/programs/permission_rows.py)."""

from beneficiaries.models import Person
from programs.enrollments import check_application, enrollment_apply, enrollment_review
from tests.permission_table import Case, everyone

PAGE_READERS = {**everyone(200, anonymous=302), "sysadmin": 403, "unassigned": 403}
API_READERS = {**everyone(200, anonymous=401), "sysadmin": 403, "unassigned": 403}
OTHER_COUNTIES = {"ningdu_clerk": 404, "nanchang_clerk": 404}


def in_ruijin(ok, *, anonymous, above=200, others=404):
    """`ok` for 瑞金市's clerk and supervisor, `above` for 赣州市 and the province, `others` elsewhere."""
    return {
        **everyone(403, anonymous=anonymous),
        "ruijin_clerk": ok,
        "ruijin_supervisor": ok,
        "ganzhou_reviewer": above,
        "province_officer": above,
        "ningdu_clerk": others,
        "nanchang_clerk": others,
    }


def objects(cast, made: dict) -> dict:
    clerk, supervisor = cast["ruijin_clerk"], cast["ruijin_supervisor"]
    person = Person.objects.filter(county_code="360781").order_by("pk").first()

    def apply(benefit_type):
        data = {"benefit_type": benefit_type, "year": 2018}
        application = check_application(actor=clerk, data=data, person=person)
        return enrollment_apply(actor=clerk, application=application)

    applied = apply("M09-RURAL-TRAINING")
    approved = apply("M10-ECOMMERCE")
    enrollment_review(actor=supervisor, enrollment=approved, approve=True, expected_version=1)
    return {"ruijin_enrollment": applied.pk, "ruijin_approved": approved.pk}


PAGES: dict[str, list[Case]] = {
    "enrollments/": [
        Case("/enrollments/", PAGE_READERS),
        Case("/enrollments/?status=applied&year=abc&person=x&township=1&q=钟", PAGE_READERS),
    ],
    "enrollments/approve/": [
        # Nothing ticked: back to the list with a message.
        Case("/enrollments/approve/", {**everyone(403, anonymous=302), "ruijin_supervisor": 302}, "post"),
    ],
    "enrollments/new/": [
        Case("/enrollments/new/?person={ruijin_person}", in_ruijin(200, anonymous=302, above=403)),
        Case(
            "/enrollments/new/?household={ningdu_household}",
            {**in_ruijin(404, anonymous=302, above=403), "ningdu_clerk": 200},
        ),
        Case("/enrollments/new/", in_ruijin(404, anonymous=302, above=403)),  # for nobody: 404
    ],  # fmt: skip
    "enrollments/new/check/": [
        Case(
            "/enrollments/new/check/?person={ruijin_person}", in_ruijin(200, anonymous=302, above=403), "post"
        ),
    ],
    "enrollments/<int:pk>/": [
        Case("/enrollments/{ruijin_enrollment}/", in_ruijin(200, anonymous=302)),
    ],
    "enrollments/<int:pk>/step/": [
        # No step named: refused to those who see it, absent for the others.
        Case("/enrollments/{ruijin_enrollment}/step/", in_ruijin(403, anonymous=302, above=403), "post"),
    ],
    "enrollments/person/<int:pk>/": [
        Case("/enrollments/person/{ruijin_person}/", in_ruijin(200, anonymous=302)),
        Case("/enrollments/person/{ningdu_person}/", {**in_ruijin(404, anonymous=302), "ningdu_clerk": 200}),
    ],  # fmt: skip
    "enrollments/settings/": [
        # A county's own settings: pages of county roles only.
        Case("/enrollments/settings/", {**in_ruijin(200, anonymous=302, above=403, others=200)}),
        Case("/enrollments/settings/", {**everyone(403, anonymous=302), "ruijin_supervisor": 200}, "post"),
    ],
}

API: dict[str, list[Case]] = {
    "api/v1/^enrollments/$": [
        Case("/api/v1/enrollments/?year=2018&status=applied", API_READERS),
        Case(
            "/api/v1/enrollments/",
            in_ruijin(201, anonymous=401, above=403),
            "post",
            {"benefit_type": "M10-ECOMMERCE", "year": 2019, "person": "{ruijin_person}"},
        ),
        Case("/api/v1/enrollments/", in_ruijin(400, anonymous=401, above=403, others=400), "post"),
    ],
    "api/v1/^enrollments/(?P<pk>\\d+)/$": [
        Case("/api/v1/enrollments/{ruijin_enrollment}/", in_ruijin(200, anonymous=401)),
    ],
    "api/v1/^enrollments/(?P<pk>\\d+)/approve/$": [
        Case("/api/v1/enrollments/{ruijin_enrollment}/approve/",
             {**everyone(403, anonymous=401), "ruijin_supervisor": 200}, "post", {"version": 1}),
    ],
    "api/v1/^enrollments/(?P<pk>\\d+)/reject/$": [
        Case("/api/v1/enrollments/{ruijin_enrollment}/reject/",
             {**everyone(403, anonymous=401), "ruijin_supervisor": 200}, "post",
             {"version": 1, "note": "材料不全"}),
    ],
    "api/v1/^enrollments/(?P<pk>\\d+)/activate/$": [
        Case("/api/v1/enrollments/{ruijin_approved}/activate/", in_ruijin(200, anonymous=401, above=403),
             "post", {"version": 2}),
        # An application is not put on the roll before it is approved.
        Case("/api/v1/enrollments/{ruijin_enrollment}/activate/", in_ruijin(400, anonymous=401, above=403),
             "post", {"version": 1}),
    ],
    "api/v1/^enrollments/(?P<pk>\\d+)/stop/$": [
        Case("/api/v1/enrollments/{ruijin_approved}/stop/", in_ruijin(200, anonymous=401, above=403),
             "post", {"version": 2, "end_date": "2018-06-30", "reason": "迁出"}),
    ],
    "api/v1/persons/<int:pk>/eligibility/": [
        Case("/api/v1/persons/{ruijin_person}/eligibility/?year=2018", in_ruijin(200, anonymous=401)),
        Case("/api/v1/persons/{ruijin_person}/eligibility/?year=1900",
             in_ruijin(400, anonymous=401, above=400)),
    ],
}  # fmt: skip
