"""Measures, benefit types and targets for agency systems; a split is a POST of the child targets."""

from django.db.models import Sum
from django.db.models.functions import Coalesce
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from areas.scoping import ScopedViewSetMixin
from poverty_relief.api import ModelPermissions

from ..models import BenefitType, Measure, Target
from ..services import TargetError, target_remainder, target_split


class MeasureSerializer(serializers.ModelSerializer):
    class Meta:
        model = Measure
        fields = ["code", "short_name", "name"]


class BenefitTypeSerializer(serializers.ModelSerializer):
    class Meta:
        model = BenefitType
        fields = ["code", "measure", "name", "unit", "frequency", "is_active"]


class TargetSerializer(serializers.ModelSerializer):
    area_code = serializers.CharField(source="area_id")
    area_name = serializers.CharField(source="area.name")
    unit = serializers.CharField()
    allocated = serializers.SerializerMethodField()
    remaining = serializers.SerializerMethodField()

    class Meta:
        model = Target
        fields = [
            "id",
            "year",
            "benefit_type",
            "area_code",
            "area_name",
            "quantity",
            "unit",
            "parent",
            "allocated",
            "remaining",
        ]

    def get_allocated(self, target) -> int:
        # Lists annotate it in their one query; a single target asks.
        allocated = getattr(target, "allocated_total", None)
        return target_remainder(target).allocated if allocated is None else allocated

    def get_remaining(self, target) -> int:
        return target.quantity - self.get_allocated(target)


class SplitSerializer(serializers.Serializer):
    children = serializers.DictField(
        child=serializers.IntegerField(min_value=0), help_text="area code -> quantity"
    )


class MeasureViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Measure.objects.all()
    serializer_class = MeasureSerializer
    permission_classes = [ModelPermissions]
    pagination_class = None


class BenefitTypeViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = BenefitType.objects.select_related("measure")
    serializer_class = BenefitTypeSerializer
    permission_classes = [ModelPermissions]
    pagination_class = None


class SplitPermissions(ModelPermissions):
    perms_map = {**ModelPermissions.perms_map, "POST": ["%(app_label)s.change_%(model_name)s"]}


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("year", int),
            OpenApiParameter("area", str, description="Only this area's targets."),
            OpenApiParameter(
                "benefit_type", str, description="A benefit type code; `none` for people out of poverty."
            ),
        ]
    )
)
class TargetViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Targets of the caller's area and below, with what is allocated further down and what remains."""

    queryset = Target.objects.all()
    serializer_class = TargetSerializer
    permission_classes = [ModelPermissions]

    def get_queryset(self):
        targets = (
            super()
            .get_queryset()
            .select_related("area", "benefit_type")
            .annotate(allocated_total=Coalesce(Sum("children__quantity"), 0))
            .order_by("year", "benefit_type_id", "area_id")
        )
        params = self.request.query_params
        if year := params.get("year"):
            targets = targets.filter(year=year) if year.isdigit() else targets.none()
        if area := params.get("area"):
            targets = targets.filter(area_id=area)
        if benefit_type := params.get("benefit_type"):
            targets = (
                targets.filter(benefit_type__isnull=True)
                if benefit_type == "none"
                else targets.filter(benefit_type_id=benefit_type)
            )
        return targets

    @extend_schema(request=SplitSerializer, responses={200: TargetSerializer(many=True)})
    @action(detail=True, methods=["post"], permission_classes=[SplitPermissions])
    def split(self, request, pk=None):
        """Give parts of this target to the areas below (cities and province-managed counties for the
        province, counties for a city). More than the target holds is a 400 that names the remainder."""
        target = self.get_object()
        body = SplitSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            children = target_split(
                actor=request.user, target=target, allocations=body.validated_data["children"]
            )
        except TargetError as error:
            return Response({error.field or "detail": [error.message]}, status=status.HTTP_400_BAD_REQUEST)
        return Response(TargetSerializer(children, many=True).data)


def register(router: SimpleRouter) -> None:
    router.register("measures", MeasureViewSet, basename="measure")
    router.register("benefit-types", BenefitTypeViewSet, basename="benefit-type")
    router.register("targets", TargetViewSet, basename="target")
