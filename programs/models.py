"""The eleven action measures of the 2018 plan, the benefit types under them with their standard amounts,
and the quota targets split from the province down to cities and counties."""

import uuid

import pghistory
import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from areas.scoping import scoped_queryset_class
from beneficiaries.models import Located, located_constraints


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


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(), append_only=True)
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


@pghistory.track(append_only=True)
class EligibilitySetting(models.Model):
    """What a county decides for itself about eligibility (国发〔2015〕52号 lets it extend the subsidies).
    A county without a row uses the defaults below."""

    county = models.OneToOneField(
        "areas.Area", on_delete=models.PROTECT, primary_key=True, related_name="+", verbose_name=_("county")
    )
    living_extends_to_low_income = models.BooleanField(
        _("living subsidy extended to registered poor and 特困 households"), default=False
    )
    nursing_extends_to_level_3_4 = models.BooleanField(
        _("nursing subsidy extended to level 3-4 intellectual and mental disability"), default=False
    )
    working_age_min = models.PositiveSmallIntegerField(_("working age from"), default=16)
    working_age_max = models.PositiveSmallIntegerField(_("working age to"), default=59)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(working_age_min__lte=models.F("working_age_max")),
                name="eligibility_working_age_ordered",
            ),
        ]
        verbose_name = _("county eligibility setting")
        verbose_name_plural = _("county eligibility settings")

    def __str__(self) -> str:
        return str(self.county_id)


class FacilityKind(models.TextChoices):
    SHELTERED = "sheltered", _("sheltered-employment institution")
    CARE = "care", _("care institution")
    BASE = "base", _("poverty-relief base")


