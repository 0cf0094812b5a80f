"""ID numbers (身份证号) and disability certificate numbers (残疾人证号), as typed or imported from Excel.

Pure functions: no database. Errors are `IdValidationError`s whose message names the field and says how
to fix the value; address codes that are unusual but legitimate only produce warnings.
"""

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from os.path import commonprefix
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from .choices import DisabilityCategory, DisabilityLevel, Gender, is_severe

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"
PROVINCE_CODES = frozenset(
    [*range(11, 16), *range(21, 24), *range(31, 38), *range(41, 47), *range(50, 55), *range(61, 66)]
    + [71, 81, 82]
)
EARLIEST_BIRTH_DATE = date(1850, 1, 1)

# Keyed by error code; "x_position", "certificate_length" and "check_character_000" are variants raised
# under another code, and the last three are warnings.
MESSAGES = {
    "empty": gettext_noop("%(field)s: this field is empty."),
    "numeric_cell": gettext_noop(
        "%(field)s: the cell was stored as a number and lost its last digits; format the column as text and "
        "type it again."
    ),
    "scientific_notation": gettext_noop(
        "%(field)s: %(value)s is in scientific notation: the cell was stored as a number and lost its last "
        "digits; format the column as text and type it again."
    ),
    "characters": gettext_noop(
        "%(field)s: “%(char)s” is not allowed; use only digits, and X as the last character."
    ),
    "x_position": gettext_noop(
        "%(field)s: character %(position)s is X; only the 18th (check) character may be X."
    ),
    "fifteen_digits": gettext_noop(
        "%(field)s: %(value)s is a 15-digit first-generation ID number, which is no longer valid; "
        "enter the 18-character number from the current ID card."
    ),
    "length": gettext_noop("%(field)s: should be 18 characters, but has %(count)s."),
    "certificate_length": gettext_noop(
        "%(field)s: should be 20 characters (the 18-character ID number, then the disability category "
        "digit and the level digit), but has %(count)s."
    ),
    "province": gettext_noop(
        "%(field)s: the first two digits (%(code)s) are not a Chinese province code; check the address "
        "code (first 6 digits) against the ID card."
    ),
    "birth_date": gettext_noop(
        "%(field)s: digits 7 to 14 should be the date of birth (YYYYMMDD), but %(digits)s is not a real date."
    ),
    "future_birth_date": gettext_noop(
        "%(field)s: the date of birth %(date)s is in the future; check digits 7 to 14."
    ),
    "too_old": gettext_noop(
        "%(field)s: the date of birth %(date)s is before 1850, which cannot be right; check digits 7 to 14."
    ),
    "check_character": gettext_noop(
        "%(field)s: the check character should be %(expected)s, not %(actual)s; a character was probably "
        "mistyped: compare the number with the ID card."
    ),
    "check_character_000": gettext_noop(
        "%(field)s: the check character should be %(expected)s, not %(actual)s. The number ends in 000: "
        "if it came from Excel, the cell was stored as a number and lost its last digits; format the column "
        "as text and type it again."
    ),
    "category": gettext_noop(
        "%(field)s: the 19th character is the disability category and should be 1 to 7, not %(actual)s."
    ),
    "level": gettext_noop(
        "%(field)s: the 20th character is the disability level and should be 1 to 4, not %(actual)s."
    ),
    "id_mismatch": gettext_noop(
        "%(field)s: the first 18 characters should be the ID number filled in, but differ at character "
        "%(position)s."
    ),
    "category_mismatch": gettext_noop(
        "%(field)s: the category digit is %(actual)s (%(actual_label)s), but the disability category "
        "filled in is %(expected)s (%(expected_label)s)."
    ),
    "level_mismatch": gettext_noop(
        "%(field)s: the level digit is %(actual)s, but the disability level filled in is %(expected)s."
    ),
    "outside_jiangxi": gettext_noop(
        "%(field)s: address code %(code)s is outside Jiangxi: the holder was first registered in another "
        "province. This is allowed; check it against the ID card."
    ),
    "historical_code": gettext_noop(
        "%(field)s: address code %(code)s (%(name)s) is a historical county code that is no longer in "
        "use. IDs issued before the change keep it; nothing needs fixing."
    ),
    "unknown_code": gettext_noop(
        "%(field)s: address code %(code)s is not a current Jiangxi county code. It may be an older code; "
        "check the first 6 digits against the ID card."
    ),
}

