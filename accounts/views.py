from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import render

from areas.models import Area, AreaLevel

from .forms import LoginForm
from .models import Role


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


HOME_TEMPLATES = {
    Role.COUNTY_CLERK: "accounts/home_county.html",
    Role.COUNTY_SUPERVISOR: "accounts/home_county.html",
    Role.CITY_REVIEWER: "accounts/home_city.html",
    Role.PROVINCE_OFFICER: "accounts/home_province.html",
    Role.SYSADMIN: "accounts/home_province.html",
}


@login_required
def home(request):
    user = request.user
    area = user.area
    context = {"area": area}
    if area is None or not user.role:
        return render(request, "accounts/home_unassigned.html", context)
    areas = Area.objects.visible_to(user)
    context["children"] = Area.objects.filter(parent=area).order_by("code")
    below = [AreaLevel.TOWNSHIP, AreaLevel.VILLAGE]
    if not area.is_county:
        below.insert(0, AreaLevel.COUNTY)
    counts = dict(areas.filter(level__in=below).values_list("level").annotate(n=Count("code")))
    context["level_counts"] = {level: counts.get(level, 0) for level in below}
    if area.is_province:
        context["province_managed"] = areas.filter(is_province_managed=True).select_related("parent")
    return render(request, HOME_TEMPLATES[Role(user.role)], context)
