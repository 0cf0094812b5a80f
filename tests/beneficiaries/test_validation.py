"""ID numbers and disability certificate numbers: every rule, then properties over generated numbers.

Messages are checked in English (the msgids); their Chinese lives in the catalogue.
"""

import copy
import pickle
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from beneficiaries.choices import DisabilityCategory, DisabilityLevel, Gender, is_severe
from beneficiaries.validation import (
    PROVINCE_CODES,
    CertificateNumber,
    IdNumber,
    IdValidationError,
    id_check_character,
    make_id_number,
    normalize_id_text,
    parse_certificate_number,
    parse_id_number,
)

TODAY = date(2024, 6, 1)
ID_CODES = {"province", "birth_date", "future_birth_date", "too_old", "check_character"}
ALL_ID_CODES = ID_CODES | {
    "empty",
    "numeric_cell",
    "scientific_notation",
    "fifteen_digits",
    "length",
    "characters",
}


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def id_error(value, **kwargs) -> IdValidationError:
    with pytest.raises(IdValidationError) as info:
        parse_id_number(value, today=TODAY, **kwargs)
    return info.value


def certificate_error(value, **kwargs) -> IdValidationError:
    with pytest.raises(IdValidationError) as info:
        parse_certificate_number(value, today=TODAY, **kwargs)
    return info.value


def with_check(first17: str) -> str:
    return first17 + id_check_character(first17)


# ID numbers: valid ones


@pytest.mark.parametrize(
    ("value", "birth_date", "gender"),
    [
        ("11010519491231002X", date(1949, 12, 31), Gender.FEMALE),
        ("360426199101010071", date(1991, 1, 1), Gender.MALE),
    ],
)
def test_valid_examples(value, birth_date, gender):
    parsed = parse_id_number(value, today=TODAY)
    assert parsed == IdNumber(value, value[:6], birth_date, gender, parsed.warnings)


def test_the_standards_own_example_born_in_1880_is_valid():
    assert id_check_character("44052418800101001") == "4"
    parsed = parse_id_number("440524188001010014", today=TODAY)
    assert (parsed.birth_date, parsed.gender) == (date(1880, 1, 1), Gender.MALE)


def test_check_character_examples():
    assert id_check_character("11010519491231002") == "X"
    assert id_check_character("36042619910101007") == "1"
    for bad in ["1234", "3604261991010100X", "３６０４２６１９９１０１０１００７"]:
        with pytest.raises(ValueError):
            id_check_character(bad)


def test_make_id_number():
    assert make_id_number("360426", date(1991, 1, 1), 7) == "360426199101010071"
    assert make_id_number("110105", date(1949, 12, 31), 2) == "11010519491231002X"
    for args in [
        ("36042", date(1991, 1, 1), 7),
        ("36042a", date(1991, 1, 1), 7),
        ("360426", date(1991, 1, 1), 1000),
    ]:
        with pytest.raises(ValueError):
            make_id_number(*args)


def test_birth_dates_at_the_limits_are_accepted():
    assert parse_id_number(make_id_number("360426", date(1850, 1, 1), 1), today=TODAY).birth_date == date(
        1850, 1, 1
    )
    assert parse_id_number(make_id_number("360426", TODAY, 1), today=TODAY).birth_date == TODAY


# ID numbers: what is tidied up rather than refused


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("11010519491231002x", "11010519491231002X"),
        ("１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X"),
        ("１１０１０５１９４９１２３１００２ｘ", "11010519491231002X"),
        ("  360426199101010071\t\n", "360426199101010071"),
        ("360426 19910101 0071", "360426199101010071"),
        ("360426\u300019910101\u30000071", "360426199101010071"),
        ("\ufeff360426\xa0199101010071\u200b", "360426199101010071"),
        ("３６０４２６ １９９１０１０１ ００７１", "360426199101010071"),
    ],
)
def test_normalisation(value, expected):
    assert normalize_id_text(value) == expected
    assert parse_id_number(value, today=TODAY).number == expected


# ID numbers: every refusal, with its code and a message that names the field


