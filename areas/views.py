from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.http import Http404
from django.shortcuts import redirect
from django.views.generic import DetailView, View

from .models import Area, AreaLevel
from .scoping import ScopedObjectMixin
from .selectors import area_breadcrumbs, area_children_with_counts


class OwnAreaView(LoginRequiredMixin, PermissionRequiredMixin, View):
    permission_required = "areas.view_area"

    def get(self, request):
        if request.user.area is None:
            raise Http404
        return redirect("areas:detail", code=request.user.area.code)


class AreaDetailView(LoginRequiredMixin, PermissionRequiredMixin, ScopedObjectMixin, DetailView):
    permission_required = "areas.view_area"
    model = Area
    slug_field = "code"
    slug_url_kwarg = "code"
    template_name = "areas/area_detail.html"
    context_object_name = "area"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        area = self.object
        context["children"] = area_children_with_counts(area)
        context["breadcrumbs"] = area_breadcrumbs(area, self.request.user)
        context["levels"] = AreaLevel
        return context
