"""Facilities: services (checks, own county only, version conflicts naming what changed, history), the pages
(list filters, the people served and the recognitions, forms) and the API."""

from datetime import date

from django.utils import translation
from django.utils.translation import gettext as _

from beneficiaries.errors import NotAllowed, RecordInvalid, StaleRecord
from beneficiaries.services import household_register, person_register
from programs.facilities import facility_create, facility_search, facility_update
from programs.models import Enrollment, Facility
from tests.beneficiaries.factories import household_data, location, person_data
from tests.cast import NINGDU, RUIJIN, CastTestCase


def facility_data(county=RUIJIN, **extra):
    return {
        **location(county),
        "name": "瑞金市阳光家园托养中心",
        "kind": "care",
        "capacity": 40,
        "address": "象湖镇红都大道 8 号",
        "operator": "瑞金市残疾人联合会",
        "phone": "0797-2521234",
        "is_active": True,
        **extra,
    }


def enrol(person, benefit_type, *, facility=None, year=2018, status="approved", **extra):
    """An enrolment as the enrolment services would leave it, written directly for the test."""
    return Enrollment.objects.create(
        benefit_type_id=benefit_type,
        year=year,
        person=person,
        household=person.household,
        recipient_unit="person",
        facility=facility,
        county_code=person.county_code,
        township_code=person.township_code,
        village_code=person.village_code,
        start_date=extra.pop("start_date", date(year, 1, 1)),
        status=status,
        **extra,
    )


class ZhTestCase(CastTestCase):
    def setUp(self):
        translation.activate("zh-hans")
        self.addCleanup(translation.deactivate)


class FacilityServiceTest(ZhTestCase):
    def test_a_clerk_records_a_facility_of_their_own_county(self):
        facility = facility_create(actor=self.cast["ruijin_clerk"], data=facility_data(county_code=NINGDU))
        # The county is always the clerk's own, whatever the data says.
        self.assertEqual((facility.county_code, facility.version, facility.kind), (RUIJIN, 1, "care"))
        event = facility.events.get()
        self.assertEqual(event.pgh_context.metadata["user"], self.cast["ruijin_clerk"].pk)

    def test_every_wrong_field_is_named(self):
        with self.assertRaises(RecordInvalid) as caught:
            facility_create(
                actor=self.cast["ruijin_clerk"],
                data=facility_data(name="", kind="school", capacity="-3", phone="12345", village_code=""),
            )
        errors = caught.exception.errors
        self.assertEqual(set(errors), {"name", "kind", "capacity", "phone", "village_code"})
        self.assertIn(_("Name"), errors["name"][0])
        self.assertIn(_("Capacity"), errors["capacity"][0])
        self.assertFalse(Facility.objects.exists())

    def test_a_village_of_another_county_is_refused(self):
        with self.assertRaises(RecordInvalid) as caught:
            facility_create(actor=self.cast["ruijin_clerk"], data=facility_data(NINGDU))
        self.assertIn("township_code", caught.exception.errors)

    def test_a_name_is_used_once_per_county_and_again_in_another(self):
        facility_create(actor=self.cast["ruijin_clerk"], data=facility_data())
        with self.assertRaises(RecordInvalid) as caught:
            facility_create(actor=self.cast["ruijin_supervisor"], data=facility_data())
        self.assertEqual(
            caught.exception.errors["name"], [_("Name: your county already has a facility with this name.")]
        )
        facility_create(actor=self.cast["ningdu_clerk"], data=facility_data(NINGDU))
        self.assertEqual(Facility.objects.count(), 2)

    def test_offices_above_a_county_and_other_counties_do_not_write(self):
        facility = facility_create(actor=self.cast["ruijin_clerk"], data=facility_data())
        with self.assertRaises(NotAllowed):
            facility_create(actor=self.cast["ganzhou_reviewer"], data=facility_data())
        with self.assertRaises(NotAllowed):
            facility_update(
                actor=self.cast["ningdu_clerk"], facility=facility, data=facility_data(), expected_version=1
            )

    def test_a_stale_save_changes_nothing_and_names_what_changed(self):
        facility = facility_create(actor=self.cast["ruijin_clerk"], data=facility_data())
        facility_update(
            actor=self.cast["ruijin_supervisor"],
            facility=facility,
            data=facility_data(capacity=60, phone="13907971111"),
            expected_version=1,
        )
        with self.assertRaises(StaleRecord) as caught:
            facility_update(
                actor=self.cast["ruijin_clerk"],
                facility=facility,
                data=facility_data(name="瑞金市托养中心"),
                expected_version=1,
            )
        stale = caught.exception
        self.assertEqual(stale.current_version, 2)
        self.assertEqual(stale.changes, {"capacity": (40, 60), "phone": ("0797-2521234", "13907971111")})
        self.assertIn(f"{_('Capacity')}、{_('Phone')}", stale.message)
        facility.refresh_from_db()
        self.assertEqual(
            (facility.name, facility.capacity, facility.version), ("瑞金市阳光家园托养中心", 60, 2)
        )
        # With the current version the same save goes through.
        saved = facility_update(
            actor=self.cast["ruijin_clerk"],
            facility=facility,
            data=facility_data(name="瑞金市托养中心", capacity=60),
            expected_version=2,
        )
        self.assertEqual((saved.name, saved.version), ("瑞金市托养中心", 3))
        self.assertEqual(
            [e.pgh_context.metadata["user"] for e in saved.events.order_by("pgh_id")],
            [self.cast[n].pk for n in ("ruijin_clerk", "ruijin_supervisor", "ruijin_clerk")],
        )

    def test_search_filters_and_scope(self):
        clerk = self.cast["ruijin_clerk"]
        care = facility_create(actor=clerk, data=facility_data())
        base = facility_create(actor=clerk, data=facility_data(name="瑞金市种养殖示范基地", kind="base"))
        closed = facility_create(
            actor=clerk, data=facility_data(name="瑞金市日间照料站", kind="care", is_active=False)
        )
        facility_create(actor=self.cast["ningdu_clerk"], data=facility_data(NINGDU, name="宁都县托养中心"))

        def found(user="ruijin_clerk", q="", **filters):
            return set(facility_search(user=self.cast[user], q=q, filters=filters))

        self.assertEqual(found(), {care, base, closed})
        self.assertEqual(found(kind="care"), {care, closed})
        self.assertEqual(found(kind="care", active="yes"), {care})
        self.assertEqual(found(active="no"), {closed})
        self.assertEqual(found(township=care.township_code), {care, base, closed})
        self.assertEqual(found(township="360781999"), set())
        self.assertEqual(found(kind="school"), set())
        self.assertEqual(found(q="瑞金市种"), {base})
        self.assertEqual(len(found("ganzhou_reviewer")), 4)
        self.assertEqual(found("ganzhou_reviewer", county=NINGDU), {Facility.objects.get(county_code=NINGDU)})
        self.assertEqual(found("nanchang_clerk"), set())


