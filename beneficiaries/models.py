"""The registry: poor disabled people (贫困残疾人) and their households.

Every row carries the codes of its county, township and village; `visible_to(user)` is a prefix match on
the county code. Status changes are kept as dated rows so that "as of" a date can be answered; every
write to a person or household is also recorded by database triggers (django-pghistory). The triggers
fire once per statement over all its rows, so a bulk write of 50,000 people stays a bulk write.
"""

import pghistory
import pgtrigger
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from areas.scoping import scoped_queryset_class, user_scope_prefix

from .choices import DisabilityCategory, DisabilityLevel, Gender

phone_validator = RegexValidator(
    r"^(1\d{10}|0\d{2,3}-?\d{7,8})$", _("Enter a mobile number or a landline with area code.")
)


class PovertyStatus(models.TextChoices):
    NOT_OUT = "not_out", _("Not yet out of poverty")
    OUT = "out", _("Out of poverty")
    RETURNED = "returned", _("Back into poverty")
    NOT_REGISTERED = "not_registered", _("Not a registered poor household")


class PovertyCause(models.TextChoices):
    DISABILITY = "disability", _("Disability in the family")
    ILLNESS = "illness", _("Illness")
    EDUCATION = "education", _("Schooling costs")
    DISASTER = "disaster", _("Disaster")
    LAND = "land", _("Lack of land")
    WATER = "water", _("Lack of water")
    SKILLS = "skills", _("Lack of skills")
    LABOUR = "labour", _("Lack of labour")
    CAPITAL = "capital", _("Lack of capital")
    TRANSPORT = "transport", _("Poor transport")
    MOTIVATION = "motivation", _("Lack of drive")
    OTHER = "other", _("Other")


class Relation(models.TextChoices):
    HEAD = "head", _("Head (self)")
    SPOUSE = "spouse", _("Spouse")
    CHILD = "child", _("Child")
    PARENT = "parent", _("Parent")
    SIBLING = "sibling", _("Sibling")
    GRANDPARENT = "grandparent", _("Grandparent")
    GRANDCHILD = "grandchild", _("Grandchild")
    CHILD_IN_LAW = "child_in_law", _("Son- or daughter-in-law")
    OTHER = "other", _("Other relative")


class LifeStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    DECEASED = "deceased", _("Deceased")
    MOVED_OUT = "moved_out", _("Moved out")
    DUPLICATE = "duplicate", _("Duplicate record")


class Located(models.Model):
    """Where a record belongs: county, township and village codes, each inside the one before."""

    county_code = models.CharField(_("county"), max_length=6)
    township_code = models.CharField(_("township"), max_length=9)
    village_code = models.CharField(_("village"), max_length=12)

    class Meta:
        abstract = True


def located_constraints(prefix: str) -> list[models.CheckConstraint]:
    return [
        models.CheckConstraint(
            condition=Q(township_code__startswith=models.F("county_code"))
            & Q(village_code__startswith=models.F("township_code")),
            name=f"{prefix}_area_codes_nested",
        ),
    ]


