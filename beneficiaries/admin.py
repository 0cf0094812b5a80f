from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from import_export.admin import ExportMixin
from import_export.formats.base_formats import CSV, XLSX

from areas.scoping import ScopedAdminMixin

from .models import Household, Person
from .resources import HouseholdResource, PersonExportResource
from .selectors import mask_id_number


class ReadOnlyAdmin(ScopedAdminMixin, ExportMixin, admin.ModelAdmin):
    """The registry is written through its pages, API and imports (services that validate, version and
    audit every change); the admin only looks, inside the user's area, and exports what it lists.

    Export only, of what the changelist lists: the export view starts from the changelist's queryset, so it
    keeps the area scope and the filters."""

    show_full_result_count = False
    export_formats = [XLSX, CSV]

    def has_export_permission(self, request):
        # Whoever may list the records may take them away; import-export's default is everyone.
        return self.has_view_permission(request)

    def get_valid_export_item_pks(self, request):
        # A POST naming items is checked against these; the library's default is every row of the table.
        return self.get_queryset(request).values_list("pk", flat=True)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Person)
class PersonAdmin(ReadOnlyAdmin):
    resource_classes = [PersonExportResource]
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
    resource_classes = [HouseholdResource]
    list_display = ["head_name", "county_code", "village_code", "poverty_status", "is_active"]
    list_filter = ["poverty_status", "is_active"]
