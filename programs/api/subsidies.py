"""The monthly list of the two subsidies for agency systems; ID numbers masked as in the registry lists."""

from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from areas.models import AreaLevel

from ..subsidies import NOT_SET, READ, monthly_subsidy_list, parse_month, visible_county


class SubsidyRowSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    enrollment = serializers.IntegerField(source="enrollment_id")
    person = serializers.IntegerField(source="person_id")
    township_code = serializers.CharField()
    township = serializers.CharField()
    village_code = serializers.CharField()
    village = serializers.CharField()
    name = serializers.CharField()
    id_number = serializers.CharField(source="masked_id_number", help_text="Masked: 360781********0071.")
    disability_category = serializers.IntegerField()
    disability_level = serializers.IntegerField()
    benefit_type = serializers.CharField()
    benefit_name = serializers.CharField()
    amount = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        allow_null=True,
        help_text="Monthly yuan; null when no standard is set.",
    )
    note = serializers.SerializerMethodField()

    def get_note(self, row) -> str:
        return NOT_SET if row.amount is None else ""


class SubsidyTotalSerializer(serializers.Serializer):
    benefit_type = serializers.CharField()
    name = serializers.CharField()
    people = serializers.IntegerField()
    without_standard = serializers.IntegerField(source="unpriced")
    amount = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text="Rows without a standard left out."
    )


class SubsidyListSerializer(serializers.Serializer):
    county_code = serializers.CharField()
    county_name = serializers.CharField()
    year = serializers.IntegerField()
    month = serializers.IntegerField()
    title = serializers.CharField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    totals = SubsidyTotalSerializer(many=True)
    rows = SubsidyRowSerializer(many=True)


class ReadsSubsidyLists(BasePermission):
    def has_permission(self, request, view) -> bool:
        return request.user.has_perms(READ)


class SubsidyListView(APIView):
    """Who is paid the living subsidy (M03-LIVING) and the nursing subsidy (M03-NURSING) in a county in a
    month, and how much, with a total per subsidy. Another area's county answers 404."""

    permission_classes = [ReadsSubsidyLists]

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "county", str, description="County code; a county's own staff may leave it out."
            ),
            OpenApiParameter("month", str, required=True, description="The month, as 2018-03."),
        ],
        responses={200: SubsidyListSerializer},
    )
    def get(self, request):
        user = request.user
        chosen = parse_month(request.query_params.get("month"))
        errors = {}
        if chosen is None:
            errors["month"] = [_("Month: choose a month, such as 2018-03.")]
        code = request.query_params.get("county", "")
        if not code and user.area.level != AreaLevel.COUNTY:
            errors["county"] = [_("County: say which county's list you want, by its code.")]
        if errors:
            raise ValidationError(errors)
        county = visible_county(user, code or None)  # another area's county: 404
        subsidies = monthly_subsidy_list(county.code, *chosen, user=user)
        return Response(SubsidyListSerializer(subsidies).data)


urlpatterns = [path("subsidy-lists/", SubsidyListView.as_view(), name="subsidy-list")]


def register(router: SimpleRouter) -> None:
    pass
