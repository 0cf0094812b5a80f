"""The inspection ledger for agency systems: inspections with their findings (and items), and the
rectification items with progress and closing. Scoped to the caller's area like the pages; every write
goes through programs.inspections, whose errors become 400 (fields), 403/404 (not yours) and 409 (stale)."""

from collections.abc import Mapping

from django.db.models import Prefetch
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.settings import api_settings
from rest_framework.viewsets import GenericViewSet

from areas.scoping import ScopedViewSetMixin
from beneficiaries.api import CONFLICT, FIELD_ERRORS
from beneficiaries.errors import NotAllowed, RecordInvalid, StaleRecord
from poverty_relief.api import ModelPermissions

from ..inspections import (
    INSPECTION_STATUSES,
    inspection_create,
    inspection_search,
    is_overdue,
    rectification_close,
    rectification_search,
    rectification_update,
)
from ..models import Evidence, Finding, Inspection, InspectionKind, Rectification, RectificationStatus

VERSION_HELP = "The version you read. A newer stored version answers 409 and nothing is saved."
NOT_YOURS = OpenApiResponse(description="Your role may not do this to this record.")

# -- read ------------------------------------------------------------------------------------------------


class ItemBriefSerializer(serializers.ModelSerializer):
    area_code = serializers.CharField(source="area_id")

    class Meta:
        model = Rectification
        fields = ["id", "area_code", "issue", "responsible_unit", "deadline", "status"]


class FindingSerializer(serializers.ModelSerializer):
    rectifications = ItemBriefSerializer(many=True)

    class Meta:
        model = Finding
        fields = ["id", "description", "rectifications"]


class InspectionSerializer(serializers.ModelSerializer):
    area_code = serializers.CharField(source="area_id")
    area_name = serializers.CharField(source="area.name")
    created_by = serializers.CharField(source="created_by.username")
    findings = FindingSerializer(many=True)

    class Meta:
        model = Inspection
        fields = [
            "id", "area_code", "area_name", "kind", "date", "team", "subject", "summary", "created_by",
            "created_at", "findings",
        ]  # fmt: skip


class InspectionBriefSerializer(serializers.ModelSerializer):
    area_code = serializers.CharField(source="area_id")

    class Meta:
        model = Inspection
        fields = ["id", "area_code", "kind", "date", "team", "subject"]


class EvidenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Evidence
        fields = ["id", "original_name", "content_type", "size", "sha256", "uploaded_at"]


class RectificationSerializer(serializers.ModelSerializer):
    inspection = InspectionBriefSerializer(source="finding.inspection")
    finding_id = serializers.IntegerField()
    finding = serializers.CharField(source="finding.description", help_text="The problem found.")
    area_code = serializers.CharField(source="area_id")
    area_name = serializers.CharField(source="area.name")
    overdue = serializers.SerializerMethodField(help_text="Not closed and past its deadline.")
    closed_by = serializers.CharField(source="closed_by.username", allow_null=True, default=None)
    evidence = EvidenceSerializer(many=True)

    class Meta:
        model = Rectification
        fields = [
            "id", "inspection", "finding_id", "finding", "area_code", "area_name", "issue",
            "responsible_unit", "deadline", "status", "overdue", "progress_note", "closing_note", "closed_by",
            "closed_at", "version", "evidence",
        ]  # fmt: skip

    def get_overdue(self, item) -> bool:
        annotated = getattr(item, "overdue", None)
        return is_overdue(item) if annotated is None else annotated


# -- write -----------------------------------------------------------------------------------------------


class ItemInputSerializer(serializers.Serializer):
    area = serializers.CharField(help_text="Area code: the inspection's area or one below it.")
    issue = serializers.CharField(help_text="What must be rectified.")
    responsible_unit = serializers.CharField(max_length=100)
    deadline = serializers.DateField()


class FindingInputSerializer(serializers.Serializer):
    description = serializers.CharField(help_text="The problem found.")
    rectifications = ItemInputSerializer(many=True, required=False)


class InspectionCreateSerializer(serializers.Serializer):
    area = serializers.CharField(
        help_text="Area code. A county records self-checks of itself; a city, the city or its counties; "
        "the province, any province, city or county area."
    )
    kind = serializers.ChoiceField(InspectionKind.choices)
    date = serializers.DateField()
    team = serializers.CharField(max_length=200)
    subject = serializers.CharField(max_length=200)
    summary = serializers.CharField(required=False, allow_blank=True)
    findings = FindingInputSerializer(many=True, required=False)


class ProgressSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, help_text=VERSION_HELP)
    status = serializers.ChoiceField(
        [RectificationStatus.OPEN, RectificationStatus.IN_PROGRESS],
        required=False,
        help_text="Open or in progress; an item is closed with the close action.",
    )
    progress_note = serializers.CharField(required=False, allow_blank=True)


class CloseSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, help_text=VERSION_HELP)
    closing_note = serializers.CharField(help_text="How it was rectified.")


class ClosePermissions(ModelPermissions):
    perms_map = {**ModelPermissions.perms_map, "POST": ["%(app_label)s.close_%(model_name)s"]}


# -- views -----------------------------------------------------------------------------------------------