# Full-width forms come from Chinese input methods. Spaces (ASCII, ideographic, no-break, zero-width) are
# removed anywhere rather than refused: clerks group digits for reading (360426 19910101 0071), and the
# check character still catches a digit lost or added along with them.
_FOLD = str.maketrans({chr(0xFF10 + d): str(d) for d in range(10)} | {"Ｘ": "X", "ｘ": "X"})
_SPACES = re.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff]+")
_SCIENTIFIC = re.compile(r"[0-9]+(\.[0-9]*)?E[+-]?[0-9]+", re.IGNORECASE)
_DECIMAL = re.compile(r"[0-9]+\.[0-9]*")
# Text that normalisation leaves as it is: most cells of a roster, which then skip it.
_PLAIN = re.compile(r"[0-9X]+")
_DIGITS_AND_CHECK = re.compile(r"[0-9]{17}[0-9X]")
_NOT_ID_CHARACTER = re.compile(r"[^0-9X]")


class IdValidationError(ValidationError):
    """A ValidationError with a stable `code`, and the form field or column it is about in `field`."""

    def __init__(self, message: str, code: str | None = None, params: dict | None = None, *, field: str = ""):
        super().__init__(message, code=code, params=params)
        self.field = field

    def __str__(self) -> str:
        return self.message % self.params if self.params else self.message


@dataclass(frozen=True)
class IdNumber:
    number: str
    address_code: str
    birth_date: date
    gender: Gender
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class CertificateNumber:
    number: str
    id_number: str
    category: DisabilityCategory
    level: DisabilityLevel
    warnings: tuple[str, ...] = ()  # those of the embedded ID number

    @property
    def severe(self) -> bool:
        return is_severe(self.level)


@cache
def _counties(filename: str) -> dict[str, str]:
    with (Path(settings.BASE_DIR) / "fixtures" / "areas" / filename).open(encoding="utf-8", newline="") as f:
        return {row["code"]: row["name"] for row in csv.DictReader(f)}


def _raiser(field: str, label: str | None) -> Callable[..., IdValidationError]:
    """`label` None: the generic "ID number", translated only when an error is raised."""

    def error(code: str, key: str | None = None, /, **params) -> IdValidationError:
        params = {"field": label or _("ID number"), **params}
        return IdValidationError(_(MESSAGES[key or code]), code, params, field=field)

    return error


def normalize_id_text(value: object, *, field: str = "id_number", field_label: str | None = None) -> str:
    """Fold full-width characters and x to X, drop spaces; refuse values that Excel kept as numbers."""
    if type(value) is str and _PLAIN.fullmatch(value):
        return value  # nothing to fold, drop or refuse
    error = _raiser(field, field_label)
    numeric = isinstance(value, int | float | Decimal)
    text = "" if numeric or value is None else _SPACES.sub("", str(value).translate(_FOLD)).replace("x", "X")
    if numeric or _DECIMAL.fullmatch(text):
        raise error("numeric_cell")
    if not text:
        raise error("empty")
    if _SCIENTIFIC.fullmatch(text):
        raise error("scientific_notation", value=text)
    return text


def id_check_character(first17: str) -> str:
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError(f"expected 17 digits, got {first17!r}")
    # The weights are 2**17 ... 2**1 modulo 11, and 13 is 2 modulo 11: read as a base-13 number, the
    # digits carry 13**16 ... 13**0, so twice that number is the weighted sum modulo 11 (one C call).
    return CHECK_CHARACTERS[2 * int(first17, 13) % 11]


def make_id_number(address_code: str, birth_date: date, sequence: int) -> str:
    """A valid ID number; an odd `sequence` (0-999) makes a man, an even one a woman."""
    if not (len(address_code) == 6 and address_code.isdigit() and 0 <= sequence <= 999):
        raise ValueError(f"bad address code {address_code!r} or sequence {sequence!r}")
    first17 = f"{address_code}{birth_date:%Y%m%d}{sequence:03d}"
    return first17 + id_check_character(first17)


