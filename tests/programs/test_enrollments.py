"""Enrolment services: conflicts on both sides, rules from the registry, overrides, the steps and who may
take them, version checks, history."""

from datetime import date
from decimal import Decimal

from beneficiaries.errors import StaleRecord
from beneficiaries.models import LifeStatus
from beneficiaries.services import household_register, person_register, person_set_life_status
from programs.enrollments import (
    EnrollmentError,
    NotEligible,
    StepRefused,
    check_application,
    eligibility_setting_save,
    enrollment_activate,
    enrollment_apply,
    enrollment_review,
    enrollment_stop,
    person_eligibility,
)
from programs.models import Enrollment, EnrollmentStatus, Facility
from tests.beneficiaries.factories import household_data, location, person_data
from tests.cast import NINGDU, RUIJIN, CastTestCase


class EnrollmentCase(CastTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        clerk = cls.cast["ruijin_clerk"]
        cls.household = household_register(actor=clerk, data=household_data(RUIJIN, is_dibao=True, size=3))
        # Level 2 physical, born 1975: meets the living and nursing rules, working age until 2034.
        cls.person = person_register(
            actor=clerk, data=person_data(RUIJIN, household=cls.household.pk, relation_to_head="head")
        )

    def apply(self, benefit_type="M03-LIVING", *, actor="ruijin_clerk", person=None, year=2018, **data):
        actor = self.cast[actor]
        application = check_application(
            actor=actor,
            data={"benefit_type": benefit_type, "year": year, **data},
            person=person or self.person,
            household=data.pop("household", None),
            facility=data.pop("facility", None),
        )
        return enrollment_apply(
            actor=actor, application=application, override_reason=data.get("override", "")
        )


class ApplyTest(EnrollmentCase):
    def test_an_eligible_application_is_recorded_with_who_and_where(self):
        e = self.apply(start_date="2018-03-01", amount="110")
        self.assertEqual(e.status, EnrollmentStatus.APPLIED)
        self.assertEqual((e.county_code, e.village_code), (RUIJIN, self.person.village_code))
        self.assertEqual(e.household_id, self.household.pk)
        self.assertEqual(e.applied_by, self.cast["ruijin_clerk"])
        self.assertEqual(e.amount, Decimal("110"))
        self.assertEqual(e.events.count(), 1)
        self.assertEqual(e.events.get().pgh_context.metadata["user"], self.cast["ruijin_clerk"].pk)

    def test_the_same_benefit_twice_in_a_year_is_refused_but_next_year_is_not(self):
        self.apply()
        with self.assertRaisesMessage(EnrollmentError, "2018"):
            self.apply()
        self.assertEqual(self.apply(year=2019).year, 2019)

    def test_a_rejected_application_does_not_block_a_new_one(self):
        e = self.apply()
        enrollment_review(
            actor=self.cast["ruijin_supervisor"],
            enrollment=e,
            approve=False,
            note="材料不全",
            expected_version=e.version,
        )
        self.assertEqual(self.apply().status, EnrollmentStatus.APPLIED)

    def test_a_deceased_person_is_refused_and_an_active_one_is_not(self):
        self.apply()
        person_set_life_status(
            actor=self.cast["ruijin_clerk"],
            person=self.person,
            status=LifeStatus.DECEASED,
            effective_date=date(2018, 5, 2),
            reason="病故",
            expected_version=1,
        )
        with self.assertRaisesMessage(EnrollmentError, "2018-05-02"):
            self.apply("M03-NURSING")

    def test_a_failed_rule_is_refused_with_its_conditions(self):
        level3 = person_register(
            actor=self.cast["ruijin_clerk"],
            data=person_data(
                RUIJIN, sequence=9, level=3, household=self.household.pk, relation_to_head="spouse"
            ),
        )
        with self.assertRaises(NotEligible) as refused:
            self.apply("M03-NURSING", person=level3)
        self.assertEqual([c.code for c in refused.exception.conditions], ["severe"])
        self.assertFalse(Enrollment.objects.exists())

    def test_the_county_extension_is_read_from_its_setting(self):
        level3_mental = person_register(
            actor=self.cast["ruijin_clerk"],
            data=person_data(
                RUIJIN,
                sequence=9,
                category=6,
                level=3,
                household=self.household.pk,
                relation_to_head="spouse",
            ),
        )
        with self.assertRaises(NotEligible):
            self.apply("M03-NURSING", person=level3_mental)
        eligibility_setting_save(
            actor=self.cast["ruijin_supervisor"],
            county_code=RUIJIN,
            values={"nursing_extends_to_level_3_4": True, "working_age_min": 16, "working_age_max": 59},
        )
        self.assertEqual(self.apply("M03-NURSING", person=level3_mental).status, EnrollmentStatus.APPLIED)

    def test_a_supervisor_overrides_with_a_reason_and_a_clerk_cannot(self):
        not_dibao = household_register(
            actor=self.cast["ruijin_clerk"], data=household_data(RUIJIN, is_dibao=False)
        )
        person = person_register(
            actor=self.cast["ruijin_clerk"],
            data=person_data(RUIJIN, sequence=11, household=not_dibao.pk, relation_to_head="spouse"),
        )
        with self.assertRaises(NotEligible):
            self.apply(person=person, override="县残联会议研究同意")
        e = self.apply(actor="ruijin_supervisor", person=person, override="县残联会议研究同意")
        self.assertEqual(e.override_reason, "县残联会议研究同意")
        self.assertEqual([c["code"] for c in e.overridden_conditions], ["dibao_household"])
        self.assertEqual(e.overridden_by, self.cast["ruijin_supervisor"])
        # Where no rule fails there is nothing to override: the reason is not kept.
        nursing = self.apply("M03-NURSING", actor="ruijin_supervisor", person=person, override="x")
        self.assertEqual((nursing.override_reason, nursing.overridden_by), ("", None))
        # A conflict is never overridden.
        with self.assertRaises(EnrollmentError):
            self.apply(actor="ruijin_supervisor", person=person, override="县残联会议研究同意")

    def test_barrier_free_is_once_per_household_in_any_year(self):
        e = self.apply("M11-BARRIER-FREE")
        self.assertIsNone(e.person_id)
        self.assertEqual(e.household_id, self.household.pk)
        with self.assertRaisesMessage(EnrollmentError, "2018"):
            self.apply("M11-BARRIER-FREE", year=2020)
        other = household_register(
            actor=self.cast["ruijin_clerk"], data=household_data(RUIJIN, head_name="刘发")
        )
        member = person_register(
            actor=self.cast["ruijin_clerk"],
            data=person_data(RUIJIN, sequence=13, level=1, household=other.pk, relation_to_head="spouse"),
        )
        self.assertEqual(self.apply("M11-BARRIER-FREE", person=member, year=2020).household_id, other.pk)

    def test_another_countys_person_is_refused(self):
        ningdu = person_register(actor=self.cast["ningdu_clerk"], data=person_data(NINGDU))
        with self.assertRaises(StepRefused):
            self.apply(person=ningdu)

    def test_bad_fields_are_named(self):
        with self.assertRaises(EnrollmentError) as bad:
            self.apply(year=2018, start_date="2019-01-01", amount="-3", note="x" * 201)
        self.assertEqual(set(bad.exception.errors), {"start_date", "amount", "note"})
        with self.assertRaises(EnrollmentError) as bad:
            self.apply(year="18", amount="1.234")
        self.assertEqual(set(bad.exception.errors), {"year", "amount"})
        with self.assertRaises(EnrollmentError) as bad:
            self.apply("NOPE")
        self.assertEqual(set(bad.exception.errors), {"benefit_type"})

    def test_an_institution_type_needs_a_facility_of_its_kind(self):
        sheltered = Facility.objects.create(name="瑞金市阳光工场", kind="sheltered", **location(RUIJIN))
        base = Facility.objects.create(name="瑞金市脐橙基地", kind="base", **location(RUIJIN))
        with self.assertRaises(EnrollmentError) as missing:
            self.apply("M07-INSTITUTION")
        self.assertIn("facility", missing.exception.errors)
        with self.assertRaisesMessage(EnrollmentError, "瑞金市脐橙基地"):
            self.apply("M07-INSTITUTION", facility=base)
        e = self.apply("M07-INSTITUTION", facility=sheltered)
        self.assertEqual((e.recipient_unit, e.facility_id, e.person_id), ("institution", sheltered.pk, None))


class StepsTest(EnrollmentCase):
    def test_the_whole_flow_keeps_who_and_when(self):
        e = self.apply(start_date="2018-02-01")
        supervisor, clerk = self.cast["ruijin_supervisor"], self.cast["ruijin_clerk"]
        e = enrollment_review(actor=supervisor, enrollment=e, approve=True, expected_version=1)
        e = enrollment_activate(actor=clerk, enrollment=e, expected_version=2)
        e = enrollment_stop(
            actor=clerk, enrollment=e, end_date=date(2018, 9, 30), reason="迁出", expected_version=3
        )
        self.assertEqual(e.status, EnrollmentStatus.STOPPED)
        self.assertEqual((e.reviewed_by, e.activated_by, e.stopped_by), (supervisor, clerk, clerk))
        self.assertEqual(e.end_date, date(2018, 9, 30))
        statuses = list(e.events.order_by("pgh_id").values_list("status", flat=True))
        self.assertEqual(statuses, ["applied", "approved", "active", "stopped"])

    def test_the_applicant_does_not_approve_their_own_application(self):
        e = self.apply(actor="ruijin_supervisor")
        with self.assertRaises(StepRefused):
            enrollment_review(
                actor=self.cast["ruijin_supervisor"], enrollment=e, approve=True, expected_version=1
            )

    def test_a_clerk_does_not_approve(self):
        e = self.apply()
        with self.assertRaises(StepRefused):
            enrollment_review(actor=self.cast["ningdu_clerk"], enrollment=e, approve=True, expected_version=1)
        with self.assertRaises(StepRefused):
            enrollment_review(actor=self.cast["ruijin_clerk"], enrollment=e, approve=True, expected_version=1)

    def test_a_rejection_needs_a_note(self):
        e = self.apply()
        with self.assertRaises(EnrollmentError):
            enrollment_review(
                actor=self.cast["ruijin_supervisor"], enrollment=e, approve=False, expected_version=1
            )

    def test_a_stale_step_changes_nothing(self):
        e = self.apply()
        enrollment_review(
            actor=self.cast["ruijin_supervisor"], enrollment=e, approve=True, expected_version=1
        )
        with self.assertRaises(StaleRecord):
            enrollment_stop(
                actor=self.cast["ruijin_clerk"],
                enrollment=e,
                end_date=date(2018, 6, 30),
                reason="死亡",
                expected_version=1,
            )
        self.assertEqual(Enrollment.objects.get().status, EnrollmentStatus.APPROVED)

    def test_steps_out_of_order_are_refused(self):
        e = self.apply()
        with self.assertRaises(StepRefused):
            enrollment_activate(actor=self.cast["ruijin_clerk"], enrollment=e, expected_version=1)

    def test_a_stop_date_outside_the_record_year_is_refused(self):
        e = self.apply(start_date="2018-04-01")
        e = enrollment_review(
            actor=self.cast["ruijin_supervisor"], enrollment=e, approve=True, expected_version=1
        )
        for bad in (date(2018, 3, 31), date(2019, 1, 1)):
            with self.assertRaises(EnrollmentError):
                enrollment_stop(
                    actor=self.cast["ruijin_clerk"],
                    enrollment=e,
                    end_date=bad,
                    reason="x",
                    expected_version=2,
                )
        enrollment_stop(
            actor=self.cast["ruijin_clerk"],
            enrollment=e,
            end_date=date(2018, 4, 1),
            reason="x",
            expected_version=2,
        )

    def test_a_person_who_died_after_applying_is_not_approved(self):
        e = self.apply()
        person_set_life_status(
            actor=self.cast["ruijin_clerk"],
            person=self.person,
            status=LifeStatus.DECEASED,
            effective_date=date(2018, 5, 2),
            reason="病故",
            expected_version=1,
        )
        with self.assertRaises(StepRefused):
            enrollment_review(
                actor=self.cast["ruijin_supervisor"], enrollment=e, approve=True, expected_version=1
            )


class EligibilityListTest(EnrollmentCase):
    def test_each_person_and_household_type_gets_a_verdict(self):
        verdicts = {v.benefit_type.code: v for v in person_eligibility(self.person, year=2018)}
        self.assertNotIn("M07-INSTITUTION", verdicts)
        self.assertTrue(verdicts["M03-LIVING"].eligible)
        self.assertEqual([c.code for c in verdicts["M03-RAISED"].conditions], ["holds_subsidy"])
        self.assertTrue(verdicts["M07-SHELTERED"].eligible)  # level 2 physical, of working age
        e = self.apply()
        enrollment_review(
            actor=self.cast["ruijin_supervisor"], enrollment=e, approve=True, expected_version=1
        )
        verdicts = {v.benefit_type.code: v for v in person_eligibility(self.person, year=2018)}
        self.assertEqual(verdicts["M03-LIVING"].held.pk, e.pk)
        self.assertIsNotNone(verdicts["M03-LIVING"].conflict)
        self.assertTrue(verdicts["M03-RAISED"].eligible)

    def test_settings_are_checked(self):
        with self.assertRaises(EnrollmentError):
            eligibility_setting_save(
                actor=self.cast["ruijin_supervisor"],
                county_code=RUIJIN,
                values={"working_age_min": 60, "working_age_max": 59},
            )
        with self.assertRaises(StepRefused):
            eligibility_setting_save(
                actor=self.cast["ningdu_clerk"],
                county_code=RUIJIN,
                values={"working_age_min": 16, "working_age_max": 59},
            )
