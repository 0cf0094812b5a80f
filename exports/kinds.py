"""What can be exported, each kind with the permission it asks, how it reads the request, which area its
file belongs to, and how it writes the file. The job, the task and the pages know kinds only through this."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from areas.models import Area

from . import registry
from .models import ExportKind


@dataclass(frozen=True)
class Kind:
    key: str
    permission: str
    #: The request's data (the list's query) -> the job's parameters.
    parameters: Callable[[Any, Mapping[str, Any]], dict[str, Any]]
    #: The area the file belongs to, or None when the parameters name one the user may not see.
    area: Callable[[Any, Mapping[str, Any]], Area | None]
    #: The rows, as a queryset the worker counts and streams.
    rows: Callable[[Any, Mapping[str, Any]], QuerySet]
    title: Callable[[Area], str]
    file_name: Callable[[Area], str]
    #: Permission a download needs besides `permission` (whole ID numbers), from the parameters.
    extra_permission: Callable[[Mapping[str, Any]], str | None]
    #: (rows, parameters, out, title=, on_row=) -> rows written; `on_row(n)` after each row.
    write: Callable[..., int]

    @property
    def label(self) -> str:
        return ExportKind(self.key).label


KINDS: dict[str, Kind] = {
    ExportKind.REGISTRY: Kind(
        key=ExportKind.REGISTRY,
        permission=registry.PERMISSION,
        parameters=registry.registry_parameters,
        area=registry.registry_area,
        rows=registry.registry_people,
        title=registry.registry_title,
        file_name=registry.registry_file_name,
        extra_permission=lambda parameters: registry.FULL_ID if parameters.get("whole_numbers") else None,
        write=registry.registry_job_write,
    ),
}


def kinds_for(user) -> list[Kind]:
    """The kinds the user may export."""
    return [kind for kind in KINDS.values() if user.has_perm(kind.permission)]
