"""The eleven action measures of the 2018 plan, the benefit types under them with their standard amounts,
and the quota targets split from the province down to cities and counties."""

import pghistory
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from areas.scoping import scoped_queryset_class


class Unit(models.TextChoices):
    PERSON = "person", _("people")
    HOUSEHOLD = "household", _("households")
    INSTITUTION = "institution", _("institutions")
    BASE = "base", _("bases")


class Frequency(models.TextChoices):
    ONE_OFF = "one_off", _("one-off")
    MONTHLY = "monthly", _("monthly")
    YEARLY = "yearly", _("yearly")


class Measure(models.Model):
    code = models.CharField(_("code"), max_length=3, primary_key=True)  # M01 .. M11
    name = models.CharField(_("name"), max_length=100)
    short_name = models.CharField(_("short name"), max_length=30)

    class Meta:
        ordering = ["code"]
        verbose_name = _("measure")
        verbose_name_plural = _("measures")

    def __str__(self) -> str:
        return f"{self.code} {self.short_name}"


class BenefitType(models.Model):
    code = models.CharField(_("code"), max_length=30, primary_key=True)
    measure = models.ForeignKey(Measure, on_delete=models.PROTECT, related_name="benefit_types")
    name = models.CharField(_("name"), max_length=100)
    unit = models.CharField(_("counted in"), max_length=12, choices=Unit.choices)
    frequency = models.CharField(_("frequency"), max_length=10, choices=Frequency.choices)
    is_active = models.BooleanField(_("in use"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("benefit type")
        verbose_name_plural = _("benefit types")

    def __str__(self) -> str:
        return self.name


class Standard(models.Model):
    """A standard amount of a benefit type for a year (and a disability level, where they differ).
    Amounts are data entered by the province, never assumed."""

    benefit_type = models.ForeignKey(BenefitType, on_delete=models.PROTECT, related_name="standards")
    year = models.PositiveSmallIntegerField(_("year"))
    disability_level = models.PositiveSmallIntegerField(_("disability level"), null=True, blank=True)
    amount = models.DecimalField(_("amount (yuan)"), max_digits=10, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["benefit_type", "year", "disability_level"],
                name="standard_once_per_year_and_level",
                nulls_distinct=False,
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="standard_amount_not_negative"),
        ]
        verbose_name = _("standard amount")
        verbose_name_plural = _("standard amounts")

    def __str__(self) -> str:
        return f"{self.benefit_type_id} {self.year}: {self.amount}"


@pghistory.track(append_only=True)
class Target(models.Model):
    """How many the area is to reach in a year: of a benefit type, or people out of poverty (no type).
    A target split from a parent sits under it; the children never add up to more than the parent."""

    year = models.PositiveSmallIntegerField(_("year"))
    benefit_type = models.ForeignKey(
        BenefitType, on_delete=models.PROTECT, null=True, blank=True, related_name="targets"
    )
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("area"))
    quantity = models.PositiveIntegerField(_("quantity"))
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = scoped_queryset_class("area__code").as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["year", "benefit_type", "area"], name="target_once_per_area", nulls_distinct=False
            ),
        ]
        verbose_name = _("target")
        verbose_name_plural = _("targets")

    def __str__(self) -> str:
        return f"{self.year} {self.benefit_type_id or 'out-of-poverty'} {self.area_id}: {self.quantity}"

    @property
    def unit(self) -> str:
        return self.benefit_type.unit if self.benefit_type_id else Unit.PERSON
