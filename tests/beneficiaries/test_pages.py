import re

from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from accounts.services import user_create
from beneficiaries.models import Household, IdNumberView, Person, TransferRequest
from beneficiaries.services import household_register, person_register, person_update
from beneficiaries.validation import make_id_number
from tests.cast import CastTestCase

from .factories import household_data, location, person_data

FULL_ID = re.compile(r"(?<!\d)\d{17}[\dX](?!\d)")


def many_people(actor, county, count, start=100):
    from datetime import date

    people = []
    for n in range(count):
        number = make_id_number(county, date(1960 + n % 40, 1 + n % 12, 1 + n % 28), start + n)
        data = person_data(county, name=f"王{n:03d}")
        data.update(id_number=number, certificate_number=f"{number}42")
        people.append(person_register(actor=actor, data=data))
    return people


class PersonFormTest(CastTestCase):
    def setUp(self):
        self.login("ruijin_clerk")

    def test_a_clerk_registers_a_person(self):
        data = person_data(sequence=8)
        response = self.client.post("/registry/people/new/", data)
        person = Person.objects.get()
        self.assertRedirects(response, f"/registry/people/{person.pk}/")
        self.assertEqual((person.gender, person.county_code, person.version), ("F", "360781", 1))

    def test_errors_come_back_under_their_fields_and_nothing_is_stored(self):
        data = person_data()
        data["id_number"] = data["id_number"][:17] + ("0" if data["id_number"][17] != "0" else "1")
        data["name"] = ""
        response = self.client.post("/registry/people/new/", data)
        self.assertEqual(response.status_code, 200)
        form = response.context["form"]
        self.assertIn("id_number", form.errors)
        self.assertIn("name", form.errors)
        self.assertIn("身份证号", form.errors["id_number"][0])
        self.assertFalse(Person.objects.exists())

    def test_a_household_with_two_disabled_members(self):
        data = {key: value for key, value in household_data().items() if value is not None}
        response = self.client.post("/registry/households/new/", data)
        household = Household.objects.get()
        self.assertRedirects(response, f"/registry/households/{household.pk}/")
        for sequence, relation in ((7, "head"), (8, "spouse")):
            data = person_data(sequence=sequence, relation_to_head=relation, household=household.pk)
            response = self.client.post(f"/registry/people/new/?household={household.pk}", data)
            self.assertRedirects(response, f"/registry/households/{household.pk}/")
        page = self.client.get(f"/registry/households/{household.pk}/").content.decode()
        self.assertEqual(household.members.count(), 2)
        self.assertIn("户主", page)
        self.assertIn("配偶", page)

    def test_a_stale_edit_is_refused_and_shows_what_changed(self):
        person = person_register(actor=self.cast["ruijin_clerk"], data=person_data())
        person_update(
            actor=self.cast["ruijin_supervisor"],
            person=person,
            data=person_data(phone="13800000000"),
            expected_version=1,
        )
        response = self.client.post(
            f"/registry/people/{person.pk}/edit/", {**person_data(name="钟秀兰"), "version": 1}
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.context["conflict"], [("电话", "13907970001", "13800000000")])
        stored = Person.objects.get(pk=person.pk)
        self.assertEqual((stored.name, stored.phone, stored.version), ("钟秀英", "13800000000", 2))

    def test_an_edit_with_the_current_version_saves(self):
        person = person_register(actor=self.cast["ruijin_clerk"], data=person_data())
        response = self.client.post(
            f"/registry/people/{person.pk}/edit/", {**person_data(name="钟秀兰"), "version": 1}
        )
        self.assertRedirects(response, f"/registry/people/{person.pk}/")
        self.assertEqual(Person.objects.get(pk=person.pk).name, "钟秀兰")

    def test_deactivation_with_a_reason(self):
        person = person_register(actor=self.cast["ruijin_clerk"], data=person_data())
        response = self.client.post(
            f"/registry/people/{person.pk}/status/",
            {"life_status": "deceased", "effective_date": "2018-05-02", "reason": "", "version": 1},
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("reason", response.context["form"].errors)
        response = self.client.post(
            f"/registry/people/{person.pk}/status/",
            {"life_status": "deceased", "effective_date": "2018-05-02", "reason": "病故", "version": 1},
        )
        self.assertRedirects(response, f"/registry/people/{person.pk}/")
        self.assertEqual(Person.objects.get(pk=person.pk).life_status, "deceased")


class LiveCheckTest(CastTestCase):
    def test_derived_gender_and_birth_date(self):
        self.login("ruijin_clerk")
        page = self.client.post(
            "/registry/check/", {"id_number": person_data(sequence=8)["id_number"]}
        ).content.decode()
        self.assertIn("1975-03-14", page)
        self.assertIn("女", page)

    def test_an_error_while_typing(self):
        self.login("ruijin_clerk")
        page = self.client.post("/registry/check/", {"id_number": "36078119750314"}).content.decode()
        self.assertIn('class="check bad"', page)

    def test_an_id_held_elsewhere_names_the_county_not_the_person(self):
        holder = person_register(actor=self.cast["ningdu_clerk"], data=person_data("360730", name="黎明珠"))
        self.login("ruijin_clerk")
        page = self.client.post("/registry/check/", {"id_number": holder.id_number}).content.decode()
        self.assertIn("宁都县", page)
        self.assertNotIn("黎明珠", page)

    def test_area_options_list_the_villages_of_a_township(self):
        self.login("ruijin_clerk")
        township = location("360781")["township_code"]
        page = self.client.get(f"/registry/area-options/?township_code={township}").content.decode()
        self.assertIn(location("360781")["village_code"], page)


class ListAndMaskingTest(CastTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.people = many_people(cls.cast["ruijin_clerk"], "360781", 120)

    def test_lists_never_show_a_whole_id_number(self):
        for role in ("ruijin_clerk", "ganzhou_reviewer", "province_officer"):
            self.login(role)
            page = self.client.get("/registry/people/").content.decode()
            with self.subTest(role=role):
                self.assertEqual(FULL_ID.findall(page), [])
                self.assertIn(f"{self.people[0].id_number[:6]}********{self.people[0].id_number[14:]}", page)

    def test_the_clerk_sees_the_whole_number_on_the_detail_page_and_the_view_is_recorded(self):
        person = self.people[0]
        self.login("ruijin_clerk")
        page = self.client.get(f"/registry/people/{person.pk}/").content.decode()
        self.assertIn(person.id_number, page)
        view = IdNumberView.objects.get()
        self.assertEqual((view.person, view.viewer), (person, self.cast["ruijin_clerk"]))

    def test_the_city_reviewer_sees_it_masked_and_nothing_is_recorded(self):
        person = self.people[0]
        self.login("ganzhou_reviewer")
        page = self.client.get(f"/registry/people/{person.pk}/").content.decode()
        self.assertNotIn(person.id_number, page)
        self.assertEqual(FULL_ID.findall(page), [])
        self.assertFalse(IdNumberView.objects.exists())

    def test_pages_follow_the_id_order_both_ways(self):
        self.login("ruijin_clerk")
        first = self.client.get("/registry/people/")
        self.assertEqual(len(first.context["rows"]), 50)
        second = self.client.get(f"/registry/people/{first.context['next_url']}")
        third = self.client.get(f"/registry/people/{second.context['next_url']}")
        names = [row["name"] for r in (first, second, third) for row in r.context["rows"]]
        self.assertEqual(names, [p.name for p in self.people])
        self.assertIsNone(third.context["next_url"])
        back = self.client.get(f"/registry/people/{third.context['prev_url']}")
        self.assertEqual([r["pk"] for r in back.context["rows"]], [r["pk"] for r in second.context["rows"]])

    def test_search_by_name_id_and_certificate(self):
        self.login("ruijin_clerk")
        target = self.people[42]
        for q in (
            "王042",
            target.id_number,
            target.id_number[:14],
            target.certificate_number,
            target.id_number.lower(),
        ):
            with self.subTest(q=q):
                rows = self.client.get("/registry/people/", {"q": q}).context["rows"]
                self.assertIn(target.pk, [r["pk"] for r in rows])
                self.assertLessEqual(len(rows), 11)

    def test_filters(self):
        self.login("ruijin_clerk")
        rows = self.client.get("/registry/people/", {"category": 4, "level": 2}).context["rows"]
        self.assertEqual(len(rows), 50)
        self.assertEqual(self.client.get("/registry/people/", {"category": 1}).context["rows"], [])
        self.assertIn("没有", self.client.get("/registry/people/", {"category": 1}).content.decode())

    def test_other_counties_see_nothing_of_it(self):
        self.login("ningdu_clerk")
        self.assertEqual(self.client.get("/registry/people/").context["rows"], [])
        self.assertEqual(self.client.get(f"/registry/people/{self.people[0].pk}/").status_code, 404)

    def test_the_list_costs_the_same_queries_for_3_or_50_rows(self):
        self.login("ruijin_clerk")
        self.client.get("/registry/people/")
        with CaptureQueriesContext(connection) as full:
            self.client.get("/registry/people/")
        with CaptureQueriesContext(connection) as few:
            self.client.get("/registry/people/", {"q": "王00"})
        self.assertEqual(len(full), len(few))
        self.assertLessEqual(len(full), 12)


class TransferPageTest(CastTestCase):
    def test_request_then_accept_by_the_receiving_supervisor(self):
        person = person_register(actor=self.cast["ruijin_clerk"], data=person_data())
        self.login("ruijin_clerk")
        destination = location("360730")
        response = self.client.post(
            f"/registry/people/{person.pk}/transfer/", {**destination, "reason": "随子女迁居"}
        )
        self.assertRedirects(response, f"/registry/people/{person.pk}/")
        transfer = TransferRequest.objects.get()
        supervisor = user_create(
            username="ningdu_supervisor",
            password="x",
            role=Role.COUNTY_SUPERVISOR,
            area_code="360730",
            check_password=False,
        )
        self.client.force_login(supervisor)
        self.assertIn("随子女迁居", self.client.get("/registry/transfers/").content.decode())
        self.client.post(f"/registry/transfers/{transfer.pk}/answer/", {"decision": "accept"})
        self.assertEqual(Person.objects.get(pk=person.pk).county_code, "360730")


class HistoryPageTest(CastTestCase):
    def test_history_shows_who_changed_what(self):
        person = person_register(actor=self.cast["ruijin_clerk"], data=person_data())
        self.login("ruijin_supervisor")
        self.client.post(
            f"/registry/people/{person.pk}/edit/", {**person_data(phone="13800000000"), "version": 1}
        )
        history = self.client.get(f"/registry/people/{person.pk}/history/").context["history"]
        self.assertEqual(len(history), 2)
        self.assertEqual(history[0]["actor"], self.cast["ruijin_supervisor"])
        self.assertEqual(history[0]["changes"], [("电话", "13907970001", "13800000000")])
        self.assertEqual(history[1]["actor"], self.cast["ruijin_clerk"])
        self.assertEqual(history[1]["label"], "insert")

    def test_household_history_and_status(self):
        household = household_register(actor=self.cast["ruijin_clerk"], data=household_data())
        self.login("ganzhou_reviewer")
        response = self.client.get(f"/registry/households/{household.pk}/history/")
        self.assertEqual(len(response.context["history"]), 1)


class HouseholdDeactivationPageTest(CastTestCase):
    def test_an_empty_household_is_deactivated_with_a_reason(self):
        household = household_register(actor=self.cast["ruijin_clerk"], data=household_data())
        self.login("ruijin_clerk")
        response = self.client.post(
            f"/registry/households/{household.pk}/deactivate/", {"reason": "", "version": 1}
        )
        self.assertIn("reason", response.context["form"].errors)
        response = self.client.post(
            f"/registry/households/{household.pk}/deactivate/", {"reason": "重复建户", "version": 1}
        )
        self.assertRedirects(response, f"/registry/households/{household.pk}/")
        household.refresh_from_db()
        self.assertEqual((household.is_active, household.deactivation_reason), (False, "重复建户"))

    def test_a_household_with_members_stays(self):
        household = household_register(actor=self.cast["ruijin_clerk"], data=household_data())
        person_register(
            actor=self.cast["ruijin_clerk"], data=person_data(household=household.pk, relation_to_head="head")
        )
        self.login("ruijin_clerk")
        response = self.client.post(
            f"/registry/households/{household.pk}/deactivate/", {"reason": "户已合并", "version": 1}
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("在册成员", response.content.decode())


class RegistrationWarningTest(CastTestCase):
    def test_an_id_from_outside_jiangxi_is_registered_with_a_warning(self):
        from datetime import date

        self.login("ruijin_clerk")
        number = make_id_number("440524", date(1960, 1, 1), 3)
        response = self.client.post(
            "/registry/people/new/",
            {**person_data(), "id_number": number, "certificate_number": number + "42"},
            follow=True,
        )
        page = response.content.decode()
        self.assertIn("不在江西省", page)
        self.assertTrue(Person.objects.filter(id_number=number).exists())


class ExportTest(CastTestCase):
    def test_the_export_uploads_again_as_unchanged(self):
        from io import BytesIO

        from openpyxl import load_workbook

        people = many_people(self.cast["ruijin_clerk"], "360781", 5)
        person_register(actor=self.cast["ningdu_clerk"], data=person_data("360730", sequence=3))
        self.login("ruijin_clerk")
        response = self.client.get("/registry/export.xlsx")
        self.assertEqual(
            response["Content-Type"], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        sheet = load_workbook(BytesIO(response.content)).worksheets[0]
        ids = {row[5] for row in sheet.iter_rows(min_row=4, values_only=True)}
        self.assertEqual(ids, {p.id_number for p in people})  # 宁都县's person is not in 瑞金's export
        from beneficiaries.models import RegistryExport

        record = RegistryExport.objects.get()
        self.assertEqual(
            (record.exported_by, record.county_code, record.rows), (self.cast["ruijin_clerk"], "360781", 5)
        )


class OddQueryStringTest(CastTestCase):
    def test_filters_no_record_can_match_give_an_empty_list_not_an_error(self):
        self.login("ruijin_clerk")
        for query in (
            "category=abc",
            "level=9x",
            "q=%00",
            "township=x",
            "life_status=%27",
            "poverty_status=no pe",
        ):
            with self.subTest(query=query):
                self.assertEqual(self.client.get(f"/registry/people/?{query}").status_code, 200)
                self.assertEqual(self.client.get(f"/registry/households/?{query}").status_code, 200)
