"""Enrolments for agency systems: list, read, record (with the eligibility answer), the steps; and each
benefit type's eligibility for a person."""

from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.mixins import ListModelMixin, RetrieveModelMixin
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.viewsets import GenericViewSet

from areas.scoping import ScopedViewSetMixin, get_visible_or_404
from beneficiaries.api import IdCursorPagination
from beneficiaries.errors import StaleRecord
from beneficiaries.models import Household, Person
from poverty_relief.api import ModelPermissions

from ..enrollments import (
    YEARS,
    EnrollmentError,
    NotEligible,
    check_application,
    enrollment_activate,
    enrollment_apply,
    enrollment_review,
    enrollment_stop,
    person_eligibility,
    this_year,
)
from ..models import Enrollment, Facility
from ..selectors import ENROLLMENT_FILTERS, enrollment_search

VERSION_HELP = "The version you read; a stale one is a 409 and changes nothing."


class EnrollmentSerializer(serializers.ModelSerializer):
    benefit_type_name = serializers.CharField(source="benefit_type.name", read_only=True)
    person_name = serializers.SerializerMethodField()
    applied_by = serializers.StringRelatedField(allow_null=True)
    reviewed_by = serializers.StringRelatedField(allow_null=True)
    activated_by = serializers.StringRelatedField(allow_null=True)
    stopped_by = serializers.StringRelatedField(allow_null=True)
    overridden_by = serializers.StringRelatedField(allow_null=True)

    class Meta:
        model = Enrollment
        fields = [
            "id", "benefit_type", "benefit_type_name", "year", "recipient_unit", "person", "person_name",
            "household", "facility", "county_code", "township_code", "village_code", "start_date", "end_date",
            "amount", "status", "note", "override_reason", "overridden_conditions", "overridden_by",
            "applied_by", "applied_at", "reviewed_by", "reviewed_at", "review_note", "activated_by",
            "activated_at", "stopped_by", "stopped_at", "stop_reason", "import_job", "version",
        ]  # fmt: skip
        read_only_fields = fields

    def get_person_name(self, enrollment) -> str | None:
        return enrollment.person.name if enrollment.person_id else None


class ApplicationSerializer(serializers.Serializer):
    benefit_type = serializers.CharField(max_length=30)
    year = serializers.IntegerField(min_value=YEARS[0], max_value=YEARS[-1])
    person = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**62)
    household = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**62)
    facility = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**62)
    start_date = serializers.DateField(required=False, allow_null=True)
    end_date = serializers.DateField(required=False, allow_null=True)
    amount = serializers.DecimalField(
        max_digits=8, decimal_places=2, required=False, allow_null=True, min_value=0
    )
    note = serializers.CharField(max_length=200, required=False, allow_blank=True)
    override_reason = serializers.CharField(
        max_length=500,
        required=False,
        allow_blank=True,
        help_text="A reviewer's reason to let failed rules pass.",
    )


class VersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, max_value=2**31, help_text=VERSION_HELP)


class ReviewSerializer(VersionSerializer):
    note = serializers.CharField(max_length=200, required=False, allow_blank=True)


class StopSerializer(VersionSerializer):
    end_date = serializers.DateField()
    reason = serializers.CharField(max_length=200)


class ConditionSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class VerdictSerializer(serializers.Serializer):
    benefit_type = serializers.CharField(source="benefit_type.code")
    name = serializers.CharField(source="benefit_type.name")
    measure = serializers.CharField(source="benefit_type.measure_id")
    unit = serializers.CharField(source="benefit_type.unit")
    eligible = serializers.BooleanField()
    ruled = serializers.BooleanField(help_text="False: the type has no rule (open to any registered person).")
    conditions = ConditionSerializer(many=True, help_text="The rules that fail; empty when eligible.")
    conflict = serializers.CharField(allow_null=True, help_text="Why it cannot be recorded at all, if so.")
    enrollment = serializers.SerializerMethodField()

    def get_enrollment(self, verdict) -> int | None:
        return verdict.held.pk if verdict.held else None


class StepPermissions(ModelPermissions):
    perms_map = {**ModelPermissions.perms_map, "POST": ["%(app_label)s.change_%(model_name)s"]}


class ReviewPermissions(ModelPermissions):
    perms_map = {**ModelPermissions.perms_map, "POST": ["%(app_label)s.review_%(model_name)s"]}


def _refused(error: EnrollmentError) -> Response:
    body = dict(error.errors)
    if isinstance(error, NotEligible):
        body["conditions"] = [{"code": c.code, "message": str(c.message)} for c in error.conditions]
    return Response(body, status=status.HTTP_400_BAD_REQUEST)


def _stale(error: StaleRecord) -> Response:
    return Response({"detail": error.message, "current_version": error.current_version}, status=409)


