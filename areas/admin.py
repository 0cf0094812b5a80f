from django.contrib import admin

from .models import Area
from .scoping import ScopedAdminMixin


@admin.register(Area)
class AreaAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent", "is_province_managed", "is_non_administrative"]
    list_filter = ["level", "is_province_managed", "is_non_administrative"]
    search_fields = ["code", "name"]
    readonly_fields = ["code", "prefix"]
    raw_id_fields = ["parent"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False  # the tree comes from the official lists (manage.py load_areas)

    def has_delete_permission(self, request, obj=None):
        return False
