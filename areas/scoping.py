"""The one place that decides which rows a user may see.

Every area-bound model carries the code of the area its record belongs to; a user sees the records whose
code starts with the prefix of the user's own area. Another area's record is simply not there (404).
"""

from typing import ClassVar

from django.db import models
from django.http import Http404
from django.shortcuts import get_object_or_404


class AreaScopedQuerySet(models.QuerySet):
    #: The field (or lookup path) that holds the record's area code. Set by each model's manager.
    area_code_field: ClassVar[str] = "area_code"

    def within(self, prefix: str) -> "AreaScopedQuerySet":
        return self.filter(**{f"{self.area_code_field}__startswith": prefix})

    def visible_to(self, user) -> "AreaScopedQuerySet":
        prefix = user_scope_prefix(user)
        if prefix is None:
            return self.none()
        return self.within(prefix)


def scoped_queryset_class(field: str) -> type[AreaScopedQuerySet]:
    return type(f"ScopedBy_{field}", (AreaScopedQuerySet,), {"area_code_field": field})


def user_scope_prefix(user) -> str | None:
    """The code prefix of everything the user may see, or None for nothing."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    area = getattr(user, "area", None)
    if area is None:
        return None
    return area.prefix


class ScopedObjectMixin:
    """For class-based views: `get_queryset()` starts from `visible_to(request.user)`, so
    `get_object()` answers 404 for a record outside the user's area."""

    model: type[models.Model]

    def get_queryset(self):
        return self.model.objects.visible_to(self.request.user)


class ScopedViewSetMixin:
    """For DRF views: the same rule as `ScopedObjectMixin`."""

    queryset: models.QuerySet

    def get_queryset(self):
        return self.queryset.model.objects.visible_to(self.request.user)


def get_visible_or_404(model: type[models.Model], user, **lookup):
    try:
        return get_object_or_404(model.objects.visible_to(user), **lookup)
    except (ValueError, TypeError) as exc:  # a malformed key is as absent as another area's record
        raise Http404 from exc


class ScopedAdminMixin:
    """For ModelAdmin: the admin lists and opens only what `visible_to` allows."""

    def get_queryset(self, request):
        return super().get_queryset(request) & self.model.objects.visible_to(request.user)