@pghistory.track(append_only=True, level=pgtrigger.Statement)
class Household(Located):
    head_name = models.CharField(_("head of household"), max_length=50)
    size = models.PositiveSmallIntegerField(
        _("household size"), validators=[MinValueValidator(1), MaxValueValidator(30)]
    )
    poverty_status = models.CharField(_("poverty status"), max_length=16, choices=PovertyStatus.choices)
    exit_year = models.PositiveSmallIntegerField(_("year out of poverty"), null=True, blank=True)
    is_dibao = models.BooleanField(_("minimum living guarantee (低保)"), default=False)
    is_tekun = models.BooleanField(_("extreme-poverty support (特困)"), default=False)
    main_cause = models.CharField(
        _("main cause of poverty"), max_length=16, choices=PovertyCause.choices, blank=True
    )
    is_active = models.BooleanField(_("active"), default=True)
    deactivated_at = models.DateTimeField(_("deactivated at"), null=True, blank=True)
    deactivation_reason = models.CharField(_("reason for deactivation"), max_length=200, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = scoped_queryset_class("county_code").as_manager()

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        indexes = [
            models.Index(
                fields=["county_code", "id"],
                name="household_county_id_idx",
                opclasses=["varchar_pattern_ops", "int8_ops"],
            ),
            models.Index(fields=["village_code"], name="household_village_idx"),
        ]
        constraints = [
            *located_constraints("household"),
            models.CheckConstraint(
                condition=Q(poverty_status=PovertyStatus.OUT, exit_year__isnull=False)
                | (~Q(poverty_status=PovertyStatus.OUT) & Q(exit_year__isnull=True))
                | Q(poverty_status=PovertyStatus.RETURNED),
                name="household_exit_year_with_status",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.head_name}户"


class HouseholdStatus(models.Model):
    """The household's poverty registration as it stood from `effective_date` on."""

    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="statuses")
    effective_date = models.DateField(_("effective date"))
    poverty_status = models.CharField(_("poverty status"), max_length=16, choices=PovertyStatus.choices)
    exit_year = models.PositiveSmallIntegerField(_("year out of poverty"), null=True, blank=True)
    is_dibao = models.BooleanField(_("minimum living guarantee (低保)"), default=False)
    is_tekun = models.BooleanField(_("extreme-poverty support (特困)"), default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("household status")
        verbose_name_plural = _("household statuses")
        ordering = ["household", "effective_date", "id"]
        indexes = [models.Index(fields=["household", "effective_date"], name="household_status_date_idx")]

    def __str__(self) -> str:
        return f"{self.household_id} {self.poverty_status} {self.effective_date}"


@pghistory.track(append_only=True, level=pgtrigger.Statement)
class Person(Located):
    name = models.CharField(_("full name"), max_length=50)
    id_number = models.CharField(_("ID number"), max_length=18, unique=True)
    certificate_number = models.CharField(
        _("disability certificate number"), max_length=20, unique=True, null=True, blank=True
    )
    gender = models.CharField(_("gender"), max_length=1, choices=Gender.choices, editable=False)
    birth_date = models.DateField(_("birth date"), editable=False)
    disability_category = models.PositiveSmallIntegerField(
        _("disability category"), choices=DisabilityCategory.choices
    )
    disability_level = models.PositiveSmallIntegerField(
        _("disability level"), choices=DisabilityLevel.choices
    )
    household = models.ForeignKey(
        Household,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("household"),
    )
    relation_to_head = models.CharField(
        _("relation to the head"), max_length=16, choices=Relation.choices, blank=True
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True, validators=[phone_validator])
    # Facts the eligibility rules need that the certificate does not carry.
    is_employed = models.BooleanField(_("in work"), default=False, db_default=False)
    work_injury_nursing = models.BooleanField(
        _("receives work-injury nursing pay"), default=False, db_default=False
    )
    life_status = models.CharField(
        _("status"), max_length=16, choices=LifeStatus.choices, default=LifeStatus.ACTIVE
    )
    life_status_date = models.DateField(_("status since"), null=True, blank=True)
    life_status_reason = models.CharField(_("reason"), max_length=200, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = scoped_queryset_class("county_code").as_manager()

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        permissions = [("view_full_id_number", "Can see whole ID and certificate numbers")]
        indexes = [
            # Keyset pagination inside a county (or a city's prefix) in id order, at any depth.
            models.Index(
                fields=["county_code", "id"],
                name="person_county_id_idx",
                opclasses=["varchar_pattern_ops", "int8_ops"],
            ),
            models.Index(fields=["name"], name="person_name_prefix_idx", opclasses=["varchar_pattern_ops"]),
            models.Index(
                fields=["id_number"], name="person_id_prefix_idx", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(fields=["township_code", "id"], name="person_township_id_idx"),
            models.Index(fields=["village_code", "id"], name="person_village_id_idx"),
        ]
        constraints = [
            *located_constraints("person"),
            models.CheckConstraint(
                condition=Q(certificate_number__isnull=True)
                | Q(certificate_number__startswith=models.F("id_number")),
                name="person_certificate_starts_with_id",
            ),
            models.CheckConstraint(
                condition=Q(disability_category__gte=1, disability_category__lte=7),
                name="person_category_range",
            ),
            models.CheckConstraint(
                condition=Q(disability_level__gte=1, disability_level__lte=4), name="person_level_range"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PersonStatusChange(models.Model):
    """A dated change of a person's life status (deceased, moved out, duplicate, back to active)."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="status_changes")
    life_status = models.CharField(_("status"), max_length=16, choices=LifeStatus.choices)
    effective_date = models.DateField(_("effective date"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["person", "effective_date", "id"]

    def __str__(self) -> str:
        return f"{self.person_id} {self.life_status} {self.effective_date}"


class IdNumberView(models.Model):
    """Someone saw a person's whole ID number: who, whom, when."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    viewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    viewed_at = models.DateTimeField(auto_now_add=True, db_index=True)
    path = models.CharField(max_length=200)

    def __str__(self) -> str:
        return f"{self.viewer_id} saw {self.person_id} at {self.viewed_at}"


class RegistryExport(models.Model):
    """Someone took whole ID numbers of the county away as a workbook (the registry, or a list made from
    it such as a monthly subsidy list): who, what, when, how many."""

    exported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # What was taken: "registry", or e.g. "subsidy_list:2018-03".
    what = models.CharField(max_length=40, default="registry", db_default="registry")
    county_code = models.CharField(max_length=6)
    rows = models.PositiveIntegerField()
    exported_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.exported_by_id} exported {self.rows} rows of {self.county_code} at {self.exported_at}"


class TransferStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")


class TransferQuerySet(models.QuerySet):
    def visible_to(self, user) -> "TransferQuerySet":
        """Both the sending and the receiving side see a transfer."""
        prefix = user_scope_prefix(user)
        if prefix is None:
            return self.none()
        return self.filter(Q(from_county_code__startswith=prefix) | Q(to_county_code__startswith=prefix))


class TransferRequest(models.Model):
    """A person moving to another county: the receiving county accepts it (or not)."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="transfers")
    from_county_code = models.CharField(_("from county"), max_length=6)
    to_county_code = models.CharField(_("to county"), max_length=6)
    to_township_code = models.CharField(_("to township"), max_length=9)
    to_village_code = models.CharField(_("to village"), max_length=12)
    reason = models.CharField(_("reason"), max_length=200)
    status = models.CharField(
        _("status"), max_length=10, choices=TransferStatus.choices, default=TransferStatus.PENDING
    )
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = TransferQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["person"], condition=Q(status="pending"), name="one_pending_transfer_per_person"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person_id}: {self.from_county_code} -> {self.to_county_code} ({self.status})"
