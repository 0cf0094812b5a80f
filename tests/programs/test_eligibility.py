"""Each eligibility rule on both sides of its boundary (pure: no database)."""

from dataclasses import replace
from datetime import date

import pytest

from programs.eligibility import Facts, Policy, age_on, failing, has_rules

# Someone who meets every rule: a level-2 intellectual disability, 30, in a registered poor 低保 household
# of three with a severe member, not in work, with a certificate, holding the living subsidy.
EVERYTHING = Facts(
    age=30,
    has_certificate=True,
    category=5,
    level=2,
    has_household=True,
    registered_poor=True,
    dibao=True,
    household_size=3,
    household_has_severe_member=True,
    holds=frozenset({"M03-LIVING"}),
)
EXTENDED = Policy(living_extends_to_low_income=True, nursing_extends_to_level_3_4=True)


def codes(benefit_type, facts, policy=None):
    return [c.code for c in failing(benefit_type, facts, policy or Policy())]


@pytest.mark.parametrize(
    "benefit_type",
    ["M03-LIVING", "M03-NURSING", "M03-RAISED", "M07-SHELTERED", "M08-PURCHASED", "M10-VOCATIONAL",
     "M10-PUBLIC-JOB", "M11-BARRIER-FREE", "M04-OWN-DIBAO"],
)  # fmt: skip
def test_someone_who_meets_everything_is_eligible_for_each_ruled_type(benefit_type):
    assert has_rules(benefit_type)
    assert failing(benefit_type, EVERYTHING) == []


def test_a_type_without_rules_is_open_to_any_registered_person():
    assert not has_rules("M09-RURAL-TRAINING")
    assert failing("M09-RURAL-TRAINING", Facts(age=70, has_certificate=False, category=2, level=4)) == []


class TestLivingSubsidy:
    def test_needs_a_certificate(self):
        assert codes("M03-LIVING", replace(EVERYTHING, has_certificate=False)) == ["certificate"]

    def test_needs_dibao_by_default(self):
        poor_not_dibao = replace(EVERYTHING, dibao=False)
        assert codes("M03-LIVING", poor_not_dibao) == ["dibao_household"]

    def test_the_county_extension_admits_registered_poor_and_tekun(self):
        poor_not_dibao = replace(EVERYTHING, dibao=False)
        assert codes("M03-LIVING", poor_not_dibao, EXTENDED) == []
        tekun_only = replace(EVERYTHING, dibao=False, registered_poor=False, tekun=True)
        assert codes("M03-LIVING", tekun_only, EXTENDED) == []
        neither = replace(EVERYTHING, dibao=False, registered_poor=False, tekun=False)
        assert codes("M03-LIVING", neither, EXTENDED) == ["low_income_household"]


class TestNursingSubsidy:
    def test_level_2_passes_and_level_3_fails(self):
        assert codes("M03-NURSING", replace(EVERYTHING, level=2)) == []
        assert codes("M03-NURSING", replace(EVERYTHING, level=3)) == ["severe"]

    def test_the_extension_admits_level_3_4_intellectual_and_mental_only(self):
        for category in (5, 6):
            for level in (3, 4):
                assert (
                    codes("M03-NURSING", replace(EVERYTHING, category=category, level=level), EXTENDED) == []
                )
        physical_3 = replace(EVERYTHING, category=4, level=3)
        assert codes("M03-NURSING", physical_3, EXTENDED) == ["severe_or_extended"]
        assert codes("M03-NURSING", replace(EVERYTHING, category=5, level=3)) == ["severe"]

    def test_not_with_work_injury_nursing_pay(self):
        assert codes("M03-NURSING", replace(EVERYTHING, work_injury_nursing=True)) == [
            "no_work_injury_nursing"
        ]


class TestRaisedStandard:
    def test_needs_one_of_the_two_subsidies_that_year(self):
        assert codes("M03-RAISED", replace(EVERYTHING, holds=frozenset({"M03-NURSING"}))) == []
        assert codes("M03-RAISED", replace(EVERYTHING, holds=frozenset({"M08-SUNSHINE"}))) == [
            "holds_subsidy"
        ]


