from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from areas.scoping import ScopedAdminMixin

from .models import Household, Person
from .selectors import mask_id_number


class ReadOnlyAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """The registry is written through its pages, API and imports (services that validate, version and
    audit every change); the admin only looks, inside the user's area."""

    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Person)
class PersonAdmin(ReadOnlyAdmin):
    list_display = [
        "name", "masked_id_number", "county_code", "disability_category", "disability_level", "life_status",
    ]  # fmt: skip
    list_filter = ["life_status", "disability_category", "disability_level"]
    exclude = ["id_number", "certificate_number"]
    readonly_fields = ["masked_id_number"]

    @admin.display(description=_("ID number"))
    def masked_id_number(self, obj):
        return mask_id_number(obj.id_number)


@admin.register(Household)
class HouseholdAdmin(ReadOnlyAdmin):
    list_display = ["head_name", "county_code", "village_code", "poverty_status", "is_active"]
    list_filter = ["poverty_status", "is_active"]
