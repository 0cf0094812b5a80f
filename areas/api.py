from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets

from poverty_relief.api import ModelPermissions

from .models import Area, AreaLevel
from .scoping import ScopedViewSetMixin


class AreaSerializer(serializers.ModelSerializer):
    parent = serializers.CharField(source="parent_id", read_only=True, allow_null=True)

    class Meta:
        model = Area
        fields = ["code", "name", "level", "parent", "is_province_managed", "is_non_administrative"]


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("level", str, enum=AreaLevel.values, description="Only areas of this level."),
            OpenApiParameter("parent", str, description="Only the children of this area code."),
        ]
    )
)
class AreaViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Areas inside the caller's own area. Filter with `?level=county` and `?parent=360700`."""

    queryset = Area.objects.all()
    serializer_class = AreaSerializer
    permission_classes = [ModelPermissions]
    lookup_field = "code"
    lookup_value_regex = r"\d{6}|\d{9}|\d{12}"

    def get_queryset(self):
        queryset = super().get_queryset().order_by("code")
        params = self.request.query_params
        if level := params.get("level"):
            queryset = queryset.filter(level=level)
        if parent := params.get("parent"):
            queryset = queryset.filter(parent_id=parent)
        return queryset
