"""Enrolment pages and API as a clerk and a supervisor use them."""

from datetime import date

from django.utils import translation

from beneficiaries.services import household_register, person_register
from programs.enrollments import check_application, enrollment_apply
from programs.models import EligibilitySetting, Enrollment, EnrollmentStatus
from tests.beneficiaries.factories import household_data, person_data
from tests.cast import RUIJIN, CastTestCase


class PagesCase(CastTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        clerk = cls.cast["ruijin_clerk"]
        cls.household = household_register(actor=clerk, data=household_data(RUIJIN, is_dibao=False))
        data = person_data(RUIJIN, household=cls.household.pk, relation_to_head="head")
        cls.person = person_register(actor=clerk, data=data)

    def setUp(self):
        translation.activate("zh-hans")

    def applied(self, benefit_type="M09-RURAL-TRAINING", actor="ruijin_clerk"):
        actor = self.cast[actor]
        data = {"benefit_type": benefit_type, "year": 2018}
        return enrollment_apply(
            actor=actor, application=check_application(actor=actor, data=data, person=self.person)
        )


class CreatePageTest(PagesCase):
    def test_the_live_check_names_the_failing_rule(self):
        self.login("ruijin_clerk")
        response = self.client.post(
            f"/enrollments/new/check/?person={self.person.pk}", {"benefit_type": "M03-LIVING", "year": "2018"}
        )
        self.assertContains(response, "低保")
        self.assertContains(response, "check bad")
        response = self.client.post(
            "/enrollments/new/check/",
            {"person": self.person.pk, "benefit_type": "M03-NURSING", "year": "2018"},
        )
        self.assertContains(response, "check good")

    def test_a_failing_application_saves_nothing_and_a_clerk_sees_no_override(self):
        self.login("ruijin_clerk")
        url = f"/enrollments/new/?person={self.person.pk}"
        self.assertNotContains(self.client.get(url), 'name="override_reason"')
        response = self.client.post(
            url, {"benefit_type": "M03-LIVING", "year": "2018", "override_reason": "x"}
        )
        self.assertContains(response, "低保")
        self.assertFalse(Enrollment.objects.exists())

    def test_a_supervisor_records_an_exception_with_a_reason(self):
        self.login("ruijin_supervisor")
        url = f"/enrollments/new/?person={self.person.pk}"
        self.assertContains(self.client.get(url), 'name="override_reason"')
        response = self.client.post(
            url,
            {"benefit_type": "M03-LIVING", "year": "2018", "override_reason": "低保审批中，县残联研究同意"},
        )
        enrollment = Enrollment.objects.get()
        self.assertRedirects(response, f"/enrollments/{enrollment.pk}/")
        page = self.client.get(f"/enrollments/{enrollment.pk}/")
        self.assertContains(page, "低保审批中，县残联研究同意")

    def test_field_errors_are_shown_beside_their_fields(self):
        self.login("ruijin_clerk")
        response = self.client.post(
            f"/enrollments/new/?person={self.person.pk}",
            {"benefit_type": "M09-RURAL-TRAINING", "year": "2018", "amount": "12.345"},
        )
        self.assertContains(response, "field-error")
        self.assertFalse(Enrollment.objects.exists())


class StepPagesTest(PagesCase):
    def test_approve_then_activate_then_stop(self):
        e = self.applied()
        self.login("ruijin_supervisor")
        self.assertContains(self.client.get(f"/enrollments/{e.pk}/"), 'value="approve"')
        self.client.post(
            f"/enrollments/{e.pk}/step/", {"step": "review", "decision": "approve", "version": 1}
        )
        self.login("ruijin_clerk")
        self.client.post(f"/enrollments/{e.pk}/step/", {"step": "activate", "version": 2})
        self.client.post(
            f"/enrollments/{e.pk}/step/",
            {"step": "stop", "version": 3, "end_date": "2018-08-31", "stop_reason": "外出务工"},
        )
        e.refresh_from_db()
        self.assertEqual((e.status, e.end_date), (EnrollmentStatus.STOPPED, date(2018, 8, 31)))

    def test_a_stale_form_says_so_and_changes_nothing(self):
        e = self.applied()
        self.login("ruijin_supervisor")
        self.client.post(
            f"/enrollments/{e.pk}/step/", {"step": "review", "decision": "approve", "version": 1}
        )
        self.login("ruijin_clerk")
        response = self.client.post(
            f"/enrollments/{e.pk}/step/",
            {"step": "stop", "version": 1, "end_date": "2018-08-31", "stop_reason": "x"},
            follow=True,
        )
        self.assertContains(response, "message error")
        e.refresh_from_db()
        self.assertEqual(e.status, EnrollmentStatus.APPROVED)

    def test_the_supervisor_approves_many_at_once_but_not_their_own(self):
        first = self.applied()
        own = self.applied("M10-ECOMMERCE", actor="ruijin_supervisor")
        self.login("ruijin_supervisor")
        page = self.client.get("/enrollments/?status=applied")
        self.assertContains(page, f'name="ids" value="{first.pk}"')
        self.assertNotContains(page, f'name="ids" value="{own.pk}"')
        self.client.post("/enrollments/approve/", {"ids": [first.pk, own.pk]})
        statuses = dict(Enrollment.objects.values_list("pk", "status"))
        self.assertEqual(statuses, {first.pk: "approved", own.pk: "applied"})


class PersonMeasuresTest(PagesCase):
    def test_received_and_eligible_are_listed(self):
        self.applied()
        self.login("ruijin_clerk")
        response = self.client.get(f"/enrollments/person/{self.person.pk}/?year=2018")
        self.assertContains(response, "农村残疾人实用技术培训")  # received
        self.assertContains(response, "重度残疾人护理补贴")  # level 2: eligible, not received
        self.assertContains(response, "贫困重度残疾人家庭无障碍改造")  # a household type, offered too
        self.assertNotContains(response, "残疾大学生资助")  # no rule: not offered as "eligible"
        self.assertContains(response, "?person=")

    def test_the_person_page_loads_it(self):
        self.login("ganzhou_reviewer")
        page = self.client.get(f"/registry/people/{self.person.pk}/")
        self.assertContains(page, f"/enrollments/person/{self.person.pk}/")
        fragment = self.client.get(f"/enrollments/person/{self.person.pk}/")
        self.assertNotContains(fragment, "/enrollments/new/")  # the city reads; it does not record


class SettingsPageTest(PagesCase):
    def test_the_supervisor_saves_and_the_clerk_reads(self):
        self.login("ruijin_supervisor")
        self.client.post(
            "/enrollments/settings/",
            {"living_extends_to_low_income": "on", "working_age_min": "16", "working_age_max": "60"},
        )
        setting = EligibilitySetting.objects.get(county_id=RUIJIN)
        self.assertEqual((setting.living_extends_to_low_income, setting.working_age_max), (True, 60))
        self.assertEqual(setting.events.count(), 1)
        self.login("ruijin_clerk")
        self.assertContains(self.client.get("/enrollments/settings/"), "disabled")
        self.assertEqual(self.client.post("/enrollments/settings/", {}).status_code, 403)


class ApiTest(PagesCase):
    def test_a_failing_rule_is_a_400_with_its_conditions_and_an_override_passes(self):
        self.login("ruijin_clerk")
        body = {"benefit_type": "M03-LIVING", "year": 2018, "person": self.person.pk}
        response = self.client.post("/api/v1/enrollments/", body, content_type="application/json")
        self.assertEqual(response.status_code, 400)
        self.assertEqual([c["code"] for c in response.json()["conditions"]], ["dibao_household"])
        self.login("ruijin_supervisor")
        body["override_reason"] = "县残联研究同意"
        response = self.client.post("/api/v1/enrollments/", body, content_type="application/json")
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["overridden_conditions"][0]["code"], "dibao_household")

    def test_a_conflict_is_a_400_and_a_stale_step_a_409(self):
        e = self.applied()
        self.login("ruijin_clerk")
        body = {"benefit_type": "M09-RURAL-TRAINING", "year": 2018, "person": self.person.pk}
        response = self.client.post("/api/v1/enrollments/", body, content_type="application/json")
        self.assertEqual(response.status_code, 400)
        self.assertIn("__all__", response.json())
        self.login("ruijin_supervisor")
        url = f"/api/v1/enrollments/{e.pk}/approve/"
        self.assertEqual(
            self.client.post(url, {"version": 1}, content_type="application/json").status_code, 200
        )
        response = self.client.post(url, {"version": 1}, content_type="application/json")
        self.assertEqual(response.status_code, 409)

    def test_eligibility_lists_every_person_and_household_type(self):
        self.login("ruijin_clerk")
        rows = self.client.get(f"/api/v1/persons/{self.person.pk}/eligibility/?year=2018").json()
        by_code = {row["benefit_type"]: row for row in rows}
        self.assertNotIn("M07-INSTITUTION", by_code)
        self.assertFalse(by_code["M03-LIVING"]["eligible"])
        self.assertEqual(by_code["M03-LIVING"]["conditions"][0]["code"], "dibao_household")
        self.assertTrue(by_code["M03-NURSING"]["eligible"])
