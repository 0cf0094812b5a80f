"""Permission-matrix rows for the progress API. Reading progress needs `programs.view_target`, which every
registry role holds and the system administrator does not; another area is 404."""

from reporting.services import rollup_run
from tests.permission_table import GANZHOU_READERS, NINGDU_READERS, RUIJIN_READERS, Case, everyone, scoped


def readers(status: int) -> dict:
    """What every role that reads progress gets: `status`; the others 403, the anonymous caller 401."""
    return {**everyone(status, anonymous=401), "sysadmin": 403, "unassigned": 403}


def readers_of(owners: set[str]) -> dict:
    return {**scoped(owners - {"sysadmin"}, 401), "sysadmin": 403}


def reporting_objects(cast) -> dict[str, int]:
    """A roll-up of whatever the other rows made, so that the API answers with rows."""
    rollup_run()
    return {}


REPORTING_PAGES: dict[str, list[Case]] = {}

REPORTING_API: dict[str, list[Case]] = {
    "api/v1/progress/": [
        Case("/api/v1/progress/?year=2018", readers(200)),  # the caller's own area
        Case("/api/v1/progress/?year=2018&area=360781", readers_of(RUIJIN_READERS)),
        Case("/api/v1/progress/?year=2018&area=360781&benefit_type=none", readers_of(RUIJIN_READERS)),
        Case("/api/v1/progress/?year=2018&area=360730&benefit_type=M03-LIVING", readers_of(NINGDU_READERS)),
        Case("/api/v1/progress/?year=2018&area=360700", readers_of(GANZHOU_READERS)),
        Case("/api/v1/progress/?year=2018&area=360000", readers_of({"province_officer"})),
        Case("/api/v1/progress/?year=2018&area=999999", readers(404)),
        Case("/api/v1/progress/?year=abc", readers(400)),
        Case("/api/v1/progress/?year=2018", readers(405), method="post"),
    ],
}
