"""Progress for agency systems: `GET /api/v1/progress/?year=2018&area=360781[&benefit_type=M03-LIVING]`.

Answers the roll-up rows of the area and of the areas directly below it, read from the roll-up tables.
The area defaults to the caller's own; an area outside the caller's is 404. Reading progress needs
`programs.view_target` (progress is measured against the targets, and every registry role holds it; the
system administrator does not), so there is no permission of its own.
"""

from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from areas.models import Area
from areas.scoping import get_visible_or_404
from programs.models import BenefitType

from .selectors import ALL, HEADLINE, area_progress

PERMISSION = "programs.view_target"


class CanViewProgress(BasePermission):
    def has_permission(self, request, view) -> bool:
        return request.user.has_perm(PERMISSION)


class ProgressRowSerializer(serializers.Serializer):
    area_code = serializers.CharField()
    area_name = serializers.CharField()
    level = serializers.CharField()
    parent_code = serializers.CharField()
    benefit_type = serializers.CharField(allow_null=True, help_text="null: people out of poverty")
    unit = serializers.CharField(help_text="person, household, institution or base")
    target = serializers.IntegerField(allow_null=True, help_text="null: the area has no target")
    allocated = serializers.IntegerField(allow_null=True, help_text="Split further down.")
    remaining = serializers.IntegerField(allow_null=True, help_text="Not yet split further down.")
    achieved = serializers.IntegerField(help_text="Distinct people, households or facilities, by the unit.")
    achieved_for_target = serializers.IntegerField(
        help_text="What counts against this area's target: a city's leaves out its province-managed counties."
    )
    completion = serializers.FloatField(allow_null=True, help_text="achieved_for_target / target")
    households = serializers.IntegerField(
        allow_null=True,
        help_text="Households: of household-unit types (the achievement) and of people out of poverty; "
        "null for person-unit types, institutions and bases.",
    )
    amount = serializers.DecimalField(max_digits=16, decimal_places=2)


class ProgressAreaSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    level = serializers.CharField()


class ProgressSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    area = ProgressAreaSerializer()
    computed_at = serializers.DateTimeField(allow_null=True)
    stale = serializers.BooleanField(help_text="Older than twice the roll-up schedule, or never computed.")
    rows = ProgressRowSerializer(many=True, help_text="The area's own rows.")
    children = ProgressRowSerializer(many=True, help_text="The rows of the areas directly below.")


class ProgressView(APIView):
    """Roll-up rows of an area (the caller's own by default) and of the areas directly below it."""

    permission_classes = [IsAuthenticated, CanViewProgress]

    @extend_schema(
        parameters=[
            OpenApiParameter("year", int, required=True),
            OpenApiParameter("area", str, description="An area code; the caller's own area when left out."),
            OpenApiParameter(
                "benefit_type", str, description="A benefit type code; `none` for people out of poverty."
            ),
        ],
        responses={200: ProgressSerializer},
    )
    def get(self, request):
        params = request.query_params
        year = params.get("year", "")
        if not (year.isdigit() and len(year) == 4):
            raise ValidationError({"year": [_("Year: give a year as four digits, e.g. 2018.")]})
        code = params.get("area") or (request.user.area_id or "")
        area = get_visible_or_404(Area, request.user, code=code)
        benefit_type = params.get("benefit_type") or ALL
        if benefit_type == "none":
            benefit_type = HEADLINE
        elif benefit_type != ALL and not BenefitType.objects.filter(code=benefit_type).exists():
            raise ValidationError(
                {
                    "benefit_type": [
                        _("Benefit type: %(code)s is not a benefit type.") % {"code": benefit_type}
                    ]
                }
            )
        progress = area_progress(area=area, year=int(year), benefit_type=benefit_type)
        body = {
            "year": progress.year,
            "area": {"code": area.code, "name": area.name, "level": area.level},
            "computed_at": progress.computed_at,
            "stale": progress.stale,
            "rows": [_row(row) for row in progress.rows],
            "children": [_row(row) for row in progress.children],
        }
        return Response(ProgressSerializer(body).data)


ROW_FIELDS = tuple(ProgressRowSerializer().fields)


def _row(row) -> dict:
    return {name: getattr(row, name) for name in ROW_FIELDS}


urlpatterns = [path("progress/", ProgressView.as_view(), name="progress")]
