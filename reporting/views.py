"""Progress dashboards of the province, a city, a county and a township: read from the roll-up tables only.

Every area inside the user's own has a dashboard (another area is 404). The province's shows a map of the
cities; each page ranks the areas below by completion of the chosen target and links down to theirs.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from kombu.exceptions import OperationalError

from areas.models import PROVINCE_CODE, Area, AreaLevel
from areas.scoping import get_visible_or_404
from poverty_relief.health import redis_answers
from poverty_relief.responses import xlsx_response
from programs.models import BenefitType

from .exports import progress_table_workbook
from .ledger import ledger_workbook
from .selectors import ALL, TREND_LEVELS, area_progress, area_trend, rollup_interval

PERMISSION = "programs.view_target"  # as the progress API: every registry role, not the administrator
YEARS = range(2018, 2021)
#: Levels whose areas have a dashboard of their own (villages are the rows of a township's).
DRILLABLE = (AreaLevel.PROVINCE, AreaLevel.CITY, AreaLevel.COUNTY, AreaLevel.TOWNSHIP)


def _year(request) -> int:
    raw = request.GET.get("year", "")
    return int(raw) if raw.isdigit() and int(raw) in YEARS else YEARS[0]


def can_recompute(user) -> bool:
    """The provincial office asks for a whole roll-up now (the schedule does it every 10 minutes)."""
    return bool(user.area_id == PROVINCE_CODE and user.has_perm("programs.add_target"))


def _percent(row) -> int | None:
    return None if row.completion is None else round(row.completion * 100)


@login_required
@permission_required(PERMISSION, raise_exception=True)
@require_GET
def dashboard_home(request):
    if request.user.area_id is None:
        raise PermissionDenied
    return redirect("reporting:dashboard", code=request.user.area_id)


@login_required
@permission_required(PERMISSION, raise_exception=True)
@require_GET
def dashboard(request, code: str):
    area = get_visible_or_404(Area, request.user, code=code)
    if area.level not in DRILLABLE:
        return redirect(f"{reverse('reporting:dashboard', args=[area.parent_id])}?year={_year(request)}")
    year = _year(request)
    progress = area_progress(area=area, year=year, benefit_type=ALL)
    names = dict(BenefitType.objects.values_list("code", "name"))
    chosen = request.GET.get("benefit_type") or ""
    if chosen not in names:
        chosen = ""
    chosen_key = chosen or None
    own = {row.benefit_type: row for row in progress.rows}
    headline = _("People out of poverty")
    cards = [
        {"row": row, "name": names.get(row.benefit_type, headline), "percent": _percent(row)}
        for row in progress.rows
        if row.target or row.benefit_type is None
    ]
    measures = [
        {"row": row, "name": names[row.benefit_type], "percent": _percent(row)}
        for row in progress.rows
        if row.benefit_type is not None
    ]
    children = sorted(
        (
            {"row": row, "percent": _percent(row), "drill": row.level in DRILLABLE}
            for row in progress.children
            if row.benefit_type == chosen_key
        ),
        key=lambda c: (-(c["row"].completion or -1), -c["row"].achieved, c["row"].area_code),
    )
    chart = {
        "level": area.level,
        "unit": own[chosen_key].unit if chosen_key in own else "person",
        "areas": [
            {
                "code": c["row"].area_code,
                "name": c["row"].area_name,
                "achieved": c["row"].achieved,
                "target": c["row"].target,
                "percent": c["percent"],
            }  # fmt: skip
            for c in children
        ],
    }
    context = {
        "area": area,
        "year": year,
        "years": YEARS,
        "progress": progress,
        "cards": cards,
        "measures": measures,
        "children": children,
        "chosen": chosen,
        "chosen_name": names.get(chosen, _("People out of poverty")),
        "choices": [(row.benefit_type, names[row.benefit_type]) for row in progress.rows if row.benefit_type],
        "chart": chart,
        "trend": _trend_chart(progress, cards, chosen_key) if area.level in TREND_LEVELS else None,
        "trail": _trail(request.user, area),
        "can_recompute": can_recompute(request.user),
        "interval_minutes": int(rollup_interval().total_seconds() // 60),
        "queue_down": not redis_answers(),
    }
    return render(request, "reporting/dashboard.html", context)


def _months_passed(year: int) -> int:
    """How many months of the year to draw: none of a year to come, up to this month of this one."""
    today = timezone.localdate()
    return 12 if year < today.year else today.month if year == today.year else 0


def _trend_chart(progress, cards: list[dict], chosen: str | None) -> dict:
    """The monthly chart's data: for the headline and each measure with a target (the cards), what was
    achieved against the target up to each month's end (as the card counts it), and the target. The
    page shows the headline and the measure chosen for the areas below; the legend adds the others."""
    trend = area_trend(progress=progress)
    shown = _months_passed(progress.year)
    series = []
    for card in cards:
        row = card["row"]
        if row.benefit_type is not None and not row.target:
            continue
        months = trend.get(row.benefit_type)
        series.append(
            {
                "name": card["name"],
                "headline": row.benefit_type is None,
                "selected": row.benefit_type in (None, chosen),
                "unit": row.unit,
                "target": row.target,
                "values": list(months.cumulative_for_target[:shown]) if months else [0] * shown,
            }
        )
    return {
        "months": [_("Month %(month)d") % {"month": month} for month in range(1, 13)],
        "shown": shown,
        "target_label": _("Target: %(target)s"),
        "series": series,
    }


def _trail(user, area: Area) -> list[Area]:
    """The areas from the user's own down to this one, for the breadcrumbs."""
    trail, current = [], area
    while current is not None:
        trail.append(current)
        if current.code == user.area_id:
            break
        current = current.parent
    return trail[::-1]


