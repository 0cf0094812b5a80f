"""Permission-matrix rows of the inspection ledger (joined in tests/programs/permission_rows.py).

{ruijin_self} is 瑞金's own self-check with {ruijin_item} (one evidence file, {ruijin_evidence});
{ruijin_spot} is 赣州's spot check of 瑞金 with {ruijin_spot_item} (no evidence); {ningdu_spot} is 赣州's
spot check of 宁都 with {ningdu_item} and {ningdu_evidence}."""

from datetime import date

from django.core.files.uploadedfile import SimpleUploadedFile

from programs.inspections import evidence_add, finding_add, inspection_create, rectification_add
from tests.permission_table import LOGIN, Case, everyone

NOT_PROGRAMS = {"sysadmin": 403, "unassigned": 403}
RUIJIN = {"ruijin_clerk", "ruijin_supervisor", "ganzhou_reviewer", "province_officer"}
NINGDU = {"ningdu_clerk", "ganzhou_reviewer", "province_officer"}
COUNTY_CLERKS = ("ruijin_clerk", "ningdu_clerk", "nanchang_clerk")
INSPECTORS = {"ruijin_supervisor", "ganzhou_reviewer", "province_officer"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def readers(owners, anonymous, ok=200):
    """`ok` inside the record's area, 404 outside it, 403 without the view permission."""
    return {**everyone(404, anonymous=anonymous), **NOT_PROGRAMS, **dict.fromkeys(owners, ok)}


def inspectors(managers, anonymous, ok=200, *, visible_to_county=False):
    """Writes to an inspection: `ok` for those who may manage it, 403 for roles without the permission
    (clerks are refused before the record is looked up) and for a county supervisor who sees the
    inspection but may not manage it, 404 for inspectors of other areas."""
    expect = {**everyone(404, anonymous=anonymous), **NOT_PROGRAMS, **dict.fromkeys(COUNTY_CLERKS, 403)}
    if visible_to_county:
        expect["ruijin_supervisor"] = 403
    expect.update(dict.fromkeys(managers, ok))
    return expect


def progress_writers(owners, anonymous, ok=200):
    """Progress and evidence: every registry role of the area (clerks included), 404 elsewhere."""
    return readers(owners, anonymous, ok)


LIST = {**everyone(200, anonymous=LOGIN), **NOT_PROGRAMS}
API_LIST = {**everyone(200, anonymous=401), **NOT_PROGRAMS}
INSPECTOR_PAGE = {**everyone(403, anonymous=LOGIN), **dict.fromkeys(INSPECTORS, 200)}

PAGES: dict[str, list[Case]] = {
    "inspections/": [
        Case("/inspections/", LIST),
        Case("/inspections/?kind=spot_check&year=2018&status=open", LIST),
        Case("/inspections/?kind=nonsense&year=99999999999&status=x&page=abc", LIST),
    ],
    "inspections/new/": [
        Case("/inspections/new/", INSPECTOR_PAGE),
        Case("/inspections/new/", INSPECTOR_PAGE, "post"),  # empty: the form comes back
    ],
    "inspections/<int:pk>/": [
        Case("/inspections/{ruijin_self}/", readers(RUIJIN, LOGIN)),
        Case("/inspections/{ruijin_spot}/", readers(RUIJIN, LOGIN)),
        Case("/inspections/{ningdu_spot}/", readers(NINGDU, LOGIN)),
        Case("/inspections/{ruijin_self}/", {**everyone(405, anonymous=LOGIN), **NOT_PROGRAMS}, "post"),
    ],
    "inspections/<int:pk>/findings/": [
        Case("/inspections/{ruijin_self}/findings/", inspectors(INSPECTORS, LOGIN), "post"),
        Case(
            "/inspections/{ruijin_spot}/findings/",
            inspectors({"ganzhou_reviewer", "province_officer"}, LOGIN, visible_to_county=True),
            "post",
        ),
        Case(
            "/inspections/{ningdu_spot}/findings/",
            inspectors({"ganzhou_reviewer", "province_officer"}, LOGIN),
            "post",
        ),
    ],
    "inspections/<int:pk>/items/": [
        Case("/inspections/{ruijin_self}/items/", inspectors(INSPECTORS, LOGIN), "post"),
        Case(
            "/inspections/{ruijin_spot}/items/",
            inspectors({"ganzhou_reviewer", "province_officer"}, LOGIN, visible_to_county=True),
            "post",
        ),
        Case(
            "/inspections/{ruijin_self}/items/",
            {**everyone(405, anonymous=LOGIN), **NOT_PROGRAMS, **dict.fromkeys(COUNTY_CLERKS, 403)},
        ),
    ],
    "rectifications/": [
        Case("/rectifications/", LIST),
        Case("/rectifications/?status=open&overdue=1&area=360781&year=2018&kind=self_check", LIST),
        Case("/rectifications/?status=x&area=999&year=abc&inspection=99999999999999", LIST),
    ],
    "rectifications/ledger.xlsx": [
        Case("/rectifications/ledger.xlsx", LIST),
        Case("/rectifications/ledger.xlsx?overdue=1&area=360730&status=open", LIST),
    ],
    "rectifications/<int:pk>/": [
        Case("/rectifications/{ruijin_item}/", readers(RUIJIN, LOGIN)),
        Case("/rectifications/{ruijin_spot_item}/", readers(RUIJIN, LOGIN)),
        Case("/rectifications/{ningdu_item}/", readers(NINGDU, LOGIN)),
    ],
    "rectifications/<int:pk>/progress/": [
        Case("/rectifications/{ruijin_item}/progress/", progress_writers(RUIJIN, LOGIN), "post"),
        Case("/rectifications/{ningdu_item}/progress/", progress_writers(NINGDU, LOGIN), "post"),
        Case("/rectifications/{ruijin_item}/progress/", {**everyone(405, anonymous=LOGIN), **NOT_PROGRAMS}),
    ],
    "rectifications/<int:pk>/evidence/": [
        Case("/rectifications/{ruijin_item}/evidence/", progress_writers(RUIJIN, LOGIN), "post"),
        Case("/rectifications/{ningdu_item}/evidence/", progress_writers(NINGDU, LOGIN), "post"),
    ],
    "rectifications/<int:pk>/evidence/<int:evidence_pk>/": [
        Case("/rectifications/{ruijin_item}/evidence/{ruijin_evidence}/", readers(RUIJIN, LOGIN)),
        Case("/rectifications/{ningdu_item}/evidence/{ningdu_evidence}/", readers(NINGDU, LOGIN)),
        # A file asked for under another item is not there, for anyone.
        Case("/rectifications/{ruijin_item}/evidence/{ningdu_evidence}/", readers(set(), LOGIN)),
    ],
    "rectifications/<int:pk>/close/": [
        # 瑞金's own self-check: its supervisor closes it, and the offices above.
        Case("/rectifications/{ruijin_item}/close/", inspectors(INSPECTORS, LOGIN), "post"),
        # 赣州's spot check: the county sees the item but does not close it.
        Case(
            "/rectifications/{ruijin_spot_item}/close/",
            inspectors({"ganzhou_reviewer", "province_officer"}, LOGIN, visible_to_county=True),
            "post",
        ),
        Case(
            "/rectifications/{ningdu_item}/close/",
            inspectors({"ganzhou_reviewer", "province_officer"}, LOGIN),
            "post",
        ),
    ],
}

SELF_CHECK = {
    "area": "360781",
    "kind": "self_check",
    "date": "2018-06-01",
    "team": "自查组",
    "subject": "自查",
}
SPOT_CHECK = {**SELF_CHECK, "kind": "spot_check", "findings": [{"description": "问题", "rectifications": []}]}
API_CREATE = {**everyone(403, anonymous=401), **dict.fromkeys(INSPECTORS, 201)}

API: dict[str, list[Case]] = {
    "api/v1/^inspections/$": [
        Case("/api/v1/inspections/", API_LIST),
        Case("/api/v1/inspections/?kind=self_check&year=2018&status=overdue", API_LIST),
        Case("/api/v1/inspections/", API_CREATE, "post", SELF_CHECK),
        # A county records only self-checks: its spot check is a field error.
        Case("/api/v1/inspections/", {**API_CREATE, "ruijin_supervisor": 400}, "post", SPOT_CHECK),
    ],
    "api/v1/^inspections/(?P<pk>\\d+)/$": [
        Case("/api/v1/inspections/{ruijin_self}/", readers(RUIJIN, 401)),
        Case("/api/v1/inspections/{ningdu_spot}/", readers(NINGDU, 401)),
        # No edits or deletes through the API: the permission check answers first for those without one.
        Case("/api/v1/inspections/{ruijin_self}/", everyone(403, anonymous=401), "delete"),
    ],
    "api/v1/^rectifications/$": [
        Case("/api/v1/rectifications/", API_LIST),
        Case("/api/v1/rectifications/?status=open&overdue=1&area=360781&year=2018&kind=spot_check", API_LIST),
    ],
    "api/v1/^rectifications/(?P<pk>\\d+)/$": [
        Case("/api/v1/rectifications/{ruijin_item}/", readers(RUIJIN, 401)),
        Case("/api/v1/rectifications/{ningdu_item}/", readers(NINGDU, 401)),
        Case(
            "/api/v1/rectifications/{ruijin_item}/",
            readers(RUIJIN, 401),
            "patch",
            {"version": 1, "status": "in_progress", "progress_note": "已完成一半"},
        ),
        # A stale version changes nothing: 409 for those who may write there.
        Case("/api/v1/rectifications/{ruijin_item}/", readers(RUIJIN, 401, ok=409), "patch", {"version": 9}),
    ],
    "api/v1/^rectifications/(?P<pk>\\d+)/close/$": [
        Case(
            "/api/v1/rectifications/{ruijin_item}/close/",
            inspectors(INSPECTORS, 401),
            "post",
            {"version": 1, "closing_note": "已整改到位"},
        ),
        # No evidence yet: 400 for the city and the province; the county may not close a spot check.
        Case(
            "/api/v1/rectifications/{ruijin_spot_item}/close/",
            inspectors({"ganzhou_reviewer", "province_officer"}, 401, ok=400, visible_to_county=True),
            "post",
            {"version": 1, "closing_note": "已整改到位"},
        ),
    ],
}


def objects(cast, made: dict) -> dict:
    """Objects the rows name, built once for the matrix; `made` holds those built before."""
    supervisor, city = cast["ruijin_supervisor"], cast["ganzhou_reviewer"]

    def inspection(actor, area, kind, subject):
        record = inspection_create(
            actor=actor,
            data={"area": area, "kind": kind, "date": date(2018, 6, 1), "team": "督查组", "subject": subject},
        )
        finding = finding_add(actor=actor, inspection=record, data={"description": f"{subject}发现的问题"})
        item = rectification_add(
            actor=actor,
            finding=finding,
            data={"area": area, "issue": "整改", "responsible_unit": "县残联", "deadline": date(2018, 7, 1)},
        )
        return record, item

    ruijin_self, ruijin_item = inspection(supervisor, "360781", "self_check", "瑞金自查")
    ruijin_spot, ruijin_spot_item = inspection(city, "360781", "spot_check", "瑞金抽查")
    ningdu_spot, ningdu_item = inspection(city, "360730", "spot_check", "宁都抽查")
    ruijin_evidence = evidence_add(
        actor=supervisor, item=ruijin_item, upload=SimpleUploadedFile("照片.png", PNG)
    )
    ningdu_evidence = evidence_add(
        actor=city, item=ningdu_item, upload=SimpleUploadedFile("照片.png", PNG + b"1")
    )
    return {
        "ruijin_self": ruijin_self.pk,
        "ruijin_item": ruijin_item.pk,
        "ruijin_evidence": ruijin_evidence.pk,
        "ruijin_spot": ruijin_spot.pk,
        "ruijin_spot_item": ruijin_spot_item.pk,
        "ningdu_spot": ningdu_spot.pk,
        "ningdu_item": ningdu_item.pk,
        "ningdu_evidence": ningdu_evidence.pk,
    }
