"""Reads of export jobs: a user sees only the jobs they asked for, and only inside their area."""

from django.db.models import QuerySet
from django.http import Http404

from .models import ExportJob


def exports_of(user) -> QuerySet[ExportJob]:
    """The user's own jobs, while their area still holds the data: someone moved to another county no
    longer sees (nor downloads) what they exported before."""
    return ExportJob.objects.visible_to(user).filter(requested_by=user)


def own_export_or_404(user, pk: int) -> ExportJob:
    try:
        return exports_of(user).get(pk=pk)
    except ExportJob.DoesNotExist as exc:
        raise Http404 from exc
