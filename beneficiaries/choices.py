from django.db import models
from django.utils.translation import gettext_lazy as _


class DisabilityCategory(models.IntegerChoices):
    """残疾类别: the 19th character of a disability certificate number."""

    VISUAL = 1, _("Visual")
    HEARING = 2, _("Hearing")
    SPEECH = 3, _("Speech")
    PHYSICAL = 4, _("Physical")
    INTELLECTUAL = 5, _("Intellectual")
    MENTAL = 6, _("Mental")
    MULTIPLE = 7, _("Multiple")


class DisabilityLevel(models.IntegerChoices):
    """残疾等级: the 20th character of a disability certificate number; 1 is the most severe."""

    LEVEL_1 = 1, _("Level 1 (most severe)")
    LEVEL_2 = 2, _("Level 2")
    LEVEL_3 = 3, _("Level 3")
    LEVEL_4 = 4, _("Level 4")


class Gender(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


def is_severe(level: int) -> bool:
    """重度残疾 is levels 1 and 2; policies (e.g. care subsidies) key on it."""
    return DisabilityLevel(level) <= DisabilityLevel.LEVEL_2