class LedgerViewSet(ScopedViewSetMixin, GenericViewSet):
    permission_classes = [ModelPermissions]
    lookup_value_regex = r"\d+"

    def valid(self, serializer_class) -> dict:
        if not isinstance(self.request.data, Mapping):
            raise ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [_("Send the fields as an object.")]})
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def filters(self, names) -> dict[str, str]:
        return {name: self.request.query_params.get(name, "") for name in names}

    def handle_exception(self, exc):
        if isinstance(exc, StaleRecord):
            body = {
                "detail": exc.message,
                "current_version": exc.current_version,
                "changes": {
                    name: {"yours_opened": str(opened), "current": str(current)}
                    for name, (opened, current) in exc.changes.items()
                },
            }
            return Response(body, status=status.HTTP_409_CONFLICT)
        if isinstance(exc, RecordInvalid):
            exc = ValidationError(
                {api_settings.NON_FIELD_ERRORS_KEY if f == "__all__" else f: m for f, m in exc.errors.items()}
            )
        elif isinstance(exc, NotAllowed):
            pk = self.kwargs.get(self.lookup_field)
            visible = pk is not None and super().get_queryset().filter(pk=pk).exists()
            exc = PermissionDenied(exc.message) if visible or pk is None else Http404()
        return super().handle_exception(exc)


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("kind", str, enum=InspectionKind.values),
            OpenApiParameter("year", int, description="Year of the inspection date."),
            OpenApiParameter(
                "status",
                str,
                enum=list(INSPECTION_STATUSES),
                description="open: some item not closed; overdue: some item overdue; closed: all closed.",
            ),
        ]
    ),
    create=extend_schema(
        request=InspectionCreateSerializer,
        responses={201: InspectionSerializer, 400: FIELD_ERRORS},
    ),
)
class InspectionViewSet(LedgerViewSet):
    """Inspections of the caller's area and below, each with its findings and their items."""

    queryset = Inspection.objects.all()
    serializer_class = InspectionSerializer

    def get_queryset(self):
        findings = Finding.objects.order_by("id").prefetch_related(
            Prefetch("rectifications", queryset=Rectification.objects.order_by("id"))
        )
        if self.action == "list":
            inspections = inspection_search(
                user=self.request.user, filters=self.filters(("kind", "year", "status"))
            )
        else:
            inspections = super().get_queryset()
        return inspections.select_related("area", "created_by").prefetch_related(
            Prefetch("findings", queryset=findings)
        )

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.get_object()).data)

    def create(self, request):
        values = dict(self.valid(InspectionCreateSerializer))
        findings = values.pop("findings", [])
        inspection = inspection_create(actor=request.user, data=values, findings=findings)
        return Response(
            self.get_serializer(self.get_queryset().get(pk=inspection.pk)).data,
            status=status.HTTP_201_CREATED,
        )


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=RectificationStatus.values),
            OpenApiParameter("overdue", str, enum=["1"], description="1: only items overdue today."),
            OpenApiParameter("area", str, description="An area code: items in that area and below."),
            OpenApiParameter("year", int, description="Year of the inspection that raised the item."),
            OpenApiParameter("kind", str, enum=InspectionKind.values),
            OpenApiParameter("inspection", int, description="Only the items of this inspection."),
        ]
    ),
    partial_update=extend_schema(
        request=ProgressSerializer,
        responses={200: RectificationSerializer, 400: FIELD_ERRORS, 403: NOT_YOURS, 409: CONFLICT},
    ),
)
class RectificationViewSet(LedgerViewSet):
    """Rectification items in the caller's area, oldest deadline first. Progress is a PATCH with the
    version read; closing is its own action and needs evidence attached (through the item's page)."""

    queryset = Rectification.objects.all()
    serializer_class = RectificationSerializer

    def get_queryset(self):
        names = ("status", "overdue", "area", "year", "kind", "inspection")
        filters = self.filters(names) if self.action == "list" else {}
        return rectification_search(user=self.request.user, filters=filters).prefetch_related(
            Prefetch("evidence", queryset=Evidence.objects.order_by("id"))
        )

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.get_object()).data)

    def partial_update(self, request, pk=None):
        item = self.get_object()
        values = self.valid(ProgressSerializer)
        data = {
            "status": values.get("status", item.status),
            "progress_note": values.get("progress_note", item.progress_note),
        }
        rectification_update(actor=request.user, item=item, data=data, expected_version=values["version"])
        return Response(self.get_serializer(self.get_queryset().get(pk=item.pk)).data)

    @extend_schema(
        request=CloseSerializer,
        responses={200: RectificationSerializer, 400: FIELD_ERRORS, 403: NOT_YOURS, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], permission_classes=[ClosePermissions])
    def close(self, request, pk=None):
        """Close (销号) the item with how it was rectified. It needs at least one evidence file; a county
        closes only the items of its own self-checks."""
        item = self.get_object()
        values = self.valid(CloseSerializer)
        rectification_close(
            actor=request.user,
            item=item,
            closing_note=values["closing_note"],
            expected_version=values["version"],
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=item.pk)).data)


def register(router: SimpleRouter) -> None:
    router.register("inspections", InspectionViewSet, basename="inspection")
    router.register("rectifications", RectificationViewSet, basename="rectification")
