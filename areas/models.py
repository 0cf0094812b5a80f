from django.db import models
from django.utils.translation import gettext_lazy as _

from .scoping import scoped_queryset_class

PROVINCE_CODE = "360000"


class AreaLevel(models.TextChoices):
    PROVINCE = "province", _("Province")
    CITY = "city", _("City")
    COUNTY = "county", _("County")
    TOWNSHIP = "township", _("Township")
    VILLAGE = "village", _("Village")


# How many leading digits of an area's code its descendants share.
PREFIX_LENGTH = {
    AreaLevel.PROVINCE: 2,
    AreaLevel.CITY: 4,
    AreaLevel.COUNTY: 6,
    AreaLevel.TOWNSHIP: 9,
    AreaLevel.VILLAGE: 12,
}


class AreaQuerySet(scoped_queryset_class("code")):
    def subtree(self, area: "Area") -> "AreaQuerySet":
        """The area and everything under it: a prefix match on the code."""
        return self.filter(code__startswith=area.prefix)

    def counties(self) -> "AreaQuerySet":
        return self.filter(level=AreaLevel.COUNTY)


class Area(models.Model):
    """A division of Jiangxi: province, city (设区市), county (县/市/区), township (乡/镇/街道), village.

    `code` is the official code (GB/T 2260 to the county, then NBS statistical codes); every descendant's
    code starts with `prefix`, so "everything under X" is `code__startswith=X.prefix`.
    """

    code = models.CharField(_("code"), max_length=12, primary_key=True)
    name = models.CharField(_("name"), max_length=64)
    level = models.CharField(_("level"), max_length=10, choices=AreaLevel.choices)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent"),
    )
    prefix = models.CharField(_("code prefix"), max_length=12, unique=True, editable=False)
    is_province_managed = models.BooleanField(
        _("province-managed county"),
        default=False,
        help_text=_("A county-level unit that reports to the province directly (省直管县)."),
    )
    is_non_administrative = models.BooleanField(
        _("non-administrative unit"),
        default=False,
        help_text=_(
            "A township-level unit that is a development zone, farm or similar, not a real township."
        ),
    )

    objects = AreaQuerySet.as_manager()

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["code"]
        indexes = [
            models.Index(fields=["code"], name="area_code_prefix_idx", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["level", "code"], name="area_level_code_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_county(self) -> bool:
        return self.level == AreaLevel.COUNTY

    @property
    def is_city(self) -> bool:
        return self.level == AreaLevel.CITY

    @property
    def is_province(self) -> bool:
        return self.level == AreaLevel.PROVINCE

    def ancestors(self) -> list["Area"]:
        """From the province down to the parent, in one query."""
        codes = [
            ancestor_code(self.code, level) for level in AreaLevel if PREFIX_LENGTH[level] < len(self.prefix)
        ]
        found = {a.code: a for a in Area.objects.filter(code__in=codes)}
        return [found[c] for c in codes if c in found]

    def contains(self, code: str) -> bool:
        return code.startswith(self.prefix)


def ancestor_code(code: str, level: AreaLevel) -> str:
    """The code of the area at `level` that contains `code` (e.g. 360781 -> city 360700)."""
    length = PREFIX_LENGTH[level]
    official_length = 6 if length <= 6 else length
    return code[:length].ljust(official_length, "0")


def level_of(code: str) -> AreaLevel:
    if len(code) == 12:
        return AreaLevel.VILLAGE
    if len(code) == 9:
        return AreaLevel.TOWNSHIP
    if len(code) != 6:
        raise ValueError(f"not an area code: {code!r}")
    if code[2:] == "0000":
        return AreaLevel.PROVINCE
    if code[4:] == "00":
        return AreaLevel.CITY
    return AreaLevel.COUNTY


def prefix_of(code: str) -> str:
    return code[: PREFIX_LENGTH[level_of(code)]]