@login_required
@permission_required(PERMISSION, raise_exception=True)
@require_GET
def dashboard_table(request, code: str):
    """The table of the areas below, for the chosen target, as .xlsx."""
    area = get_visible_or_404(Area, request.user, code=code)
    year = _year(request)
    names = dict(BenefitType.objects.values_list("code", "name"))
    chosen = request.GET.get("benefit_type") or ""
    chosen = chosen if chosen in names else None
    progress = area_progress(area=area, year=year, benefit_type=chosen)
    title = _("%(area)s %(year)s progress: %(target)s") % {
        "area": area.name, "year": year, "target": names.get(chosen, _("People out of poverty"))}  # fmt: skip
    content = progress_table_workbook(title=title, own=progress.rows, children=progress.children,
                                      computed_at=progress.computed_at)  # fmt: skip
    return xlsx_response(content, f"{title}.xlsx")


@login_required
@permission_required(PERMISSION, raise_exception=True)
@require_GET
def dashboard_ledger(request, code: str):
    """The work ledger (工作台帐) of the area and year: a summary sheet and a sheet per measure."""
    area = get_visible_or_404(Area, request.user, code=code)
    year = _year(request)
    content = ledger_workbook(area_progress(area=area, year=year, benefit_type=ALL))
    name = _("%(area)s %(year)s work ledger") % {"area": area.name, "year": year}
    return xlsx_response(content, f"{name}.xlsx")


@login_required
@require_POST
def recompute(request):
    if not can_recompute(request.user):
        raise PermissionDenied
    from .models import RollupTrigger
    from .tasks import rollup

    try:
        rollup.apply_async(kwargs={"trigger": RollupTrigger.MANUAL})
    except OperationalError:  # the broker is down: the page says so, nothing else is lost
        messages.error(request, _("The roll-up could not be queued (the task queue is down). Try later."))
    else:
        messages.success(request, _("A roll-up is queued; the figures change when it has run."))
    back = request.POST.get("next") or ""
    return redirect(back if back.startswith("/progress/") and "//" not in back else "reporting:home")


app_name = "reporting"
urlpatterns = [
    path("progress/", dashboard_home, name="home"),
    path("progress/recompute/", recompute, name="recompute"),
    path("progress/<str:code>/", dashboard, name="dashboard"),
    path("progress/<str:code>/table.xlsx", dashboard_table, name="table"),
    path("progress/<str:code>/ledger.xlsx", dashboard_ledger, name="ledger"),
]
