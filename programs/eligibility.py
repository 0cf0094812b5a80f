"""Who may receive what: the eligibility rules of 国发〔2015〕52号 and the 2018 plan, one per benefit type.

A rule looks at `Facts` (taken from the registry by `facts_for`) and a county's `Policy`, and answers with
the conditions that fail; none failing means eligible. The rules are pure: no database, no clock; the
reference date is part of the facts. A failed rule may be overridden by a county supervisor with a written
reason; a conflict (`programs.enrollments`) may not.

The rules, as DOMAIN.md gives them:
- living subsidy (M03-LIVING): a certificate holder in a 低保 household; a county may extend it to registered
  poor (建档立卡) and 特困 households;
- nursing subsidy (M03-NURSING): a certificate holder at level 1-2 (needing long-term care); a county may
  extend it to level 3-4 intellectual or mental disability; not together with work-injury nursing pay;
- raised two-subsidy standard (M03-RAISED): receives the living or the nursing subsidy that year;
- sheltered employment (M07-SHELTERED): intellectual or mental disability, or level 1-2 physical or visual,
  of working age;
- purchased care (M08-PURCHASED): a registered poor household;
- vocational training (M10-VOCATIONAL), public-welfare jobs (M10-PUBLIC-JOB): a registered poor household,
  of working age;
- barrier-free modification (M11-BARRIER-FREE, per household): a registered poor household with a level 1-2
  member (once per household is a conflict, not a rule);
- own-household 低保 (M04-OWN-DIBAO): adult, not in work, level 1-2, living with family who support them
  (a household of two or more).
Every person-level benefit also needs the person's household where the rule speaks of one. Working age and
the county extensions are `EligibilitySetting` rows, with the defaults of `Policy`.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext_lazy as _

from beneficiaries.choices import DisabilityCategory

ADULT_AGE = 18
SEVERE_LEVELS = (1, 2)
INTELLECTUAL_OR_MENTAL = (DisabilityCategory.INTELLECTUAL, DisabilityCategory.MENTAL)
PHYSICAL_OR_VISUAL = (DisabilityCategory.PHYSICAL, DisabilityCategory.VISUAL)
SUBSIDY_CODES = ("M03-LIVING", "M03-NURSING")


@dataclass(frozen=True)
class Policy:
    """A county's settings (programs.EligibilitySetting) as the rules read them."""

    living_extends_to_low_income: bool = False
    nursing_extends_to_level_3_4: bool = False
    working_age_min: int = 16
    working_age_max: int = 59


@dataclass(frozen=True)
class Facts:
    """What the rules know of a person (and their household) on the reference date."""

    age: int
    has_certificate: bool
    category: int
    level: int
    is_employed: bool = False
    work_injury_nursing: bool = False
    has_household: bool = False
    registered_poor: bool = False  # 建档立卡: not yet out, out (脱贫不脱政策) or back into poverty
    dibao: bool = False
    tekun: bool = False
    household_size: int = 0
    household_has_severe_member: bool = False
    #: Benefit types the person holds (approved or later) in the year asked about.
    holds: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Condition:
    code: str
    message: str  # what must hold, in the user's language

    def __str__(self) -> str:
        return self.message


Check = Callable[[Facts, Policy], Condition | None]


def age_on(birth_date: date, on: date) -> int:
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


def _certificate(f: Facts, p: Policy) -> Condition | None:
    if not f.has_certificate:
        return Condition("certificate", _("Holds a second-generation disability certificate."))
    return None


def _living_household(f: Facts, p: Policy) -> Condition | None:
    if f.dibao:
        return None
    if p.living_extends_to_low_income:
        if f.tekun or f.registered_poor:
            return None
        return Condition(
            "low_income_household",
            _("Lives in a 低保, 特困 or registered poor household (as this county extends the subsidy)."),
        )
    return Condition("dibao_household", _("Lives in a household that receives 低保."))