@pytest.mark.parametrize(
    ("value", "code", "fragment"),
    [
        ("", "empty", "this field is empty"),
        ("  \u3000 ", "empty", "this field is empty"),
        (None, "empty", "this field is empty"),
        (360426199101010071, "numeric_cell", "stored as a number and lost its last digits"),
        (3.60426199101e17, "numeric_cell", "format the column as text and type it again"),
        (Decimal("360426199101010071"), "numeric_cell", "format the column as text"),
        ("360426199101010071.0", "numeric_cell", "stored as a number"),
        ("3.60426199101E+17", "scientific_notation", "3.60426199101E+17 is in scientific notation"),
        ("3.60426199101e+17", "scientific_notation", "stored as a number and lost its last digits"),
        ("360426910101007", "fifteen_digits", "15-digit first-generation ID number"),
        ("36042619910101007", "length", "should be 18 characters, but has 17"),
        ("3604261991010100711", "length", "should be 18 characters, but has 19"),
        ("36042619910101007a", "characters", "“a” is not allowed"),
        ("360426-19910101-0071", "characters", "“-” is not allowed"),
        ("3604261991010100X1", "characters", "character 17 is X"),
        (make_id_number("990426", date(1991, 1, 1), 7), "province", "first two digits (99)"),
        (make_id_number("000000", date(1991, 1, 1), 7), "province", "not a Chinese province code"),
        (with_check("36042619910230007"), "birth_date", "19910230 is not a real date"),
        (with_check("36042619911301007"), "birth_date", "19911301 is not a real date"),
        (with_check("36042619910100007"), "birth_date", "not a real date"),
        (
            make_id_number("360426", TODAY + timedelta(days=1), 7),
            "future_birth_date",
            "2024-06-02 is in the future",
        ),
        (make_id_number("360426", date(1849, 12, 31), 7), "too_old", "1849-12-31 is before 1850"),
        ("360426199101010072", "check_character", "the check character should be 1, not 2"),
        ("11010519491231002Y", "characters", "“Y” is not allowed"),
        ("110105194912310021", "check_character", "should be X, not 1"),
    ],
)
def test_refusals(value, code, fragment):
    error = id_error(value)
    assert isinstance(error, ValidationError)
    assert error.code == code
    assert fragment in str(error)
    assert str(error).startswith("ID number: ")
    assert error.messages == [str(error)]
    assert error.field == "id_number"


def test_a_number_ending_in_000_fails_its_check_and_the_message_suspects_excel():
    error = id_error("360426199101010000")
    assert error.code == "check_character"
    assert "should be 4, not 0" in str(error)
    assert "format the column as text" in str(error)
    # A plain typo does not mention Excel.
    assert "Excel" not in str(id_error("360426199101010072"))


def test_the_future_is_judged_against_the_local_date_by_default():
    with pytest.raises(IdValidationError) as info:
        parse_id_number(make_id_number("360426", date(2999, 1, 1), 7))
    assert info.value.code == "future_birth_date"


def test_field_and_label_can_be_chosen():
    error = id_error("123", field="guardian_id_number", field_label="Guardian's ID number")
    assert error.field == "guardian_id_number"
    assert str(error) == "Guardian's ID number: should be 18 characters, but has 3."
    assert str(id_error(42, field_label="Guardian's ID number")).startswith("Guardian's ID number: ")


# ID numbers: address codes that are unusual but valid


def test_a_current_jiangxi_county_gives_no_warning():
    assert parse_id_number("360426199101010071", today=TODAY).warnings == ()
    # 红谷滩区 exists only in the 2023 list.
    assert parse_id_number(make_id_number("360113", date(2001, 5, 4), 3), today=TODAY).warnings == ()


def test_a_code_outside_jiangxi_is_accepted_with_a_warning():
    (warning,) = parse_id_number("11010519491231002X", today=TODAY).warnings
    assert warning.startswith("ID number: address code 110105 is outside Jiangxi")


@pytest.mark.parametrize(("code", "name"), [("360105", "湾里区"), ("361121", "上饶县"), ("360727", "龙南县")])
def test_a_2018_only_code_is_accepted_as_historical(code, name):
    (warning,) = parse_id_number(make_id_number(code, date(1980, 2, 29), 11), today=TODAY).warnings
    assert f"address code {code} ({name}) is a historical county code" in warning


@pytest.mark.parametrize("code", ["369901", "360100", "360101"])
def test_an_unknown_jiangxi_code_is_accepted_with_a_warning(code):
    (warning,) = parse_id_number(make_id_number(code, date(1965, 7, 1), 22), today=TODAY).warnings
    assert f"address code {code} is not a current Jiangxi county code" in warning


# Certificate numbers


def test_a_valid_certificate():
    cert = parse_certificate_number("36042619910101007141", today=TODAY)
    assert cert == CertificateNumber(
        "36042619910101007141", "360426199101010071", DisabilityCategory.PHYSICAL, DisabilityLevel.LEVEL_1
    )
    assert cert.severe


def test_a_certificate_is_normalised_and_carries_the_id_warnings():
    cert = parse_certificate_number(" １１０１０５１９４９１２３１００２x 24 ", today=TODAY)
    assert (cert.number, cert.id_number) == ("11010519491231002X24", "11010519491231002X")
    assert (cert.category, cert.level, cert.severe) == (
        DisabilityCategory.HEARING,
        DisabilityLevel.LEVEL_4,
        False,
    )
    assert "outside Jiangxi" in cert.warnings[0]


