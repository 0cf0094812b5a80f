from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    permission: str | None = None
    staff_only: bool = False
    also: tuple[str, ...] = ()  # other first path segments that belong to the entry's section


# The menu, in order. An entry shows when the user holds its permission.
NAVIGATION = [
    NavItem(_("Home"), "home"),
    NavItem(_("Registry"), "registry:person-list", "beneficiaries.view_person", also=("exports",)),
    NavItem(
        _("Measures"),
        "programs:enrollment-list",
        "programs.view_enrollment",
        also=("facilities", "subsidies", "standards"),
    ),
    NavItem(_("Uploads from Excel"), "imports:list", "imports.view_importjob"),
    NavItem(
        _("Inspection ledger"),
        "programs:inspection-list",
        "programs.view_inspection",
        also=("rectifications",),
    ),
    NavItem(_("Targets"), "programs:target-list", "programs.view_target"),
    NavItem(_("Progress dashboards"), "reporting:home", "programs.view_target"),
    NavItem(_("Areas"), "areas:detail-own", "areas.view_area"),
    NavItem(_("Administration"), "admin:index", staff_only=True),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"navigation": []}
    items = []
    for item in NAVIGATION:
        if item.permission and not user.has_perm(item.permission):
            continue
        if item.staff_only and not user.is_staff:
            continue
        url = reverse(item.url_name)
        items.append(
            {
                "label": item.label,
                "url": url,
                # An entry is active in its whole section: /registry/households/ lights up the registry.
                "active": request.path == url
                or (url != "/" and _section(request.path) in (_section(url), *item.also)),
            }
        )
    return {"navigation": items}


def _section(path: str) -> str:
    return path.strip("/").split("/")[0]
