"""The registry for other agencies: people and households, scoped to the caller's area like the pages.

Serializers only read records and document the fields; every write goes through `beneficiaries.services`,
whose domain errors become 400 (field errors), 409 (stale version) or 403/404 here.
"""

from collections.abc import Mapping

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.settings import api_settings
from rest_framework.viewsets import GenericViewSet

from areas.scoping import ScopedViewSetMixin
from poverty_relief.api import ModelPermissions

from .choices import DisabilityCategory, DisabilityLevel
from .errors import DuplicatePerson, NotAllowed, RecordInvalid, StaleRecord
from .models import Household, IdNumberView, LifeStatus, Person, PovertyStatus
from .selectors import household_search, mask_id_number, person_search
from .services import (
    HOUSEHOLD_FIELDS,
    PERSON_FIELDS,
    household_deactivate,
    household_register,
    household_update,
    person_register,
    person_set_life_status,
    person_update,
)

FULL_ID_PERMISSION = "beneficiaries.view_full_id_number"
MASKED_FIELDS = ("id_number", "certificate_number")


class ChangeOnPost(ModelPermissions):
    """For actions that change a record through POST (status, deactivation): change_*, not add_*."""

    perms_map = {**ModelPermissions.perms_map, "POST": ["%(app_label)s.change_%(model_name)s"]}


class IdCursorPagination(CursorPagination):
    """Pages in id order from the last id seen: page 20,000 costs what page 1 does."""

    ordering = "id"
    page_size = 50


VERSION_HELP = "The version you read; required on PUT and PATCH. A newer stored version answers 409."


class PersonSerializer(serializers.ModelSerializer):
    household = serializers.IntegerField(
        source="household_id", allow_null=True, required=False, help_text="Household id, or null."
    )
    version = serializers.IntegerField(required=False, help_text=VERSION_HELP)
    birth_date = serializers.DateField(
        read_only=True, allow_null=True, help_text="Null when id_number is masked: it would give it away."
    )

    class Meta:
        model = Person
        fields = [
            "id", "name", "id_number", "certificate_number", "disability_category", "disability_level",
            "gender", "birth_date", "county_code", "township_code", "village_code", "household",
            "relation_to_head", "phone", "is_employed", "work_injury_nursing", "life_status", "version",
        ]  # fmt: skip
        read_only_fields = ["gender", "birth_date", "life_status"]
        extra_kwargs = {
            "id_number": {"help_text": "Masked (360781********0071) unless you may see whole numbers."},
            "certificate_number": {"help_text": "Masked like id_number; null when there is none."},
        }

    def to_representation(self, person):
        data = super().to_representation(person)
        if not self.context.get("whole_numbers"):
            for key in MASKED_FIELDS:
                data[key] = data[key] and mask_id_number(data[key])
            # The masked digits are the birth date: showing it would give the whole number back.
            data["birth_date"] = None
        return data


class PersonUpdateSerializer(PersonSerializer):
    version = serializers.IntegerField(min_value=1, help_text=VERSION_HELP)


class HouseholdSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(required=False, help_text=VERSION_HELP)

    class Meta:
        model = Household
        fields = [
            "id", "head_name", "size", "poverty_status", "exit_year", "is_dibao", "is_tekun", "main_cause",
            "county_code", "township_code", "village_code", "is_active", "deactivated_at",
            "deactivation_reason", "version",
        ]  # fmt: skip
        read_only_fields = ["is_active", "deactivated_at", "deactivation_reason"]


class HouseholdUpdateSerializer(HouseholdSerializer):
    version = serializers.IntegerField(min_value=1, help_text=VERSION_HELP)


class VersionSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1)


class LifeStatusSerializer(VersionSerializer):
    life_status = serializers.ChoiceField(LifeStatus.choices)
    effective_date = serializers.DateField()
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class DeactivateSerializer(VersionSerializer):
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


def _filter(field_class, **kwargs):
    # Empty values mean "any", as an unchosen select of a search form sends them.
    return field_class(required=False, allow_blank=True, **kwargs)