def test_a_certificate_matching_the_record_passes():
    cert = parse_certificate_number(
        "11010519491231002X63",
        id_number="11010519491231002x",
        category=6,
        level=DisabilityLevel.LEVEL_3,
        today=TODAY,
    )
    assert (cert.category, cert.level) == (DisabilityCategory.MENTAL, DisabilityLevel.LEVEL_3)


@pytest.mark.parametrize(
    ("value", "code", "fragment"),
    [
        ("", "empty", "this field is empty"),
        (36042619910101007141, "numeric_cell", "stored as a number"),
        ("3.60426199101007E+19", "scientific_notation", "scientific notation"),
        ("360426199101010071", "length", "should be 20 characters"),
        ("360426199101010071411", "length", "but has 21"),
        ("36042619910101007201", "check_character", "the check character should be 1, not 2"),
        ("36042619910230007141", "birth_date", "19910230 is not a real date"),
        ("99042619910101007141", "province", "first two digits (99)"),
        ("3604261991010100714a", "level", "should be 1 to 4, not a"),
        ("36042619910101007101", "category", "the 19th character is the disability category"),
        ("36042619910101007181", "category", "should be 1 to 7, not 8"),
        ("360426199101010071X1", "category", "not X"),
        ("36042619910101007140", "level", "the 20th character is the disability level"),
        ("36042619910101007145", "level", "should be 1 to 4, not 5"),
    ],
)
def test_certificate_refusals(value, code, fragment):
    error = certificate_error(value)
    assert error.code == code
    assert fragment in str(error)
    assert str(error).startswith("Disability certificate number: ")
    assert error.field == "certificate_number"


def test_certificate_id_mismatch_says_where():
    error = certificate_error("36042619910101007141", id_number="360426199101020071")
    assert error.code == "id_mismatch"
    assert str(error) == (
        "Disability certificate number: the first 18 characters should be the ID number filled in, "
        "but differ at character 14."
    )
    assert "360426" not in str(error)  # messages travel to reviewers who may not see whole numbers


def test_certificate_is_not_compared_with_an_id_number_that_is_itself_wrong():
    # The ID number field reports those; one error per mistake.
    for wrong in ["", "abc", 360426199101010071, "36042619910101007"]:
        assert parse_certificate_number("36042619910101007141", id_number=wrong, today=TODAY).level == 1


def test_certificate_category_mismatch_names_both_categories():
    error = certificate_error("36042619910101007141", category=DisabilityCategory.HEARING)
    assert error.code == "category_mismatch"
    assert str(error) == (
        "Disability certificate number: the category digit is 4 (Physical), "
        "but the disability category filled in is 2 (Hearing)."
    )


def test_certificate_level_mismatch():
    error = certificate_error("36042619910101007141", category=4, level=3)
    assert error.code == "level_mismatch"
    assert str(error) == (
        "Disability certificate number: the level digit is 1, but the disability level filled in is 3."
    )


# Choices


def test_choices():
    assert DisabilityCategory.values == [1, 2, 3, 4, 5, 6, 7]
    assert [str(label) for label in DisabilityCategory.labels] == [
        "Visual", "Hearing", "Speech", "Physical", "Intellectual", "Mental", "Multiple"
    ]  # fmt: skip
    assert DisabilityLevel.values == [1, 2, 3, 4]
    assert str(DisabilityLevel.LEVEL_1.label) == "Level 1 (most severe)"
    assert Gender.values == ["M", "F"]
    assert [is_severe(level) for level in (1, 2, 3, 4)] == [True, True, False, False]
    assert is_severe(DisabilityLevel.LEVEL_2)
    with pytest.raises(ValueError):
        is_severe(5)


# Properties

address_codes = st.builds(
    "{:02d}{:04d}".format, st.sampled_from(sorted(PROVINCE_CODES)), st.integers(0, 9999)
)
birth_dates = st.dates(min_value=date(1850, 1, 1), max_value=TODAY)
sequences = st.integers(0, 999)
valid_ids = st.builds(make_id_number, address_codes, birth_dates, sequences)
FULL_WIDTH = {c: chr(ord(c) + 0xFEE0) for c in "0123456789X"}


@settings(deadline=None)
@given(address_codes, birth_dates, sequences)
def test_any_generated_id_parses_and_round_trips(address_code, birth_date, sequence):
    parsed = parse_id_number(make_id_number(address_code, birth_date, sequence), today=TODAY)
    assert (parsed.address_code, parsed.birth_date) == (address_code, birth_date)
    assert parsed.gender == (Gender.MALE if sequence % 2 else Gender.FEMALE)
    assert len(parsed.warnings) <= 1
    if not address_code.startswith("36"):
        assert "outside Jiangxi" in parsed.warnings[0]


