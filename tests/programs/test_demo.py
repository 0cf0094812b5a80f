"""Generated demo enrolments pass the rules they are meant to show."""

from datetime import date

from beneficiaries.generator import generate_registry
from programs.demo import generate_enrollments
from programs.eligibility import failing
from programs.enrollments import facts_for, household_only_facts, policy_for
from programs.models import Enrollment, EnrollmentStatus
from tests.cast import RUIJIN, CastTestCase


class DemoTest(CastTestCase):
    def test_every_generated_record_passes_its_rules_and_a_second_run_adds_nothing(self):
        generate_registry(people=150, county_codes=[RUIJIN], seed=7)
        made = generate_enrollments(county_codes=[RUIJIN])
        self.assertGreater(made["enrollments"], 40)
        self.assertEqual(generate_enrollments(county_codes=[RUIJIN])["enrollments"], 0)
        policy = policy_for(RUIJIN)
        records = Enrollment.objects.select_related("person__household", "household")
        self.assertEqual(records.count(), made["enrollments"])
        statuses = set(records.values_list("status", flat=True))
        self.assertTrue({EnrollmentStatus.ACTIVE, EnrollmentStatus.APPLIED} <= statuses)
        for e in records.exclude(benefit_type="M03-RAISED"):
            if e.person_id:
                facts = facts_for(e.person, year=e.year, on=date(e.year, 1, 1))
            elif e.recipient_unit == "household":
                facts = household_only_facts(e.household)
            else:
                continue
            self.assertEqual(failing(e.benefit_type_id, facts, policy), [], (e.benefit_type_id, e.pk))