@pghistory.track(append_only=True)
class Facility(Located):
    """A base or institution: where people are employed, cared for or trained. The people it serves are
    the enrolments that name it; a recognition (e.g. as a demonstration institution in 2018) is an
    enrolment of the facility itself under an institution or base benefit type."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=12, choices=FacilityKind.choices)
    capacity = models.PositiveIntegerField(_("capacity"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    operator = models.CharField(_("operated by"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    is_active = models.BooleanField(_("in operation"), default=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = scoped_queryset_class("county_code").as_manager()

    class Meta:
        constraints = [
            *located_constraints("facility"),
            models.UniqueConstraint(fields=["county_code", "name"], name="facility_name_once_per_county"),
        ]
        verbose_name = _("facility")
        verbose_name_plural = _("facilities")

    def __str__(self) -> str:
        return self.name


class EnrollmentStatus(models.TextChoices):
    APPLIED = "applied", _("Applied")
    APPROVED = "approved", _("Approved")
    ACTIVE = "active", _("On the roll / paid")
    STOPPED = "stopped", _("Stopped")
    REJECTED = "rejected", _("Not approved")


#: Records that count as achieved for a year: approved, on the roll, or stopped after having been so.
ACHIEVED_STATUSES = (EnrollmentStatus.APPROVED, EnrollmentStatus.ACTIVE, EnrollmentStatus.STOPPED)


@pghistory.track(append_only=True, level=pgtrigger.Statement)
class Enrollment(Located):
    """What one person, household or facility received under a benefit type in a year (受益记录).

    Exactly one of person / household / facility is the recipient, by the benefit type's unit; a
    person's record also carries the person's household, so households reached can be counted.
    One live record per recipient, benefit type and year (a rejected application does not count),
    so achievements are plain counts."""

    benefit_type = models.ForeignKey(
        BenefitType, on_delete=models.PROTECT, related_name="enrollments", verbose_name=_("benefit type")
    )
    year = models.PositiveSmallIntegerField(_("year"))
    person = models.ForeignKey(
        "beneficiaries.Person",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="enrollments",
        verbose_name=_("person"),
    )
    household = models.ForeignKey(
        "beneficiaries.Household",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="enrollments",
        verbose_name=_("household"),
    )
    recipient_unit = models.CharField(_("recipient"), max_length=12, choices=Unit.choices)
    facility = models.ForeignKey(
        Facility,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="enrollments",
        verbose_name=_("facility"),
    )
    start_date = models.DateField(_("from"))
    end_date = models.DateField(_("until"), null=True, blank=True)
    amount = models.DecimalField(_("amount (yuan)"), max_digits=12, decimal_places=2, null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=EnrollmentStatus.choices, default=EnrollmentStatus.APPLIED
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    # Eligibility overridden by a county supervisor: the conditions that failed and why it was allowed.
    override_reason = models.CharField(_("reason for override"), max_length=500, blank=True)
    overridden_conditions = models.JSONField(_("conditions overridden"), default=list, blank=True)
    overridden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    applied_at = models.DateTimeField(_("applied at"), default=timezone.now)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    review_note = models.CharField(_("review note"), max_length=200, blank=True)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    activated_at = models.DateTimeField(_("on the roll since"), null=True, blank=True)
    stopped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    stopped_at = models.DateTimeField(_("stopped at"), null=True, blank=True)
    stop_reason = models.CharField(_("reason for stopping"), max_length=200, blank=True)
    import_job = models.ForeignKey(
        "imports.ImportJob", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = scoped_queryset_class("county_code").as_manager()

    class Meta:
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        permissions = [("review_enrollment", "Can approve, reject and override enrolments")]
        indexes = [
            models.Index(
                fields=["county_code", "id"],
                name="enrollment_county_id_idx",
                opclasses=["varchar_pattern_ops", "int8_ops"],
            ),
            models.Index(fields=["year", "benefit_type", "status"], name="enrollment_year_type_idx"),
            models.Index(fields=["person", "year"], name="enrollment_person_year_idx"),
            models.Index(fields=["household", "benefit_type"], name="enrollment_household_type_idx"),
            models.Index(fields=["facility"], name="enrollment_facility_idx"),
            # The roll-up's per-village counts read this index alone, in its order (no sort, no hash).
            models.Index(
                fields=["village_code", "year", "benefit_type"],
                include=["status", "recipient_unit", "amount"],
                name="enrollment_rollup_idx",
            ),
        ]
        constraints = [
            *located_constraints("enrollment"),
            models.CheckConstraint(
                condition=(
                    Q(recipient_unit=Unit.PERSON, person__isnull=False)
                    | Q(recipient_unit=Unit.HOUSEHOLD, person__isnull=True, household__isnull=False)
                    | Q(
                        recipient_unit__in=[Unit.INSTITUTION, Unit.BASE],
                        person__isnull=True,
                        household__isnull=True,
                        facility__isnull=False,
                    )
                ),
                name="enrollment_recipient_matches_unit",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="enrollment_dates_ordered",
            ),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0), name="enrollment_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=~Q(override_reason="") | Q(overridden_by__isnull=True),
                name="enrollment_override_has_reason",
            ),
            # The same benefit twice in a year for one recipient is refused by the database as well.
            models.UniqueConstraint(
                fields=["person", "benefit_type", "year"],
                condition=Q(recipient_unit=Unit.PERSON) & ~Q(status=EnrollmentStatus.REJECTED),
                name="enrollment_person_once_a_year",
            ),
            models.UniqueConstraint(
                fields=["household", "benefit_type", "year"],
                condition=Q(recipient_unit=Unit.HOUSEHOLD) & ~Q(status=EnrollmentStatus.REJECTED),
                name="enrollment_household_once_a_year",
            ),
            models.UniqueConstraint(
                fields=["facility", "benefit_type", "year"],
                condition=Q(recipient_unit__in=[Unit.INSTITUTION, Unit.BASE])
                & ~Q(status=EnrollmentStatus.REJECTED),
                name="enrollment_facility_once_a_year",
            ),
            # Barrier-free modification is once per household, in any year.
            models.UniqueConstraint(
                fields=["household", "benefit_type"],
                condition=Q(benefit_type="M11-BARRIER-FREE") & ~Q(status=EnrollmentStatus.REJECTED),
                name="enrollment_barrier_free_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.benefit_type_id} {self.year} #{self.pk}"


class InspectionKind(models.TextChoices):
    SELF_CHECK = "self_check", _("self-check")
    SPOT_CHECK = "spot_check", _("spot check")
    JOINT_RESEARCH = "joint_research", _("joint research")


@pghistory.track(append_only=True)
class Inspection(models.Model):
    """An inspection (督查) of an area: a county's self-check, a spot check from above, joint research."""

    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("area"))
    kind = models.CharField(_("kind"), max_length=16, choices=InspectionKind.choices)
    date = models.DateField(_("date"))
    team = models.CharField(_("team"), max_length=200)
    subject = models.CharField(_("subject"), max_length=200)
    summary = models.TextField(_("summary"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = scoped_queryset_class("area__code").as_manager()

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")

    def __str__(self) -> str:
        return f"{self.date} {self.subject}"


@pghistory.track(append_only=True)
class Finding(models.Model):
    inspection = models.ForeignKey(Inspection, on_delete=models.PROTECT, related_name="findings")
    description = models.TextField(_("finding"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = scoped_queryset_class("inspection__area__code").as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name = _("finding")
        verbose_name_plural = _("findings")

    def __str__(self) -> str:
        return self.description[:50]


class RectificationStatus(models.TextChoices):
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    CLOSED = "closed", _("Closed")


@pghistory.track(append_only=True)
class Rectification(models.Model):
    """An item of the rectification ledger (整改台帐): what must be fixed, by whom, by when."""

    finding = models.ForeignKey(Finding, on_delete=models.PROTECT, related_name="rectifications")
    area = models.ForeignKey("areas.Area", on_delete=models.PROTECT, related_name="+", verbose_name=_("area"))
    issue = models.TextField(_("issue"))
    responsible_unit = models.CharField(_("responsible unit"), max_length=100)
    deadline = models.DateField(_("deadline"))
    status = models.CharField(
        _("status"), max_length=12, choices=RectificationStatus.choices, default=RectificationStatus.OPEN
    )
    progress_note = models.TextField(_("progress"), blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closing_note = models.TextField(_("how it was rectified"), blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = scoped_queryset_class("area__code").as_manager()

    class Meta:
        ordering = ["deadline", "id"]
        permissions = [("close_rectification", "Can close a rectification item")]
        indexes = [models.Index(fields=["status", "deadline"], name="rectification_open_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=RectificationStatus.CLOSED)
                | (Q(closed_by__isnull=False) & Q(closed_at__isnull=False)),
                name="rectification_closed_has_who_and_when",
            ),
        ]
        verbose_name = _("rectification item")
        verbose_name_plural = _("rectification items")

    def __str__(self) -> str:
        return self.issue[:50]


def evidence_path(instance, filename: str) -> str:
    # The stored name is the row's; the uploaded name is kept as data, never used as a path.
    return f"evidence/{instance.rectification_id}/{uuid.uuid4().hex}"


class Evidence(models.Model):
    """A file that shows a rectification was done (photo, scanned notice, PDF)."""

    rectification = models.ForeignKey(Rectification, on_delete=models.PROTECT, related_name="evidence")
    file = models.FileField(_("file"), upload_to=evidence_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    objects = scoped_queryset_class("rectification__area__code").as_manager()

    class Meta:
        ordering = ["id"]
        verbose_name = _("evidence file")
        verbose_name_plural = _("evidence files")

    def __str__(self) -> str:
        return self.original_name
