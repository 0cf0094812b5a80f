"""Facilities for agency systems: list, read, create and edit (PATCH with the version you read)."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.routers import SimpleRouter

from beneficiaries.api import VERSION_HELP, RegistryViewSet, _filter, _write_schema

from ..facilities import FACILITY_FIELDS, facility_create, facility_search, facility_update
from ..models import Facility, FacilityKind

urlpatterns: list = []


class FacilitySerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(required=False, help_text=VERSION_HELP)

    class Meta:
        model = Facility
        fields = [
            "id", "name", "kind", "capacity", "address", "operator", "phone", "is_active",
            "county_code", "township_code", "village_code", "version", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["county_code", "updated_at"]
        extra_kwargs = {"county_code": {"help_text": "Always the caller's county."}}


class FacilityUpdateSerializer(FacilitySerializer):
    version = serializers.IntegerField(min_value=1, help_text=VERSION_HELP)


class FacilityFilterSerializer(serializers.Serializer):
    q = _filter(serializers.CharField, help_text="Beginning of the name.")
    county = _filter(serializers.CharField, help_text="County code (6 digits).")
    township = _filter(serializers.CharField, help_text="Township code (9 digits).")
    kind = _filter(serializers.ChoiceField, choices=FacilityKind.choices)
    active = _filter(serializers.ChoiceField, choices=[("yes", "in operation"), ("no", "closed")])


@extend_schema_view(
    list=extend_schema(parameters=[FacilityFilterSerializer]),
    create=_write_schema(FacilitySerializer, FacilitySerializer, created=True, conflict=False),
    partial_update=_write_schema(FacilityUpdateSerializer, FacilitySerializer),
)
class FacilityViewSet(RegistryViewSet):
    """Bases and institutions in the caller's area. County offices create and edit their own county's;
    an edit names the version it read, and a newer stored version answers 409 with what changed."""

    queryset = Facility.objects.all()
    serializer_class = FacilitySerializer
    filter_serializer_class = FacilityFilterSerializer
    service_fields = FACILITY_FIELDS
    # Edits are partial (PATCH); facilities are closed (is_active false), never deleted.
    http_method_names = ["get", "post", "patch", "head", "options"]

    def search(self, q, filters):
        return facility_search(user=self.request.user, q=q, filters=filters).order_by("id")

    def register(self, data):
        return facility_create(actor=self.request.user, data=data)

    def change(self, facility, data, version):
        return facility_update(
            actor=self.request.user, facility=facility, data=data, expected_version=version
        )


def register(router: SimpleRouter) -> None:
    router.register("facilities", FacilityViewSet, basename="facility")
