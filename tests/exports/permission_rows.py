"""Permission-matrix rows for the export pages, and the jobs their URLs name: {ruijin_export} (瑞金市's
clerk, whole numbers), {ningdu_export} (宁都县's clerk), {province_export} (the province officer, numbers
masked), all written; {ruijin_expired} (瑞金市's clerk, its file deleted).

A job is its requester's alone: everyone else who may export gets 404, whatever their area."""

from exports.models import ExportJob, ExportKind, ExportStatus
from exports.services import export_create, export_run
from tests.permission_table import LOGIN, Case, everyone

REGISTRY_ROLES = (
    "ruijin_clerk", "ruijin_supervisor", "ningdu_clerk", "nanchang_clerk",
    "ganzhou_reviewer", "province_officer",
)  # fmt: skip


def export_objects(cast) -> dict[str, int]:
    def written(user: str, **data) -> int:
        job = export_create(actor=cast[user], kind=ExportKind.REGISTRY, data=data)
        export_run(job.pk)
        return job.pk

    expired = written("ruijin_clerk", category="4")
    ExportJob.objects.filter(pk=expired).update(status=ExportStatus.EXPIRED)
    return {
        "ruijin_export": written("ruijin_clerk"),
        "ningdu_export": written("ningdu_clerk"),
        "province_export": written("province_officer"),
        "ruijin_expired": expired,
    }


def own(owner: str, status: int = 200) -> dict:
    """`status` for the job's requester, 404 for every other role that exports, 403 for the others."""
    expect = {role: (status if role == owner else 404) for role in REGISTRY_ROLES}
    return {**expect, "sysadmin": 403, "unassigned": 403, None: LOGIN}


EXPORTERS = {**everyone(200, anonymous=LOGIN), "sysadmin": 403, "unassigned": 403}

EXPORT_PAGES: dict[str, list[Case]] = {
    "exports/": [
        Case("/exports/", EXPORTERS),
        # No kind of export named: the page says so (400); nothing is queued.
        Case("/exports/", {**EXPORTERS, **{role: 400 for role in REGISTRY_ROLES}}, "post"),
    ],
    "exports/<int:pk>/": [
        Case("/exports/{ruijin_export}/", own("ruijin_clerk")),
        Case("/exports/{ningdu_export}/", own("ningdu_clerk")),
        Case("/exports/{province_export}/", own("province_officer")),
        Case("/exports/{ruijin_expired}/", own("ruijin_clerk")),
        # Permission before method: every role that exports gets 405.
        Case("/exports/{ruijin_export}/", {**EXPORTERS, **{r: 405 for r in REGISTRY_ROLES}}, "post"),
    ],
    "exports/<int:pk>/progress/": [
        Case("/exports/{ruijin_export}/progress/", own("ruijin_clerk")),
        Case("/exports/{ningdu_export}/progress/", own("ningdu_clerk")),
    ],
    "exports/<int:pk>/download/": [
        Case("/exports/{ruijin_export}/download/", own("ruijin_clerk")),
        Case("/exports/{ningdu_export}/download/", own("ningdu_clerk")),
        Case("/exports/{province_export}/download/", own("province_officer")),
        # The file is deleted: nothing to download, for its requester too.
        Case("/exports/{ruijin_expired}/download/", own("ruijin_clerk", 404)),
    ],
}