@extend_schema_view(
    list=extend_schema(parameters=[OpenApiParameter(k, str) for k in ENROLLMENT_FILTERS]),
)
class EnrollmentViewSet(ScopedViewSetMixin, ListModelMixin, RetrieveModelMixin, GenericViewSet):
    """Enrolments in the caller's area. Recording one runs the eligibility rules: a failing rule is a 400
    with the conditions (a reviewer may pass `override_reason`); a conflict is a 400 with the reason."""

    queryset = Enrollment.objects.all()
    serializer_class = EnrollmentSerializer
    permission_classes = [ModelPermissions]
    pagination_class = IdCursorPagination
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        if self.action == "list":
            filters = {k: self.request.query_params.get(k, "") for k in ENROLLMENT_FILTERS}
            return enrollment_search(user=self.request.user, filters=filters).select_related(
                "applied_by", "reviewed_by", "activated_by", "stopped_by", "overridden_by"
            )
        return super().get_queryset().select_related("benefit_type", "person")

    def _valid(self, serializer_class):
        body = serializer_class(data=self.request.data if isinstance(self.request.data, dict) else {})
        body.is_valid(raise_exception=True)
        return body.validated_data

    @extend_schema(request=ApplicationSerializer, responses={201: EnrollmentSerializer})
    def create(self, request):
        values = self._valid(ApplicationSerializer)
        records = {}
        for key, model in (("person", Person), ("household", Household), ("facility", Facility)):
            if values.get(key):
                records[key] = get_visible_or_404(model, request.user, pk=values[key])
        try:
            application = check_application(actor=request.user, data=values, **records)
            enrollment = enrollment_apply(
                actor=request.user, application=application, override_reason=values.get("override_reason", "")
            )
        except EnrollmentError as error:
            return _refused(error)
        return Response(EnrollmentSerializer(enrollment).data, status=status.HTTP_201_CREATED)

    def _step(self, call, serializer_class, **kwargs):
        enrollment = self.get_object()
        values = self._valid(serializer_class)
        try:
            extra = {k: values.get(v, "") for k, v in kwargs.items()}
            enrollment = call(
                actor=self.request.user, enrollment=enrollment, expected_version=values["version"], **extra
            )
        except StaleRecord as error:
            return _stale(error)
        except EnrollmentError as error:
            return _refused(error)
        return Response(EnrollmentSerializer(enrollment).data)

    @extend_schema(request=ReviewSerializer, responses={200: EnrollmentSerializer})
    @action(detail=True, methods=["post"], permission_classes=[ReviewPermissions])
    def approve(self, request, pk=None):
        """Approve an application (a supervisor who did not record it)."""
        return self._step(lambda **kw: enrollment_review(approve=True, **kw), ReviewSerializer, note="note")

    @extend_schema(request=ReviewSerializer, responses={200: EnrollmentSerializer})
    @action(detail=True, methods=["post"], permission_classes=[ReviewPermissions])
    def reject(self, request, pk=None):
        """Do not approve an application; the note says why."""
        return self._step(lambda **kw: enrollment_review(approve=False, **kw), ReviewSerializer, note="note")

    @extend_schema(request=VersionSerializer, responses={200: EnrollmentSerializer})
    @action(detail=True, methods=["post"], permission_classes=[StepPermissions])
    def activate(self, request, pk=None):
        """On the roll / paid."""
        return self._step(enrollment_activate, VersionSerializer)

    @extend_schema(request=StopSerializer, responses={200: EnrollmentSerializer})
    @action(detail=True, methods=["post"], permission_classes=[StepPermissions])
    def stop(self, request, pk=None):
        """Stop from a date (the last day paid)."""
        return self._step(enrollment_stop, StopSerializer, end_date="end_date", reason="reason")


class PersonEligibilityView(GenericAPIView):
    """Each benefit type a person (or their household) can receive in a year: eligible, or the conditions
    that fail, or why it cannot be recorded at all (already held, deceased ...)."""

    queryset = Enrollment.objects.none()
    permission_classes = [ModelPermissions]
    serializer_class = VerdictSerializer
    pagination_class = None

    @extend_schema(
        parameters=[OpenApiParameter("year", int, description="Default: this year.")],
        responses={200: VerdictSerializer(many=True)},
    )
    def get(self, request, pk: int):
        person = get_visible_or_404(Person, request.user, pk=pk)
        raw = request.query_params.get("year", "")
        if raw and not (raw.isdigit() and int(raw) in YEARS):
            message = _("Year: a year from %(first)s to %(last)s.") % {"first": YEARS[0], "last": YEARS[-1]}
            return Response({"year": [message]}, status=status.HTTP_400_BAD_REQUEST)
        verdicts = person_eligibility(person, year=int(raw) if raw else this_year())
        return Response(VerdictSerializer(verdicts, many=True).data)


def register(router: SimpleRouter) -> None:
    router.register("enrollments", EnrollmentViewSet, basename="enrollment")


urlpatterns = [
    path("persons/<int:pk>/eligibility/", PersonEligibilityView.as_view(), name="person-eligibility"),
]
