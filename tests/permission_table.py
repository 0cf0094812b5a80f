"""The vocabulary of the permission matrix: a `Case` is one request and the status each member of the
cast must get for it. Each app keeps its rows beside its tests; `tests/test_permissions.py` joins them."""

from dataclasses import dataclass, field

from .cast import CAST

ROLES = [*CAST, "unassigned", None]  # None: the anonymous visitor

LOGIN = 302  # anonymous pages redirect to the login page


@dataclass
class Case:
    url: str  # may name objects built for the matrix, e.g. "/registry/people/{ruijin_person}/"
    expect: dict  # role name (or None) -> status; "*" for everyone not named
    method: str = "get"
    data: dict = field(default_factory=dict)

    def status_for(self, role):
        return self.expect.get(role, self.expect.get("*"))


def everyone(status, **others):
    return {"*": status, **{k if k != "anonymous" else None: v for k, v in others.items()}}


def scoped(code_owner_roles, anonymous):
    """200 for the roles whose area holds the record, 404 for the other areas, `anonymous` for no login."""
    expect = {role: (200 if role in code_owner_roles else 404) for role in CAST}
    expect["unassigned"] = 403
    expect[None] = anonymous
    return expect


RUIJIN_READERS = {"ruijin_clerk", "ruijin_supervisor", "ganzhou_reviewer", "province_officer", "sysadmin"}
NINGDU_READERS = {"ningdu_clerk", "ganzhou_reviewer", "province_officer", "sysadmin"}
GANZHOU_READERS = {"ganzhou_reviewer", "province_officer", "sysadmin"}
