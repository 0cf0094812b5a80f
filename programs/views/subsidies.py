"""The monthly list of the two subsidies: the page and its Excel export."""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from areas.models import Area, AreaLevel
from beneficiaries.models import IdNumberView, RegistryExport
from beneficiaries.views.common import FULL_ID
from poverty_relief.responses import xlsx_response

from ..subsidies import (
    FIRST_YEAR,
    LAST_YEAR,
    READ,
    monthly_subsidy_list,
    parse_month,
    subsidy_workbook,
    visible_county,
)

# Rows shown on one page; the totals above cover the whole list, and the .xlsx holds every row.
PAGE_SIZE = 200


@login_required
@permission_required(READ, raise_exception=True)
@require_GET
def subsidy_list(request):
    user = request.user
    county = visible_county(user, request.GET.get("county"))
    today = timezone.localdate()
    raw_month = request.GET.get("month")
    chosen = parse_month(raw_month) if raw_month else (today.year, today.month)
    context = {
        "county": county,
        "counties": [] if user.area.level == AreaLevel.COUNTY else Area.objects.visible_to(user).counties(),
        "month_value": f"{chosen[0]:04d}-{chosen[1]:02d}" if chosen else raw_month,
        "month_error": None if chosen else _("Month: choose a month, such as 2018-03."),
        "may_see_whole": user.has_perm(FULL_ID),
    }
    if county is not None and chosen is not None:
        subsidies = monthly_subsidy_list(county.code, *chosen, user=user)
        page = Paginator(subsidies.rows, PAGE_SIZE).get_page(request.GET.get("page"))
        whole = context["may_see_whole"] and request.GET.get("ids") == "full"
        if whole:
            # Each person whose whole number was shown is recorded, as the registry's detail page does.
            IdNumberView.objects.bulk_create(
                IdNumberView(person_id=pk, viewer=user, path=request.get_full_path()[:200])
                for pk in {row.person_id for row in page.object_list}
            )
        export = reverse(
            "programs:subsidy-export",
            kwargs={"county": county.code, "year": f"{chosen[0]:04d}", "month": f"{chosen[1]:02d}"},
        )
        query = urlencode({k: v for k, v in request.GET.items() if k != "page" and v})
        context.update(
            {"list": subsidies, "page": page, "query": query, "whole": whole, "export_url": export}
        )
    return render(request, "programs/subsidies/list.html", context)


@login_required
@permission_required(READ, raise_exception=True)
@require_GET
def subsidy_export(request, county: str, year: int, month: int):
    area = visible_county(request.user, county)
    if area is None or not (FIRST_YEAR <= year <= LAST_YEAR and 1 <= month <= 12):
        raise Http404
    subsidies = monthly_subsidy_list(area.code, year, month, user=request.user)
    whole = request.user.has_perm(FULL_ID)
    content = subsidy_workbook(subsidies, whole_numbers=whole, made_on=timezone.localdate())
    if whole:
        # Whole numbers leave the system: recorded like the registry export.
        RegistryExport.objects.create(
            exported_by=request.user,
            what=f"subsidy_list:{year}-{month:02d}",
            county_code=area.code,
            rows=len(subsidies.rows),
        )
    return xlsx_response(content, subsidies.filename)


urlpatterns = [
    path("subsidies/", subsidy_list, name="subsidy-list"),
    path("subsidies/<str:county>/<int:year>-<int:month>.xlsx", subsidy_export, name="subsidy-export"),
]
