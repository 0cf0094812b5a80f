from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from areas.scoping import ScopedAdminMixin

from .models import User


@admin.register(User)
class UserAdmin(ScopedAdminMixin, BaseUserAdmin):
    list_display = ["username", "first_name", "role", "area", "is_active", "last_login"]
    list_filter = ["role", "is_active"]
    list_select_related = ["area"]
    search_fields = ["username", "first_name", "area__name", "area__code"]
    raw_id_fields = ["area"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Role and area"), {"fields": ("role", "area")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        # Permissions come from the role; staff status too (see User.save).
        (_("Permissions"), {"fields": ("is_active",)}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "role", "area", "password1", "password2")}),
    )
