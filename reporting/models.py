"""Roll-up tables: progress per year, area (village to province) and benefit type, recomputed from the
registry and the enrolments by `reporting.services.rollup_run`; pages and the API read only these.

Rows are written only where there is something to say (an achievement or a target); an area without a
row has achieved nothing and has no target. The headline row of an area and year (people out of
poverty) has no benefit type. Area names come from the area tree.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from areas.models import AreaLevel


class Progress(models.Model):
    year = models.PositiveSmallIntegerField(_("year"))
    area_code = models.CharField(_("area"), max_length=12)
    level = models.CharField(_("level"), max_length=10, choices=AreaLevel.choices)
    # The area above: a village's township, a county's city (a province-managed county's too), a city's
    # province; empty for the province.
    parent_code = models.CharField(max_length=12, blank=True)
    # Rows are derived data: no constraint, so that writing them never waits on the benefit types.
    benefit_type = models.ForeignKey(
        "programs.BenefitType",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("benefit type"),
    )
    target = models.PositiveIntegerField(_("target"), null=True, blank=True)
    allocated = models.PositiveIntegerField(_("split further down"), null=True, blank=True)
    # People, households or facilities by the benefit type's unit; people for the headline.
    achieved = models.PositiveIntegerField(_("achieved"), default=0)
    # What counts against this area's own target: a city's target leaves out its province-managed
    # counties (they take theirs from the province), so does this figure. Elsewhere equal to achieved.
    achieved_for_target = models.PositiveIntegerField(_("achieved against the target"), default=0)
    # Counted where it is a plain count: household-unit types (the achievement itself) and people out of
    # poverty (their households). Empty for person-unit types (a distinct count of the people's
    # households would cost more than the rest of the roll-up) and for institutions and bases.
    households = models.PositiveIntegerField(_("households reached"), null=True, blank=True)
    amount = models.DecimalField(_("amount (yuan)"), max_digits=16, decimal_places=2, default=0)
    # The start of the run that last changed the row's figures. A run writes only the rows whose figures
    # changed; how fresh a page is, is the time of the last run that covered it (RollupRun).
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("progress row")
        verbose_name_plural = _("progress rows")
        constraints = [
            # The one index: an area's children are one range of it (parent, year[, benefit type]), an
            # area's own row is found under its parent, and a county's subtree is a prefix of parent codes.
            models.UniqueConstraint(
                fields=["parent_code", "year", "benefit_type", "area_code"],
                name="progress_once_per_area",
                nulls_distinct=False,
                opclasses=["varchar_pattern_ops", "int2_ops", "varchar_pattern_ops", "varchar_pattern_ops"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} {self.area_code} {self.benefit_type_id or 'out-of-poverty'}: {self.achieved}"


class RollupTrigger(models.TextChoices):
    SCHEDULE = "schedule", _("schedule")
    CHANGE = "change", _("after a change")
    MANUAL = "manual", _("by hand")


class RollupRun(models.Model):
    """One roll-up that was written: all areas, or one county and the areas above it."""

    started_at = models.DateTimeField(_("started at"), db_index=True)
    finished_at = models.DateTimeField(_("finished at"))
    county_code = models.CharField(_("county"), max_length=6, blank=True)  # empty: the whole province
    rows = models.PositiveIntegerField(_("rows"))  # the rows of the areas it covered
    changed = models.PositiveIntegerField(_("rows changed"), default=0)  # inserted, updated or deleted
    trigger = models.CharField(_("trigger"), max_length=10, choices=RollupTrigger.choices)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("roll-up run")
        verbose_name_plural = _("roll-up runs")

    def __str__(self) -> str:
        return f"{self.county_code or 'all'} {self.started_at:%Y-%m-%d %H:%M:%S}: {self.rows} rows"


class ProgressMonth(models.Model):
    """What a province, city or county achieved in one month of a year, and up to that month's end:
    people out of poverty (no benefit type) and each benefit type, as `Progress` counts them, dated by
    `reporting.trend`. A row only for a month in which something was achieved; the months between carry
    the cumulative figure forward. At the last row of a year the cumulative figures equal the year's
    `Progress.achieved` and `achieved_for_target` of the same area and type. Townships and villages
    have no rows: a trend of a few people a month says little, and their rows would outnumber all the
    others many times over."""

    year = models.PositiveSmallIntegerField(_("year"))
    month = models.PositiveSmallIntegerField(_("month"))
    area_code = models.CharField(_("area"), max_length=12)
    level = models.CharField(_("level"), max_length=10, choices=AreaLevel.choices)
    # Derived data, as in Progress: no constraint on the benefit type.
    benefit_type = models.ForeignKey(
        "programs.BenefitType",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("benefit type"),
    )
    achieved = models.PositiveIntegerField(_("achieved in the month"), default=0)
    cumulative = models.PositiveIntegerField(_("achieved to the month's end"), default=0)
    # As Progress.achieved_for_target: a city's leaves out its province-managed counties.
    cumulative_for_target = models.PositiveIntegerField(
        _("achieved against the target to the month's end"), default=0
    )
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("monthly progress row")
        verbose_name_plural = _("monthly progress rows")
        constraints = [
            # The one index: a page reads an area's year (one range of it), a county run its three areas and
            # its city's counties (a prefix of codes).
            models.UniqueConstraint(
                fields=["area_code", "year", "benefit_type", "month"],
                name="progress_month_once_per_area",
                nulls_distinct=False,
                opclasses=["varchar_pattern_ops", "int2_ops", "varchar_pattern_ops", "int2_ops"],
            ),
            models.CheckConstraint(
                condition=models.Q(month__gte=1, month__lte=12), name="progress_month_1_12"
            ),
        ]

    def __str__(self) -> str:
        kind = self.benefit_type_id or "out-of-poverty"
        return f"{self.year}-{self.month:02d} {self.area_code} {kind}: {self.cumulative}"