def _nursing_level(f: Facts, p: Policy) -> Condition | None:
    if f.level in SEVERE_LEVELS:
        return None
    if p.nursing_extends_to_level_3_4 and f.category in INTELLECTUAL_OR_MENTAL:
        return None
    if p.nursing_extends_to_level_3_4:
        return Condition(
            "severe_or_extended",
            _("Disability level 1 or 2, or level 3-4 intellectual or mental (as this county extends it)."),
        )
    return Condition("severe", _("Disability level 1 or 2 (severe), needing long-term care."))


def _no_work_injury_nursing(f: Facts, p: Policy) -> Condition | None:
    if f.work_injury_nursing:
        return Condition("no_work_injury_nursing", _("Receives no work-injury nursing pay."))
    return None


def _holds_subsidy(f: Facts, p: Policy) -> Condition | None:
    if f.holds.intersection(SUBSIDY_CODES):
        return None
    return Condition("holds_subsidy", _("Receives the living or the nursing subsidy in the same year."))


def _sheltered_disability(f: Facts, p: Policy) -> Condition | None:
    if f.category in INTELLECTUAL_OR_MENTAL:
        return None
    if f.category in PHYSICAL_OR_VISUAL and f.level in SEVERE_LEVELS:
        return None
    return Condition(
        "sheltered_disability",
        _("Intellectual or mental disability, or level 1-2 physical or visual disability."),
    )


def _working_age(f: Facts, p: Policy) -> Condition | None:
    if p.working_age_min <= f.age <= p.working_age_max:
        return None
    return Condition(
        "working_age",
        _("Of working age (%(low)s to %(high)s in this county).")
        % {"low": p.working_age_min, "high": p.working_age_max},
    )


def _registered_poor(f: Facts, p: Policy) -> Condition | None:
    if f.registered_poor:
        return None
    return Condition("registered_poor", _("Lives in a registered poor household (建档立卡)."))


def _severe_member(f: Facts, p: Policy) -> Condition | None:
    if f.household_has_severe_member:
        return None
    return Condition("severe_member", _("The household has a member with a level 1 or 2 disability."))


def _adult(f: Facts, p: Policy) -> Condition | None:
    if f.age >= ADULT_AGE:
        return None
    return Condition("adult", _("Is an adult (18 or over)."))


def _not_employed(f: Facts, p: Policy) -> Condition | None:
    if not f.is_employed:
        return None
    return Condition("not_employed", _("Is not in work."))


def _severe(f: Facts, p: Policy) -> Condition | None:
    if f.level in SEVERE_LEVELS:
        return None
    return Condition("severe", _("Disability level 1 or 2 (severe)."))


def _supported_by_family(f: Facts, p: Policy) -> Condition | None:
    if f.household_size >= 2:
        return None
    return Condition(
        "supported_by_family", _("Lives with family who support them (a household of two or more).")
    )


RULES: dict[str, tuple[Check, ...]] = {
    "M03-LIVING": (_certificate, _living_household),
    "M03-NURSING": (_certificate, _nursing_level, _no_work_injury_nursing),
    "M03-RAISED": (_holds_subsidy,),
    "M07-SHELTERED": (_sheltered_disability, _working_age),
    "M08-PURCHASED": (_registered_poor,),
    "M10-VOCATIONAL": (_registered_poor, _working_age),
    "M10-PUBLIC-JOB": (_registered_poor, _working_age),
    "M11-BARRIER-FREE": (_registered_poor, _severe_member),
    "M04-OWN-DIBAO": (_adult, _not_employed, _severe, _supported_by_family),
}


def failing(benefit_type_code: str, facts: Facts, policy: Policy = Policy()) -> list[Condition]:
    """The conditions of the benefit type that the facts do not meet; empty when eligible."""
    return [c for check in RULES.get(benefit_type_code, ()) if (c := check(facts, policy)) is not None]


def has_rules(benefit_type_code: str) -> bool:
    return benefit_type_code in RULES
