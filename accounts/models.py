from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from areas.models import AreaLevel
from areas.scoping import scoped_queryset_class


class Role(models.TextChoices):
    COUNTY_CLERK = "county_clerk", _("County clerk")
    COUNTY_SUPERVISOR = "county_supervisor", _("County supervisor")
    CITY_REVIEWER = "city_reviewer", _("City reviewer")
    PROVINCE_OFFICER = "province_officer", _("Province officer")
    SYSADMIN = "sysadmin", _("System administrator")


# The level of area each role works at.
ROLE_AREA_LEVEL = {
    Role.COUNTY_CLERK: AreaLevel.COUNTY,
    Role.COUNTY_SUPERVISOR: AreaLevel.COUNTY,
    Role.CITY_REVIEWER: AreaLevel.CITY,
    Role.PROVINCE_OFFICER: AreaLevel.PROVINCE,
    Role.SYSADMIN: AreaLevel.PROVINCE,
}


class ScopedUserManager(UserManager.from_queryset(scoped_queryset_class("area__code"))):
    pass


class User(AbstractUser):
    area = models.ForeignKey(
        "areas.Area",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        verbose_name=_("area"),
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, blank=True)

    objects = ScopedUserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def save(self, *args, **kwargs):
        # The administrator works in the admin with the permissions of the role, not as a superuser (who
        # would see every whole ID number in the province).
        self.is_staff = self.is_superuser or self.role == Role.SYSADMIN
        super().save(*args, **kwargs)
        update_fields = kwargs.get("update_fields")
        if update_fields is None or "role" in update_fields:
            from .roles import assign_role_group

            assign_role_group(self)

    def clean(self):
        super().clean()
        if not self.role:
            return
        expected = ROLE_AREA_LEVEL[Role(self.role)]
        if self.area is None or self.area.level != expected:
            raise ValidationError(
                {
                    "area": _("A %(role)s must belong to an area at %(level)s level.")
                    % {"role": Role(self.role).label, "level": AreaLevel(expected).label}
                }
            )