class TestShelteredEmployment:
    def test_intellectual_and_mental_at_any_level(self):
        for category in (5, 6):
            assert codes("M07-SHELTERED", replace(EVERYTHING, category=category, level=4)) == []

    def test_physical_and_visual_only_at_level_1_2(self):
        for category in (1, 4):
            assert codes("M07-SHELTERED", replace(EVERYTHING, category=category, level=2)) == []
            assert codes("M07-SHELTERED", replace(EVERYTHING, category=category, level=3)) == [
                "sheltered_disability"
            ]

    def test_hearing_is_not_covered(self):
        assert codes("M07-SHELTERED", replace(EVERYTHING, category=2, level=1)) == ["sheltered_disability"]

    @pytest.mark.parametrize("age,ok", [(15, False), (16, True), (59, True), (60, False)])
    def test_working_age_boundaries(self, age, ok):
        assert (codes("M07-SHELTERED", replace(EVERYTHING, age=age)) == []) is ok

    def test_working_age_is_the_county_setting(self):
        county = Policy(working_age_min=18, working_age_max=64)
        assert codes("M07-SHELTERED", replace(EVERYTHING, age=17), county) == ["working_age"]
        assert codes("M07-SHELTERED", replace(EVERYTHING, age=64), county) == []
        assert codes("M07-SHELTERED", replace(EVERYTHING, age=65), county) == ["working_age"]


class TestRegisteredPoorTypes:
    def test_purchased_care_needs_a_registered_poor_household(self):
        assert codes("M08-PURCHASED", replace(EVERYTHING, registered_poor=False)) == ["registered_poor"]
        assert codes("M08-PURCHASED", replace(EVERYTHING, age=80)) == []  # no age limit

    @pytest.mark.parametrize("benefit_type", ["M10-VOCATIONAL", "M10-PUBLIC-JOB"])
    def test_training_and_jobs_need_registered_poor_and_working_age(self, benefit_type):
        assert codes(benefit_type, replace(EVERYTHING, registered_poor=False)) == ["registered_poor"]
        assert codes(benefit_type, replace(EVERYTHING, age=60)) == ["working_age"]
        assert codes(benefit_type, replace(EVERYTHING, age=60, registered_poor=False)) == [
            "registered_poor",
            "working_age",
        ]


class TestBarrierFree:
    def test_needs_a_registered_poor_household_with_a_severe_member(self):
        assert codes("M11-BARRIER-FREE", replace(EVERYTHING, household_has_severe_member=False)) == [
            "severe_member"
        ]
        assert codes("M11-BARRIER-FREE", replace(EVERYTHING, registered_poor=False)) == ["registered_poor"]


class TestOwnHouseholdDibao:
    @pytest.mark.parametrize("age,ok", [(17, False), (18, True)])
    def test_adults_only(self, age, ok):
        assert (codes("M04-OWN-DIBAO", replace(EVERYTHING, age=age)) == []) is ok

    def test_not_in_work(self):
        assert codes("M04-OWN-DIBAO", replace(EVERYTHING, is_employed=True)) == ["not_employed"]

    def test_severe_only(self):
        assert codes("M04-OWN-DIBAO", replace(EVERYTHING, level=3)) == ["severe"]

    @pytest.mark.parametrize("size,ok", [(1, False), (2, True)])
    def test_supported_by_family(self, size, ok):
        assert (codes("M04-OWN-DIBAO", replace(EVERYTHING, household_size=size)) == []) is ok


@pytest.mark.parametrize(
    "born,on,age",
    [
        (date(2000, 3, 15), date(2018, 3, 14), 17),
        (date(2000, 3, 15), date(2018, 3, 15), 18),
        (date(2000, 2, 29), date(2018, 2, 28), 17),
        (date(2000, 2, 29), date(2018, 3, 1), 18),
    ],
)
def test_age_is_reached_on_the_birthday(born, on, age):
    assert age_on(born, on) == age


def test_the_working_age_condition_names_the_limits():
    from django.utils import translation

    with translation.override("zh-hans"):
        (condition,) = failing("M07-SHELTERED", replace(EVERYTHING, age=60))
        assert "16" in condition.message and "59" in condition.message