class HouseholdFilterSerializer(serializers.Serializer):
    q = _filter(serializers.CharField, help_text="Beginning of the head of household's name.")
    township = _filter(serializers.CharField, help_text="Township code (9 digits).")
    village = _filter(serializers.CharField, help_text="Village code (12 digits).")
    poverty_status = _filter(serializers.ChoiceField, choices=PovertyStatus.choices)


class PersonFilterSerializer(HouseholdFilterSerializer):
    q = _filter(
        serializers.CharField,
        help_text="Beginning of a name, or of an ID or certificate number (at least 6 digits).",
    )
    category = _filter(serializers.ChoiceField, choices=DisabilityCategory.choices)
    level = _filter(serializers.ChoiceField, choices=DisabilityLevel.choices)
    life_status = _filter(serializers.ChoiceField, choices=LifeStatus.choices)
    poverty_status = _filter(
        serializers.ChoiceField, choices=PovertyStatus.choices, help_text="The household's poverty status."
    )


class FieldChangeSerializer(serializers.Serializer):
    yours_opened = serializers.JSONField(help_text="The value in the version you opened.")
    current = serializers.JSONField(help_text="The value stored now.")


class ConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    current_version = serializers.IntegerField()
    changes = serializers.DictField(child=FieldChangeSerializer(), help_text="Field name -> what changed.")


FIELD_ERRORS = OpenApiResponse(description="Field errors: {field: [messages]}.")
CONFLICT = OpenApiResponse(ConflictSerializer, description="Saved by someone else since you read it.")


def _write_schema(request, response, *, created=False, conflict=True):
    responses = {201 if created else 200: response, 400: FIELD_ERRORS}
    if conflict:
        responses[409] = CONFLICT
    return extend_schema(request=request, responses=responses)


def _conflict_body(exc: StaleRecord) -> dict:
    # Whole numbers appear only in logged detail responses, never in a conflict report.
    def shown(field, value):
        return mask_id_number(value) if field in MASKED_FIELDS and value else value

    return {
        "detail": exc.message,
        "current_version": exc.current_version,
        "changes": {
            field: {"yours_opened": shown(field, opened), "current": shown(field, current)}
            for field, (opened, current) in exc.changes.items()
        },
    }


class RegistryViewSet(ScopedViewSetMixin, GenericViewSet):
    """List, read, register and edit; no DELETE: records are deactivated, never deleted, and the
    permission check (delete_* is nobody's) answers 403 before the method check."""

    permission_classes = [ModelPermissions]
    pagination_class = IdCursorPagination
    lookup_value_regex = r"\d+"
    filter_serializer_class: type[serializers.Serializer]
    service_fields: tuple[str, ...]  # what a PATCH fills in from the stored record

    def search(self, q: str, filters: dict):
        raise NotImplementedError

    def register(self, data: Mapping):
        raise NotImplementedError

    def change(self, record, data: Mapping, version: int):
        raise NotImplementedError

    def list(self, request):
        params = self.filter_serializer_class(data=request.query_params)
        params.is_valid(raise_exception=True)
        filters = dict(params.validated_data)
        page = self.paginate_queryset(self.search(filters.pop("q", ""), filters))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return self.respond(self.get_object())

    def create(self, request):
        return self.respond(self.register(self.request_data()), status.HTTP_201_CREATED)

    def update(self, request, pk=None, partial=False):
        record = self.get_object()
        data = self.request_data()
        version = self.valid(VersionSerializer)["version"]
        if partial:
            stored = {
                name: getattr(record, record._meta.get_field(name).attname) for name in self.service_fields
            }
            data = {**stored, **data}
        return self.respond(self.change(record, data, version))

    def partial_update(self, request, pk=None):
        return self.update(request, pk, partial=True)

    def respond(self, record, code=status.HTTP_200_OK):
        return Response(self.get_serializer(record).data, status=code)

    def request_data(self) -> Mapping:
        if not isinstance(self.request.data, Mapping):
            raise ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [_("Send the fields as an object.")]})
        return self.request.data

    def valid(self, serializer_class) -> dict:
        serializer = serializer_class(data=self.request_data())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def handle_exception(self, exc):
        if isinstance(exc, StaleRecord):
            return Response(_conflict_body(exc), status=status.HTTP_409_CONFLICT)
        if isinstance(exc, RecordInvalid):
            exc = ValidationError(
                {api_settings.NON_FIELD_ERRORS_KEY if f == "__all__" else f: m for f, m in exc.errors.items()}
            )
        elif isinstance(exc, DuplicatePerson):
            exc = ValidationError({exc.field: [exc.message]})
        elif isinstance(exc, NotAllowed):
            pk = self.kwargs.get(self.lookup_field)
            visible = pk is not None and self.get_queryset().filter(pk=pk).exists()
            exc = PermissionDenied(exc.message) if visible else Http404()
        return super().handle_exception(exc)