class FacilityPageTest(ZhTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        clerk = cls.cast["ruijin_clerk"]
        cls.facility = facility_create(
            actor=clerk, data=facility_data(kind="sheltered", name="瑞金市辅助性就业中心")
        )
        household = household_register(actor=clerk, data=household_data(RUIJIN))
        cls.person = person_register(
            actor=clerk, data=person_data(RUIJIN, household=household.pk, relation_to_head="head")
        )
        cls.served = enrol(cls.person, "M07-SHELTERED", facility=cls.facility, status="active")
        cls.recognition = Enrollment.objects.create(
            benefit_type_id="M07-INSTITUTION",
            year=2018,
            recipient_unit="institution",
            facility=cls.facility,
            start_date=date(2018, 6, 1),
            status="approved",
            **{k: getattr(cls.facility, k) for k in ("county_code", "township_code", "village_code")},
        )

    def test_the_detail_shows_the_people_served_masked_and_the_recognitions(self):
        self.login("ruijin_clerk")
        page = self.client.get(f"/facilities/{self.facility.pk}/")
        self.assertEqual(page.status_code, 200)
        [row] = page.context["people"]
        self.assertEqual(row["enrolment"], self.served)
        self.assertEqual(row["masked"], f"{self.person.id_number[:6]}********{self.person.id_number[14:]}")
        body = page.content.decode()
        self.assertNotIn(self.person.id_number, body)
        self.assertIn("辅助性就业", body)
        self.assertEqual([r["enrolment"] for r in page.context["recognitions"]], [self.recognition])
        self.assertIn("示范性残疾人辅助性就业机构", body)
        self.assertTrue(page.context["can_edit"])

    def test_offices_above_see_it_without_an_edit_link_and_other_counties_get_404(self):
        self.login("ganzhou_reviewer")
        page = self.client.get(f"/facilities/{self.facility.pk}/")
        self.assertEqual(page.status_code, 200)
        self.assertFalse(page.context["can_edit"])
        self.login("ningdu_clerk")
        self.assertEqual(self.client.get(f"/facilities/{self.facility.pk}/").status_code, 404)
        self.assertEqual(self.client.get(f"/facilities/{self.facility.pk}/edit/").status_code, 404)

    def test_the_list_filters_by_kind_and_operation(self):
        self.login("ruijin_clerk")
        listed = self.client.get("/facilities/?kind=sheltered&active=yes")
        self.assertEqual([r["facility"] for r in listed.context["rows"]], [self.facility])
        self.assertEqual(self.client.get("/facilities/?kind=care").context["rows"], [])
        self.assertEqual(self.client.get("/facilities/?active=no").context["rows"], [])

    def test_a_clerk_adds_a_facility_with_the_pickers(self):
        self.login("ruijin_clerk")
        form = self.client.get("/facilities/new/")
        self.assertContains(form, 'hx-get="/registry/area-options/"')
        data = facility_data(name="瑞金市残疾人托养中心")
        data.pop("county_code")
        response = self.client.post("/facilities/new/", data)
        created = Facility.objects.get(name="瑞金市残疾人托养中心")
        self.assertRedirects(response, f"/facilities/{created.pk}/")
        refused = self.client.post("/facilities/new/", {**data, "name": ""})
        self.assertEqual(refused.status_code, 200)
        self.assertIn("name", refused.context["form"].errors)

    def test_an_edit_over_someone_elses_shows_what_they_changed(self):
        self.login("ruijin_clerk")
        facility_update(
            actor=self.cast["ruijin_supervisor"],
            facility=self.facility,
            data=facility_data(kind="sheltered", name="瑞金市辅助性就业中心", operator="瑞金市民政局"),
            expected_version=1,
        )
        data = facility_data(kind="sheltered", name="瑞金市辅助性就业中心", capacity=55, version=1)
        data.pop("county_code")
        response = self.client.post(f"/facilities/{self.facility.pk}/edit/", data)
        self.assertEqual(response.status_code, 200)
        self.assertIn((_("operated by"), "瑞金市残疾人联合会", "瑞金市民政局"), response.context["conflict"])
        self.assertIn(_("Operated by"), response.context["form"].non_field_errors()[0])
        self.facility.refresh_from_db()
        self.assertEqual(self.facility.capacity, 40)


class FacilityApiTest(ZhTestCase):
    def test_create_read_and_patch_with_the_version(self):
        self.login("ruijin_clerk")
        created = self.client.post("/api/v1/facilities/", facility_data(), content_type="application/json")
        self.assertEqual(created.status_code, 201, created.content)
        pk = created.json()["id"]
        self.assertEqual(created.json()["county_code"], RUIJIN)
        patched = self.client.patch(
            f"/api/v1/facilities/{pk}/", {"capacity": 80, "version": 1}, content_type="application/json"
        )
        self.assertEqual(patched.status_code, 200, patched.content)
        self.assertEqual((patched.json()["capacity"], patched.json()["version"]), (80, 2))
        self.assertEqual(patched.json()["name"], "瑞金市阳光家园托养中心")  # untouched fields stay
        stale = self.client.patch(
            f"/api/v1/facilities/{pk}/", {"capacity": 90, "version": 1}, content_type="application/json"
        )
        self.assertEqual(stale.status_code, 409)
        self.assertEqual(stale.json()["changes"], {"capacity": {"yours_opened": 40, "current": 80}})
        self.assertIn(_("Capacity"), stale.json()["detail"])
        listed = self.client.get("/api/v1/facilities/?kind=care").json()["results"]
        self.assertEqual([f["id"] for f in listed], [pk])
        self.login("ningdu_clerk")
        self.assertEqual(self.client.get(f"/api/v1/facilities/{pk}/").status_code, 404)
        self.assertEqual(self.client.get("/api/v1/facilities/").json()["results"], [])

    def test_field_errors_are_a_400_per_field(self):
        self.login("ruijin_clerk")
        response = self.client.post(
            "/api/v1/facilities/", facility_data(kind="x", phone="1"), content_type="application/json"
        )
        self.assertEqual(response.status_code, 400)
        self.assertEqual(set(response.json()), {"kind", "phone"})