@given(valid_ids, st.integers(0, 16), st.integers(1, 9))
def test_changing_one_of_the_first_17_digits_is_always_caught(number, position, shift):
    changed = number[:position] + str((int(number[position]) + shift) % 10) + number[position + 1 :]
    assert id_error(changed).code in ID_CODES


@given(valid_ids, st.sampled_from("0123456789X"))
def test_changing_the_check_character_fails_the_check(number, check):
    if check != number[17]:
        error = id_error(number[:17] + check)
        assert error.code == "check_character"
        assert f"should be {number[17]}, not {check}" in str(error)


@given(valid_ids, st.data())
def test_lowercase_full_width_and_spaced_variants_normalise_to_the_same_number(number, data):
    variant = ""
    for character in number:
        form = data.draw(st.sampled_from(["ascii", "full", "lower", "space"]))
        if form == "full":
            character = FULL_WIDTH[character]
        elif form == "lower":
            character = character.lower()
        elif form == "space":
            character = data.draw(st.sampled_from([" ", "\u3000", "\t"])) + character
        variant += character
    assert parse_id_number(variant, today=TODAY).number == number


@given(address_codes, st.dates(min_value=TODAY + timedelta(days=1)), sequences)
def test_any_future_birth_date_is_refused(address_code, birth_date, sequence):
    assert id_error(make_id_number(address_code, birth_date, sequence)).code == "future_birth_date"


@given(address_codes, st.dates(max_value=date(1849, 12, 31), min_value=date(1000, 1, 1)), sequences)
def test_any_birth_date_before_1850_is_refused(address_code, birth_date, sequence):
    assert id_error(make_id_number(address_code, birth_date, sequence)).code == "too_old"


@settings(deadline=None)
@given(valid_ids, st.sampled_from(DisabilityCategory), st.sampled_from(DisabilityLevel))
def test_certificates_built_from_valid_ids_report_their_parts(number, category, level):
    cert = parse_certificate_number(
        f"{number}{category}{level}", id_number=number, category=category, level=level, today=TODAY
    )
    assert (cert.id_number, cert.category, cert.level) == (number, category, level)
    assert cert.severe == is_severe(level)
    other = DisabilityCategory(category % 7 + 1)
    with pytest.raises(IdValidationError) as info:
        parse_certificate_number(f"{number}{category}{level}", category=other, today=TODAY)
    assert info.value.code == "category_mismatch"


@given(st.one_of(st.text(max_size=25), st.text(alphabet="0123456789Xx ．.Ee+", max_size=25)))
def test_any_text_is_either_accepted_or_refused_with_a_code(text):
    try:
        parse_id_number(text, today=TODAY)
    except IdValidationError as error:
        assert str(error).startswith("ID number: ")
        assert error.code in ALL_ID_CODES


def test_errors_survive_copying_and_pickling():
    # Forms deep-copy their errors and task queues pickle them.
    error = id_error("360426199101010072", field="guardian_id_number")
    for clone in (copy.deepcopy(error), pickle.loads(pickle.dumps(error))):  # noqa: S301
        assert (clone.code, clone.field, str(clone)) == (error.code, error.field, str(error))


def test_a_known_id_is_not_parsed_again_but_a_different_one_is():
    known = parse_id_number("360426199101010071", today=TODAY)
    certificate = parse_certificate_number("36042619910101007142", known=known, today=TODAY)
    assert certificate.id_number == known.number
    with translation.override("en"), pytest.raises(IdValidationError) as caught:
        parse_certificate_number("36042619910101007242", known=known, today=TODAY)
    assert caught.value.code == "check_character"


class _Text(str):
    """A str that is not exactly a str: parse_id_number takes it the long way, rule by rule."""


def parsed_or_error(value: str):
    try:
        return parse_id_number(value, today=TODAY)
    except IdValidationError as error:
        return (error.code, str(error.message))


ids_and_near_misses = st.one_of(
    valid_ids,
    st.text(alphabet="0123456789X", min_size=18, max_size=18),
    st.builds(lambda n, d: n[:6] + d + n[14:], valid_ids, st.from_regex(r"\A[0-9]{8}\Z")),
)


@settings(deadline=None, max_examples=500)
@given(ids_and_near_misses)
def test_the_short_way_for_plain_numbers_gives_what_the_long_way_gives(number):
    with translation.override("en"):
        assert parsed_or_error(number) == parsed_or_error(_Text(number))