def parse_id_number(
    value: object, *, field: str = "id_number", field_label: str | None = None, today: date | None = None
) -> IdNumber:
    if type(value) is str and _DIGITS_AND_CHECK.fullmatch(value) and int(value[:2]) in PROVINCE_CODES:
        # Most numbers need no folding and pass every check: those are taken here in a few steps, and
        # anything else goes the long way below, which says what is wrong.
        try:
            birth_date = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
        except ValueError:
            birth_date = None
        if (
            birth_date is not None
            and EARLIEST_BIRTH_DATE <= birth_date <= (today or timezone.localdate())
            and value[17] == CHECK_CHARACTERS[2 * int(value[:17], 13) % 11]
        ):
            gender = Gender.MALE if int(value[16]) % 2 else Gender.FEMALE
            return IdNumber(value, value[:6], birth_date, gender, _address_warnings(value[:6], field_label))
    label = field_label or _("ID number")
    number = normalize_id_text(value, field=field, field_label=label)
    error = _raiser(field, label)
    if bad := _NOT_ID_CHARACTER.search(number):
        raise error("characters", char=bad.group())
    if len(number) == 15 and number.isdigit():
        raise error("fifteen_digits", value=number)
    if len(number) != 18:
        raise error("length", count=len(number))
    if "X" in number[:17]:
        raise error("characters", "x_position", position=number.index("X") + 1)
    if int(number[:2]) not in PROVINCE_CODES:
        raise error("province", code=number[:2])
    try:
        birth_date = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise error("birth_date", digits=number[6:14]) from None
    if birth_date > (today or timezone.localdate()):
        raise error("future_birth_date", date=birth_date.isoformat())
    if birth_date < EARLIEST_BIRTH_DATE:
        raise error("too_old", date=birth_date.isoformat())
    expected = id_check_character(number[:17])
    if number[17] != expected:
        # Excel keeps 15 significant digits and fills the rest with zeros: name that likely cause.
        key = "check_character_000" if number.endswith("000") else None
        raise error("check_character", key, expected=expected, actual=number[17])
    gender = Gender.MALE if int(number[16]) % 2 else Gender.FEMALE
    return IdNumber(number, number[:6], birth_date, gender, _address_warnings(number[:6], label))


def _address_warnings(code: str, label: str | None) -> tuple[str, ...]:
    # The address code is where the holder was first registered and is never updated: a code from
    # another province or one withdrawn since is normal, so it is only worth a second look.
    if code.startswith("36") and code in _counties("jiangxi_counties.csv"):
        return ()
    params = {"field": label or _("ID number"), "code": code}
    if not code.startswith("36"):
        key = "outside_jiangxi"
    elif name := _counties("jiangxi_counties_2018.csv").get(code):
        key, params["name"] = "historical_code", name
    else:
        key = "unknown_code"
    return (_(MESSAGES[key]) % params,)


def parse_certificate_number(
    value: object,
    *,
    id_number: str | None = None,
    category: int | None = None,
    level: int | None = None,
    field: str = "certificate_number",
    field_label: str | None = None,
    today: date | None = None,
    known: IdNumber | None = None,
) -> CertificateNumber:
    """The ID number, the category digit (1-7) and the level digit (1-4). `id_number`, `category` and
    `level`, when given, are what the rest of the record says: the number must agree with them.
    `known`, an ID already parsed from the same record, spares parsing it twice."""
    label = field_label or _("Disability certificate number")
    number = normalize_id_text(value, field=field, field_label=label)
    error = _raiser(field, label)
    if len(number) != 20:
        raise error("length", "certificate_length", count=len(number))
    if known is not None and known.number == number[:18]:
        identity = known
    else:
        identity = parse_id_number(number[:18], field=field, field_label=label, today=today)
    if number[18] not in "1234567":
        raise error("category", actual=number[18])
    if number[19] not in "1234":
        raise error("level", actual=number[19])
    category_, level_ = DisabilityCategory(int(number[18])), DisabilityLevel(int(number[19]))
    cert = CertificateNumber(number, identity.number, category_, level_, identity.warnings)
    if id_number is not None:
        try:
            expected_id = normalize_id_text(id_number)
        except IdValidationError:
            expected_id = None  # the ID number field reports its own error
        if expected_id and len(expected_id) == 18 and expected_id != cert.id_number:
            position = len(commonprefix([cert.id_number, expected_id])) + 1
            raise error("id_mismatch", position=position)
    if category is not None and int(category) != cert.category:
        given = int(category)
        given_label = DisabilityCategory(given).label if given in DisabilityCategory.values else "?"
        params = {"actual_label": str(cert.category.label), "expected_label": str(given_label)}
        raise error("category_mismatch", actual=int(cert.category), expected=given, **params)
    if level is not None and int(level) != cert.level:
        raise error("level_mismatch", actual=int(cert.level), expected=int(level))
    return cert
