"""The shortcuts of the roster check give what the full rules give: the check character by one C call,
plain ID text left as it is, a certificate that repeats the row's ID, category and level accepted at once,
and cell checks remembered per value (a number, the same number as text, and TRUE are different cells)."""

from datetime import date

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from beneficiaries.roster import RowChecker
from beneficiaries.validation import (
    WEIGHTS,
    IdValidationError,
    id_check_character,
    make_id_number,
    normalize_id_text,
    parse_certificate_number,
    parse_id_number,
)


@given(st.text("0123456789", min_size=17, max_size=17))
def test_the_check_character_is_the_weighted_sum_of_the_standard(first17):
    weighted = sum(int(digit) * weight for digit, weight in zip(first17, WEIGHTS, strict=True))
    assert id_check_character(first17) == "10X98765432"[weighted % 11]


def normalized_the_long_way(value):
    from beneficiaries import validation

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(validation, "_PLAIN", validation.re.compile(r"(?!)"))  # no shortcut
        try:
            return normalize_id_text(value)
        except IdValidationError as error:
            return error.code


def normalized(value):
    try:
        return normalize_id_text(value)
    except IdValidationError as error:
        return error.code


@given(st.text("0123456789Xx .E+-\u3000０１Ｘ", max_size=22) | st.sampled_from(["", "X", "3.6E+17", "12.0"]))
def test_plain_id_text_is_left_as_the_long_way_leaves_it(value):
    assert normalized(value) == normalized_the_long_way(value)


COUNTY = "360781"
TODAY = date(2024, 6, 1)


def checker() -> RowChecker:
    found = RowChecker(COUNTY)
    found.today = TODAY
    return found


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@st.composite
def certificates(draw):
    number = make_id_number(
        draw(st.sampled_from([COUNTY, "110105"])), date(1980, 5, 17), draw(st.integers(0, 999))
    )
    category, level = draw(st.integers(1, 7)), draw(st.integers(1, 4))
    cell = draw(
        st.sampled_from([
            f"{number}{category}{level}", f"{number}{category}{level}".lower(), f"{number}{level}{category}",
            f"{number}{category}", f"{number}{category}{level}0", f" {number}{category}{level}", number,
            f"{number[:17]}0{category}{level}", f"{number}8{level}", f"{number}{category}5",
            f"{number}{category}{level}".replace("0", "０"),
        ])
    )  # fmt: skip
    return number, draw(st.integers(1, 7)), draw(st.integers(1, 4)), cell


@pytest.mark.django_db
@given(certificates())
def test_a_certificate_is_taken_as_the_full_rules_take_it(case):
    number, category, level, cell = case
    identity = parse_id_number(number, today=TODAY)
    try:
        expected = parse_certificate_number(
            cell, id_number=number, category=category, level=level, field_label="残疾证号", today=TODAY,
            known=identity,
        ).number  # fmt: skip
    except IdValidationError as error:
        expected = str(error)
    cells = {"id_number": number, "certificate_number": cell, "disability_category": str(category),
             "disability_level": str(level)}  # fmt: skip
    values, errors = checker().check(cells)
    assert errors.get("certificate_number", values["certificate_number"]) == expected


@pytest.mark.django_db
def test_cells_of_equal_value_but_another_type_are_checked_each_on_its_own():
    found = checker()
    base = {
        "township": "象湖镇",
        "village": "",
        "name": "刘一",
        "id_number": make_id_number(COUNTY, date(1980, 1, 1), 1),
    }
    for _ in range(2):  # the second time from what was remembered
        numeric = found.check({**base, "disability_category": 1, "disability_level": 2.0})[0]
        assert (numeric["disability_category"], numeric["disability_level"]) == (1, 2)
        boolean = found.check({**base, "disability_category": True, "disability_level": True})[1]
        assert {"disability_category", "disability_level"} <= set(boolean)
        text = found.check({**base, "disability_category": "1", "disability_level": "2"})[0]
        assert (text["disability_category"], text["disability_level"]) == (1, 2)
