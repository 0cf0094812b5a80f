"""What each role may do, as named Django permissions carried by one group per role.

Views and API endpoints ask for a permission (`permission_required = "areas.view_area"`), never for a
role name. Adding a capability to a role is a line here; `migrate` brings the groups up to date.
"""

from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.db import DEFAULT_DB_ALIAS

from .models import Role

PLAN_READ = (
    "programs.view_measure",
    "programs.view_benefittype",
    "programs.view_standard",
    "programs.view_target",
    "programs.view_eligibilitysetting",
    "programs.view_enrollment",
    "programs.view_facility",
    "programs.view_inspection",
    "programs.view_finding",
    "programs.view_rectification",
    "programs.view_evidence",
)
# Inspecting an area below and keeping its rectification ledger.
INSPECT = (
    "programs.add_inspection",
    "programs.change_inspection",
    "programs.add_finding",
    "programs.add_rectification",
    "programs.change_rectification",
    "programs.close_rectification",
    "programs.add_evidence",
)
REGISTRY_READ = (
    *PLAN_READ,
    "beneficiaries.view_person",
    "beneficiaries.view_household",
    "beneficiaries.view_transferrequest",
    "imports.view_importjob",
)
REGISTRY_WRITE = (
    *REGISTRY_READ,
    "beneficiaries.add_person",
    "beneficiaries.change_person",
    "beneficiaries.add_household",
    "beneficiaries.change_household",
    "beneficiaries.add_transferrequest",
    # Whole ID numbers are for the county that registers the person; above it, lists are enough.
    "beneficiaries.view_full_id_number",
    "imports.view_importjob",
    "imports.add_importjob",
    "imports.change_importjob",
    # Recording what people received, and the county's facilities.
    "programs.add_enrollment",
    "programs.change_enrollment",
    "programs.add_facility",
    "programs.change_facility",
    # Reporting progress on the county's rectification items, with evidence.
    "programs.change_rectification",
    "programs.add_evidence",
)

ROLE_PERMISSIONS: dict[Role, tuple[str, ...]] = {
    Role.COUNTY_CLERK: (
        "areas.view_area",
        *REGISTRY_WRITE,
    ),
    Role.COUNTY_SUPERVISOR: (
        "areas.view_area",
        "accounts.view_user",
        *REGISTRY_WRITE,
        # Deciding on a transfer into the county.
        "beneficiaries.change_transferrequest",
        # Approving enrolments (and overriding a failed eligibility rule with a reason).
        "programs.review_enrollment",
        "programs.change_eligibilitysetting",
        "programs.add_eligibilitysetting",
        # The county's self-checks.
        *INSPECT,
    ),
    Role.CITY_REVIEWER: (
        "areas.view_area",
        "accounts.view_user",
        *REGISTRY_READ,
        # Splitting the city's targets to its counties.
        "programs.change_target",
        *INSPECT,
    ),
    Role.PROVINCE_OFFICER: (
        "areas.view_area",
        "accounts.view_user",
        *REGISTRY_READ,
        "programs.add_target",
        "programs.change_target",
        # The standard amounts of each benefit type and year.
        "programs.add_standard",
        "programs.change_standard",
        *INSPECT,
    ),
    Role.SYSADMIN: (
        "areas.view_area",
        "accounts.view_user",
        "accounts.add_user",
        "accounts.change_user",
        "authtoken.view_token",
        "authtoken.delete_token",
        "axes.view_accessattempt",
        "axes.delete_accessattempt",
    ),
}


def group_name(role: Role) -> str:
    # The group carries the role's code so that renaming a label never orphans it.
    return f"role:{role.value}"


def _permissions(names: tuple[str, ...]) -> list[Permission]:
    found = {}
    for perm in Permission.objects.select_related("content_type").filter(
        content_type__app_label__in={n.split(".")[0] for n in names}
    ):
        found[f"{perm.content_type.app_label}.{perm.codename}"] = perm
    missing = sorted(set(names) - set(found))
    if missing:
        raise LookupError(f"Role permissions name unknown permissions: {', '.join(missing)}")
    return [found[name] for name in names]


def sync_role_groups(sender=None, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    """Make each role's group hold exactly the permissions listed above."""
    if sender is not None and sender.label != "accounts":
        return  # once per migrate run
    # Apps later in INSTALLED_APPS get their permissions after this signal: create them all now.
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    for role, names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name(role))
        group.permissions.set(_permissions(names))


def assign_role_group(user) -> None:
    """A user is in exactly the group of their role (and keeps any group that is not a role group)."""
    role_groups = Group.objects.filter(name__startswith="role:")
    user.groups.remove(*role_groups.exclude(name=group_name(Role(user.role))) if user.role else role_groups)
    if user.role:
        group, _ = Group.objects.get_or_create(name=group_name(Role(user.role)))
        user.groups.add(group)
