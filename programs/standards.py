"""Standard amounts: what a benefit type pays in a year, for all disability levels or for one level.

Amounts are data the provincial office enters; nothing here assumes one. A level's own amount wins over
the amount for all levels (`disability_level` null). Every change is written with the acting user in the
history context and logged (who, what, before, after).
"""

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import pghistory
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from areas.models import PROVINCE_CODE

from .models import BenefitType, Standard, Unit

logger = logging.getLogger("programs.standards")

FIRST_YEAR = 2016
LEVELS: tuple[int | None, ...] = (None, 1, 2, 3, 4)
MAX_AMOUNT = Decimal("99999999.99")  # the column holds 10 digits, 2 of them decimals

Cell = tuple[str, int | None]  # (benefit type code, disability level or None for all levels)


class StandardError(Exception):
    """A refused save: `errors` maps a cell (or None for the whole table) to its messages."""

    def __init__(self, errors: dict[Cell | None, list[str]]):
        self.errors = errors
        self.message = next(iter(errors.values()))[0]
        super().__init__(self.message)


@dataclass(frozen=True)
class StandardChange:
    benefit_type: BenefitType
    level: int | None
    before: Decimal | None
    after: Decimal | None

    @property
    def removed(self) -> bool:
        return self.after is None


def standard_years() -> range:
    return range(FIRST_YEAR, timezone.localdate().year + 2)


def level_label(level: int | None) -> str:
    return _("all levels") if level is None else _("level %(level)s") % {"level": level}


def cell_label(benefit_type: BenefitType, level: int | None) -> str:
    return f"{benefit_type.name} · {level_label(level)}"


def levels_of(benefit_type: BenefitType) -> tuple[int | None, ...]:
    """Only what is paid to a person can differ by disability level."""
    return LEVELS if benefit_type.unit == Unit.PERSON else (None,)


def parse_amount(raw) -> Decimal | None:
    """Yuan with at most two decimals, or None for a blank. Raises ValueError for anything else."""
    text = ("" if raw is None else str(raw)).strip().replace(",", "").replace("，", "")
    if text == "":
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(text) from exc
    if (
        not amount.is_finite()
        or amount < 0
        or amount > MAX_AMOUNT
        or amount != amount.quantize(Decimal("0.01"))
    ):
        raise ValueError(text)
    return amount.quantize(Decimal("0.01"))


def standards_for_year(year: int, codes: Iterable[str] | None = None) -> dict[Cell, Standard]:
    standards = Standard.objects.filter(year=year)
    if codes is not None:
        standards = standards.filter(benefit_type_id__in=list(codes))
    return {(s.benefit_type_id, s.disability_level): s for s in standards}


def _require_province(actor) -> None:
    if getattr(getattr(actor, "area", None), "code", None) != PROVINCE_CODE or not actor.has_perms(
        ["programs.add_standard", "programs.change_standard"]
    ):
        raise StandardError({None: [_("Only the provincial office sets standard amounts.")]})


@transaction.atomic
def standards_save(
    *,
    actor,
    year: int,
    amounts: Mapping[Cell, Decimal | None],
    opened: Mapping[Cell, Decimal | None] | None = None,
) -> list[StandardChange]:
    """Write the year's amounts cell by cell: a new amount is stored, a changed one replaced, None removes
    the stored amount. Cells not in `amounts` are left as they are.

    `opened` holds the amounts as the form showed them: a cell someone else changed since is refused (with
    the others), so nobody overwrites a colleague's amount without seeing it.
    """
    _require_province(actor)
    if year not in standard_years():
        raise StandardError(
            {
                None: [
                    _("Year: choose a year from %(first)s to %(last)s.")
                    % {"first": standard_years()[0], "last": standard_years()[-1]}
                ]
            }  # fmt: skip
        )
    types = {t.code: t for t in BenefitType.objects.filter(code__in={code for code, _level in amounts})}
    errors: dict[Cell | None, list[str]] = {}
    for cell, amount in amounts.items():
        code, level = cell
        benefit_type = types.get(code)
        if benefit_type is None:
            errors.setdefault(cell, []).append(_("No such benefit type: %(code)s.") % {"code": code})
        elif level not in levels_of(benefit_type):
            errors.setdefault(cell, []).append(
                _("%(cell)s: this benefit type has one amount for all levels.")
                % {"cell": cell_label(benefit_type, level)}
            )
        elif amount is not None and not (
            0 <= amount <= MAX_AMOUNT and amount == amount.quantize(Decimal("0.01"))
        ):
            errors.setdefault(cell, []).append(
                _("%(cell)s: enter an amount in yuan from 0 to %(max)s with at most two decimals.")
                % {"cell": cell_label(benefit_type, level), "max": MAX_AMOUNT}
            )
    if errors:
        raise StandardError(errors)
    # Locked for the rest of the transaction: two offices saving at once see each other's amounts.
    stored = {
        (s.benefit_type_id, s.disability_level): s
        for s in Standard.objects.select_for_update().filter(year=year, benefit_type_id__in=list(types))
    }
    if opened is not None:
        for cell in amounts:
            now = stored[cell].amount if cell in stored else None
            if cell in opened and opened[cell] != now:
                errors.setdefault(cell, []).append(
                    _(
                        "%(cell)s: someone else changed it from %(opened)s to %(now)s after you opened the "
                        "page; nothing was saved. Check the amount and save again."
                    )
                    % {
                        "cell": cell_label(types[cell[0]], cell[1]),
                        "opened": _amount_text(opened[cell]),
                        "now": _amount_text(now),
                    }
                )
        if errors:
            raise StandardError(errors)
    changes = []
    with pghistory.context(user=actor.pk):
        for (code, level), amount in amounts.items():
            current = stored.get((code, level))
            before = current.amount if current else None
            if before == amount:
                continue
            if amount is None:
                current.delete()
            elif current is None:
                try:
                    with transaction.atomic():
                        Standard.objects.create(
                            benefit_type_id=code, year=year, disability_level=level, amount=amount
                        )
                except IntegrityError as exc:  # entered by someone else in the same instant
                    raise StandardError(
                        {
                            (code, level): [
                                _("%(cell)s: someone else entered it just now; nothing was saved.")
                                % {"cell": cell_label(types[code], level)}
                            ]
                        }  # fmt: skip
                    ) from exc
            else:
                current.amount = amount
                current.save(update_fields=["amount"])
            change = StandardChange(types[code], level, before, amount)
            changes.append(change)
            logger.info(
                "standard amount %s %s %s: %s -> %s by user %s",
                code, year, "all" if level is None else f"level {level}", before, amount, actor.pk,
            )  # fmt: skip
    return changes


def standard_set(
    *, actor, benefit_type: BenefitType, year: int, disability_level: int | None, amount: Decimal | None
) -> StandardChange | None:
    """One cell: the amount of a benefit type in a year for a level (None: all levels); None removes it."""
    changes = standards_save(actor=actor, year=year, amounts={(benefit_type.code, disability_level): amount})
    return changes[0] if changes else None


def _amount_text(amount: Decimal | None) -> str:
    return _("blank") if amount is None else f"{amount:.2f}"


def amount_for(standards: Mapping[Cell, Standard], code: str, level: int | None) -> Decimal | None:
    """What a person of `level` gets: the level's own amount, else the amount for all levels."""
    found = standards.get((code, level)) or standards.get((code, None))
    return found.amount if found else None