@extend_schema_view(
    list=extend_schema(parameters=[PersonFilterSerializer]),
    create=_write_schema(PersonSerializer, PersonSerializer, created=True, conflict=False),
    update=_write_schema(PersonUpdateSerializer, PersonSerializer),
    partial_update=_write_schema(PersonUpdateSerializer, PersonSerializer),
)
class PersonViewSet(RegistryViewSet):
    """Poor disabled people in the caller's area. ID and certificate numbers are masked in lists, and in
    single records unless the caller may see whole numbers (each such response is logged)."""

    queryset = Person.objects.all()
    serializer_class = PersonSerializer
    filter_serializer_class = PersonFilterSerializer
    service_fields = PERSON_FIELDS

    def search(self, q, filters):
        return person_search(user=self.request.user, q=q, filters=filters)

    def register(self, data):
        return person_register(actor=self.request.user, data=data)

    def change(self, person, data, version):
        return person_update(actor=self.request.user, person=person, data=data, expected_version=version)

    def respond(self, person, code=status.HTTP_200_OK):
        whole = self.request.user.has_perm(FULL_ID_PERMISSION)
        if whole:
            IdNumberView.objects.create(person=person, viewer=self.request.user, path=self.request.path[:200])
        return Response(PersonSerializer(person, context={"whole_numbers": whole}).data, status=code)

    @_write_schema(LifeStatusSerializer, PersonSerializer)
    @action(detail=True, methods=["post"], url_path="status", permission_classes=[ChangeOnPost])
    def set_status(self, request, pk=None):
        """Deactivate (deceased, moved out, duplicate) or reactivate; records are never deleted."""
        person = self.get_object()
        values = self.valid(LifeStatusSerializer)
        person = person_set_life_status(
            actor=request.user,
            person=person,
            status=LifeStatus(values["life_status"]),
            effective_date=values["effective_date"],
            reason=values["reason"],
            expected_version=values["version"],
        )
        return self.respond(person)


@extend_schema_view(
    list=extend_schema(parameters=[HouseholdFilterSerializer]),
    create=_write_schema(HouseholdSerializer, HouseholdSerializer, created=True, conflict=False),
    update=_write_schema(HouseholdUpdateSerializer, HouseholdSerializer),
    partial_update=_write_schema(HouseholdUpdateSerializer, HouseholdSerializer),
)
class HouseholdViewSet(RegistryViewSet):
    """Households in the caller's area."""

    queryset = Household.objects.all()
    serializer_class = HouseholdSerializer
    filter_serializer_class = HouseholdFilterSerializer
    service_fields = HOUSEHOLD_FIELDS

    def search(self, q, filters):
        return household_search(user=self.request.user, q=q, filters=filters)

    def register(self, data):
        return household_register(actor=self.request.user, data=data)

    def change(self, household, data, version):
        return household_update(
            actor=self.request.user, household=household, data=data, expected_version=version
        )

    @_write_schema(DeactivateSerializer, HouseholdSerializer)
    @action(detail=True, methods=["post"], permission_classes=[ChangeOnPost])
    def deactivate(self, request, pk=None):
        """Deactivate a household whose members are all deactivated or moved."""
        household = self.get_object()
        values = self.valid(DeactivateSerializer)
        household = household_deactivate(
            actor=request.user,
            household=household,
            reason=values["reason"],
            expected_version=values["version"],
        )
        return self.respond(household)


router = SimpleRouter(trailing_slash=True)
router.register("persons", PersonViewSet, basename="person")
router.register("households", HouseholdViewSet, basename="household")

registry_api_urls = router.urls
