"""The upload API for agency systems: the same jobs, scoping and rules as the pages."""

from django.http import Http404
from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from areas.scoping import get_visible_or_404
from poverty_relief.api import ModelPermissions
from poverty_relief.responses import xlsx_response

from .kinds import KINDS, get_kind
from .models import ImportJob, ImportStatus
from .services import (
    QueueUnavailable,
    UploadNotAllowed,
    UploadRefused,
    import_commit,
    import_create,
    unknown_kind_message,
)
from .views import build_error_workbook


class ImportJobSerializer(serializers.ModelSerializer):
    progress = serializers.IntegerField(source="percent", read_only=True)
    rows_per_second = serializers.IntegerField(read_only=True, allow_null=True)
    errors = serializers.JSONField(source="column_errors", read_only=True)

    class Meta:
        model = ImportJob
        fields = [
            "id", "kind", "county_code", "original_name", "status", "message", "progress", "rows_total",
            "rows_done", "rows_per_second", "counts", "errors", "header_row", "created_at", "committed_at",
        ]  # fmt: skip
        read_only_fields = fields


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    kind = serializers.ChoiceField(
        choices=[],
        default="roster",
        help_text="`roster`: a township roster; `enrollments`: benefits received.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        kind = self.fields["kind"]
        kind.choices = [(key, sheet.label) for key, sheet in KINDS.items()]
        kind.error_messages["invalid_choice"] = unknown_kind_message("{input}")


class CommitSerializer(serializers.Serializer):
    all_or_nothing = serializers.BooleanField(default=False)


class JobPermissions(ModelPermissions):
    """Reading a job needs view, uploading one needs add."""


class CommitPermissions(ModelPermissions):
    """Committing changes the job: POST needs the change permission here."""

    perms_map = {**ModelPermissions.perms_map, "POST": ["%(app_label)s.change_%(model_name)s"]}


def _refused(refusal: UploadRefused) -> Response:
    if isinstance(refusal, QueueUnavailable):
        return Response({"detail": refusal.message}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
    if isinstance(refusal, UploadNotAllowed):
        return Response({"detail": refusal.message}, status=status.HTTP_403_FORBIDDEN)
    return Response(
        {refusal.field or "detail": [refusal.message] if refusal.field else refusal.message}, status=400
    )


class ImportListView(APIView):
    """Upload a sheet (multipart `file`, and `kind`: `roster` for a township roster, the default, or
    `enrollments` for benefits received): the job is checked in the background; poll it."""

    parser_classes = [MultiPartParser]
    permission_classes = [JobPermissions]
    queryset = ImportJob.objects.none()

    @extend_schema(
        request=UploadSerializer,
        responses={201: ImportJobSerializer, 400: OpenApiResponse(), 503: OpenApiResponse()},
    )
    def post(self, request):
        upload = UploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        try:
            job = import_create(
                actor=request.user, kind=upload.validated_data["kind"], upload=upload.validated_data["file"]
            )
        except UploadRefused as refusal:
            return _refused(refusal)
        return Response(ImportJobSerializer(job).data, status=status.HTTP_201_CREATED)


class ImportDetailView(APIView):
    """Status, progress, counts and the errors grouped by column (header -> message -> rows)."""

    permission_classes = [JobPermissions]
    queryset = ImportJob.objects.none()

    @extend_schema(responses=ImportJobSerializer)
    def get(self, request, pk: int):
        return Response(ImportJobSerializer(get_visible_or_404(ImportJob, request.user, pk=pk)).data)


class ImportCommitView(APIView):
    """Save the good rows (or nothing, with `all_or_nothing` and any rejected row) in one transaction."""

    permission_classes = [CommitPermissions]
    queryset = ImportJob.objects.none()

    @extend_schema(
        request=CommitSerializer,
        responses={202: ImportJobSerializer, 400: OpenApiResponse(), 503: OpenApiResponse()},
    )
    def post(self, request, pk: int):
        job = get_visible_or_404(ImportJob, request.user, pk=pk)
        options = CommitSerializer(data=request.data)
        options.is_valid(raise_exception=True)
        try:
            job = import_commit(
                actor=request.user, job=job, all_or_nothing=options.validated_data["all_or_nothing"]
            )
        except UploadRefused as refusal:
            return _refused(refusal)
        return Response(ImportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class ImportErrorsView(APIView):
    """The rejected rows as uploaded, bad cells marked, as .xlsx."""

    permission_classes = [JobPermissions]
    queryset = ImportJob.objects.none()

    @extend_schema(
        responses={(200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): bytes}
    )
    def get(self, request, pk: int):
        job = get_visible_or_404(ImportJob, request.user, pk=pk)
        if not request.user.has_perm(get_kind(job.kind).whole_numbers_permission):
            raise PermissionDenied  # the rows as uploaded carry whole ID numbers
        if job.status not in (ImportStatus.REVIEW, ImportStatus.COMMITTING, ImportStatus.COMMITTED):
            raise Http404
        return xlsx_response(build_error_workbook(job), f"import-{job.pk}-errors.xlsx")


urlpatterns = [
    path("imports/", ImportListView.as_view(), name="import-list"),
    path("imports/<int:pk>/", ImportDetailView.as_view(), name="import-detail"),
    path("imports/<int:pk>/commit/", ImportCommitView.as_view(), name="import-commit"),
    path("imports/<int:pk>/errors.xlsx", ImportErrorsView.as_view(), name="import-errors"),
]
