from datetime import date

from beneficiaries.models import Household, IdNumberView, LifeStatus, Person
from beneficiaries.selectors import mask_id_number
from beneficiaries.services import household_register, person_register, person_set_life_status
from beneficiaries.validation import make_id_number
from tests.cast import NINGDU, PASSWORD, RUIJIN, CastTestCase

from .factories import household_data, location, person_data

PERSONS = "/api/v1/persons/"
HOUSEHOLDS = "/api/v1/households/"


class ApiTestCase(CastTestCase):
    def setUp(self):
        self.clerk = self.login("ruijin_clerk")

    def post(self, url, data):
        return self.client.post(url, data, content_type="application/json")

    def patch(self, url, data):
        return self.client.patch(url, data, content_type="application/json")

    def register(self, county=RUIJIN, actor="ruijin_clerk", **data):
        return person_register(actor=self.cast[actor], data=person_data(county, **data))

    def bulk_people(self, count, start=100):
        """Rows straight into the table: enough people for paging without a service call each."""
        place = location(RUIJIN)
        Person.objects.bulk_create(
            Person(
                name=f"黄{n}",
                id_number=make_id_number(RUIJIN, date(1980, 1, 1), n),
                gender="M" if n % 2 else "F",
                birth_date=date(1980, 1, 1),
                disability_category=1,
                disability_level=3,
                **place,
            )
            for n in range(start, start + count)
        )


class RegisterTest(ApiTestCase):
    def test_a_person_with_a_household(self):
        household = self.post(HOUSEHOLDS, household_data())
        self.assertEqual(household.status_code, 201, household.json())
        self.assertEqual(household.json()["version"], 1)
        data = person_data(household=household.json()["id"], relation_to_head="head")
        response = self.post(PERSONS, data)
        self.assertEqual(response.status_code, 201, response.json())
        body = response.json()
        self.assertEqual(
            {k: body[k] for k in ("gender", "birth_date", "life_status", "version", "household")},
            {
                "gender": "M",  # the 17th digit is odd
                "birth_date": "1975-03-14",
                "life_status": "active",
                "version": 1,
                "household": household.json()["id"],
            },
        )
        person = Person.objects.get(pk=body["id"])
        self.assertEqual((person.household_id, person.relation_to_head), (household.json()["id"], "head"))

    def test_every_bad_field_is_named(self):
        data = person_data(
            name=" ", disability_category=0, disability_level=9, relation_to_head="boss", township_code=""
        )
        data["id_number"] = data["id_number"][:17] + ("0" if data["id_number"][17] != "0" else "1")
        data["village_code"] = location(NINGDU)["village_code"]
        response = self.post(PERSONS, data)
        self.assertEqual(response.status_code, 400)
        errors = response.json()
        self.assertGreaterEqual(
            set(errors),
            {"name", "id_number", "disability_category", "disability_level", "township_code",
             "village_code", "relation_to_head"},
        )  # fmt: skip
        for field, messages in errors.items():
            with self.subTest(field=field):
                self.assertTrue(messages and all(isinstance(m, str) and m for m in messages))
        self.assertFalse(Person.objects.exists())

    def test_an_empty_body_names_the_required_fields(self):
        errors = self.post(PERSONS, {}).json()
        self.assertGreaterEqual(set(errors), {"name", "id_number", "county_code", "disability_category"})

    def test_a_household_that_is_no_number_or_not_there(self):
        for household in ("abc", 999_999_999):
            with self.subTest(household=household):
                response = self.post(PERSONS, person_data(household=household, relation_to_head="head"))
                self.assertEqual(response.status_code, 400)
                self.assertIn("household", response.json())

    def test_a_body_that_is_not_an_object(self):
        response = self.post(PERSONS, [person_data()])
        self.assertEqual(response.status_code, 400)
        self.assertIn("non_field_errors", response.json())

    def test_an_id_registered_in_another_county_names_that_county_only(self):
        held = self.register(NINGDU, actor="ningdu_clerk")
        data = person_data(RUIJIN, id_number=held.id_number, certificate_number=held.id_number + "42")
        response = self.post(PERSONS, data)
        self.assertEqual(response.status_code, 400)
        self.assertEqual(list(response.json()), ["id_number"])
        message = response.json()["id_number"][0]
        self.assertIn("宁都县", message)
        self.assertNotIn(held.name, message)
        self.assertNotIn(held.id_number, message)

    def test_a_household_with_a_bad_exit_year(self):
        response = self.post(HOUSEHOLDS, household_data(poverty_status="out", size=0))
        self.assertEqual(response.status_code, 400)
        self.assertGreaterEqual(set(response.json()), {"exit_year", "size"})
        self.assertFalse(Household.objects.exists())


class EditTest(ApiTestCase):
    def setUp(self):
        super().setUp()
        self.person = self.register()
        self.url = f"{PERSONS}{self.person.pk}/"

    def test_a_patch_changes_only_what_it_sends(self):
        response = self.patch(self.url, {"phone": "13800000000", "version": 1})
        self.assertEqual(response.status_code, 200, response.json())
        self.assertEqual((response.json()["phone"], response.json()["version"]), ("13800000000", 2))
        self.person.refresh_from_db()
        self.assertEqual((self.person.name, self.person.certificate_number[-2:]), ("钟秀英", "42"))

    def test_a_put_sends_the_whole_record(self):
        response = self.client.put(
            self.url, {**person_data(name="钟秀兰"), "version": 1}, content_type="application/json"
        )
        self.assertEqual(response.status_code, 200, response.json())
        self.assertEqual(response.json()["name"], "钟秀兰")

    def test_a_missing_version_is_named_in_chinese(self):
        response = self.patch(self.url, {"phone": "13800000000"})
        self.assertEqual(response.status_code, 400)
        self.assertEqual(response.json(), {"version": ["该字段是必填项。"]})  # DRF's own catalogue

    def test_the_second_of_two_edits_from_the_same_version_is_a_conflict(self):
        first = self.patch(self.url, {"phone": "13800000000", "version": 1})
        self.assertEqual(first.status_code, 200)
        second = self.patch(self.url, {"name": "钟秀兰", "phone": "13900000000", "version": 1})
        self.assertEqual(second.status_code, 409)
        body = second.json()
        self.assertTrue(body["detail"])
        self.assertEqual(body["current_version"], 2)
        self.assertEqual(
            body["changes"], {"phone": {"yours_opened": "13907970001", "current": "13800000000"}}
        )
        self.person.refresh_from_db()
        self.assertEqual(
            (self.person.name, self.person.phone, self.person.version), ("钟秀英", "13800000000", 2)
        )

    def test_a_person_does_not_move_county_by_an_edit(self):
        response = self.patch(self.url, {**location(NINGDU), "version": 1})
        self.assertEqual(response.status_code, 400)
        self.assertIn("county_code", response.json())

    def test_nothing_is_deleted(self):
        self.assertEqual(self.client.delete(self.url).status_code, 403)
        self.assertTrue(Person.objects.filter(pk=self.person.pk).exists())

    def test_deactivation_and_back(self):
        url = f"{self.url}status/"
        deceased = {"life_status": "deceased", "effective_date": "2024-05-01", "reason": "病故", "version": 1}
        response = self.post(url, deceased)
        self.assertEqual(response.status_code, 200, response.json())
        self.assertEqual((response.json()["life_status"], response.json()["version"]), ("deceased", 2))
        self.assertEqual(self.post(url, deceased).status_code, 409)
        active = {"life_status": "active", "effective_date": "2024-06-01", "version": 2}
        self.assertEqual(self.post(url, active).json()["life_status"], "active")
        self.assertEqual(self.person.status_changes.count(), 2)

    def test_deactivation_errors_name_the_field(self):
        url = f"{self.url}status/"
        valid = {"life_status": "moved_out", "effective_date": "2024-05-01", "reason": "外出", "version": 1}
        cases = {
            "reason": {"reason": ""},
            "effective_date": {"effective_date": "2999-01-01"},
            "life_status": {"life_status": "gone"},
            "version": {"version": None},
        }
        for field, wrong in cases.items():
            data = {k: v for k, v in {**valid, **wrong}.items() if v is not None}
            with self.subTest(field=field):
                response = self.post(url, data)
                self.assertEqual(response.status_code, 400)
                self.assertIn(field, response.json())
        self.person.refresh_from_db()
        self.assertEqual(self.person.life_status, LifeStatus.ACTIVE)

    def test_a_household_edit_and_deactivation(self):
        household = household_register(actor=self.clerk, data=household_data())
        url = f"{HOUSEHOLDS}{household.pk}/"
        response = self.patch(url, {"size": 5, "version": 1})
        self.assertEqual((response.status_code, response.json()["size"]), (200, 5))
        self.assertEqual(self.post(f"{url}deactivate/", {"version": 2}).status_code, 400)
        response = self.post(f"{url}deactivate/", {"reason": "合户", "version": 2})
        self.assertEqual(response.status_code, 200, response.json())
        self.assertFalse(response.json()["is_active"])


class MaskingTest(ApiTestCase):
    def setUp(self):
        super().setUp()
        self.person = self.register()
        self.url = f"{PERSONS}{self.person.pk}/"

    def test_a_city_reviewer_sees_masked_numbers(self):
        self.login("ganzhou_reviewer")
        body = self.client.get(self.url).json()
        self.assertEqual(body["id_number"], mask_id_number(self.person.id_number))
        self.assertRegex(body["id_number"], r"^360781\*{8}\d{3}[\dX]$")
        self.assertEqual(body["certificate_number"], mask_id_number(self.person.certificate_number))
        self.assertNotIn(self.person.id_number, str(body))
        self.assertFalse(IdNumberView.objects.exists())

    def test_a_clerk_sees_whole_numbers_in_detail_only_and_each_view_is_logged(self):
        body = self.client.get(self.url).json()
        self.assertEqual(
            (body["id_number"], body["certificate_number"]),
            (self.person.id_number, self.person.certificate_number),
        )
        view = IdNumberView.objects.get()
        self.assertEqual((view.person, view.viewer, view.path), (self.person, self.clerk, self.url))
        listed = self.client.get(PERSONS).json()["results"][0]
        self.assertEqual(listed["id_number"], mask_id_number(self.person.id_number))
        self.assertEqual(listed["certificate_number"], mask_id_number(self.person.certificate_number))
        self.assertEqual(IdNumberView.objects.count(), 1)

    def test_a_person_without_a_certificate(self):
        person = self.register(sequence=9, certificate_number="")
        self.login("ganzhou_reviewer")
        self.assertIsNone(self.client.get(f"{PERSONS}{person.pk}/").json()["certificate_number"])


class ListTest(ApiTestCase):
    def names(self, **params):
        response = self.client.get(PERSONS, params)
        self.assertEqual(response.status_code, 200, response.json())
        return sorted(p["name"] for p in response.json()["results"])

    def test_filters_and_search(self):
        household = household_register(actor=self.clerk, data=household_data(poverty_status="returned"))
        first = self.register(sequence=11)
        self.register(sequence=12, name="刘德华", category=5, level=1, household=household.pk,
                      relation_to_head="head")  # fmt: skip
        gone = self.register(sequence=13, name="钟小明")
        person_set_life_status(
            actor=self.clerk,
            person=gone,
            status=LifeStatus.MOVED_OUT,
            effective_date=date(2024, 1, 1),
            reason="外出",
            expected_version=1,
        )
        self.register(NINGDU, actor="ningdu_clerk", sequence=14, name="钟宁都")
        self.assertEqual(self.names(), ["刘德华", "钟小明", "钟秀英"])
        self.assertEqual(self.names(q="钟"), ["钟小明", "钟秀英"])
        self.assertEqual(self.names(q="钟秀"), ["钟秀英"])
        self.assertEqual(self.names(q=first.id_number[:17]), ["钟秀英"])
        self.assertEqual(len(self.names(q=first.id_number[:14])), 3)
        self.assertEqual(self.names(q=first.certificate_number), ["钟秀英"])
        self.assertEqual(self.names(category=5), ["刘德华"])
        self.assertEqual(self.names(level=2), ["钟小明", "钟秀英"])
        self.assertEqual(self.names(life_status="moved_out"), ["钟小明"])
        self.assertEqual(self.names(poverty_status="returned"), ["刘德华"])
        self.assertEqual(self.names(village=first.village_code, township=first.township_code, category=""),
                         ["刘德华", "钟小明", "钟秀英"])  # fmt: skip
        self.assertEqual(self.names(village="360781999999"), [])

    def test_a_bad_filter_value_is_named(self):
        response = self.client.get(PERSONS, {"category": 9, "life_status": "gone"})
        self.assertEqual(response.status_code, 400)
        self.assertEqual(set(response.json()), {"category", "life_status"})

    def test_households_are_filtered_and_scoped(self):
        household_register(actor=self.clerk, data=household_data(head_name="钟长生"))
        household_register(
            actor=self.clerk, data=household_data(head_name="刘长生", poverty_status="returned")
        )
        household_register(actor=self.cast["ningdu_clerk"], data=household_data(NINGDU, head_name="钟宁都"))

        def heads(**params):
            return sorted(h["head_name"] for h in self.client.get(HOUSEHOLDS, params).json()["results"])

        self.assertEqual(heads(), ["刘长生", "钟长生"])
        self.assertEqual(heads(q="钟"), ["钟长生"])
        self.assertEqual(heads(poverty_status="returned"), ["刘长生"])
        self.login("ganzhou_reviewer")
        self.assertEqual(heads(q="钟"), ["钟宁都", "钟长生"])

    def test_cursor_pages_walk_the_whole_list_once(self):
        self.bulk_people(57)
        seen, url, pages = [], PERSONS, 0
        while url:
            body = self.client.get(url).json()
            seen += [p["id"] for p in body["results"]]
            url, pages = body["next"], pages + 1
        self.assertEqual(pages, 2)
        self.assertEqual(len(seen), 57)
        self.assertEqual(seen, sorted(set(seen)))
        self.assertNotIn("count", body)

    def test_list_queries_do_not_grow_with_the_rows(self):
        # session, user, the user's area, 2 x permissions, the page (one join for the household's
        # status), and the session's new expiry (3 with its savepoint)
        household = household_register(actor=self.clerk, data=household_data())
        for rows in (3, 30):
            Person.objects.all().delete()
            self.bulk_people(rows)
            Person.objects.update(household=household, relation_to_head="other")
            with self.subTest(rows=rows), self.assertNumQueries(9):
                response = self.client.get(PERSONS, {"poverty_status": "not_out"})
            self.assertEqual(len(response.json()["results"]), rows)


class AuthAndAuditTest(ApiTestCase):
    def token_for(self, username):
        response = self.client.post(
            "/api/v1/auth/token/",
            {"username": username, "password": PASSWORD},
            content_type="application/json",
        )
        return response.json()["token"]

    def test_token_auth(self):
        token = self.token_for("ruijin_clerk")
        self.client.logout()
        self.assertEqual(self.client.get(PERSONS).status_code, 401)
        auth = {"HTTP_AUTHORIZATION": f"Token {token}"}
        self.assertEqual(self.client.get(PERSONS, **auth).status_code, 200)
        response = self.client.post(PERSONS, person_data(), content_type="application/json", **auth)
        self.assertEqual(response.status_code, 201, response.json())
        self.assertEqual(Person.objects.get().events.get().pgh_context.metadata["user"], self.clerk.pk)

    def test_each_write_leaves_one_history_row_with_the_actor(self):
        person_id = self.post(PERSONS, person_data()).json()["id"]
        url = f"{PERSONS}{person_id}/"
        self.assertEqual(self.patch(url, {"phone": "13800000000", "version": 1}).status_code, 200)
        self.assertEqual(self.patch(url, {"phone": "13700000000", "version": 1}).status_code, 409)
        status = {"life_status": "deceased", "effective_date": "2024-05-01", "reason": "病故", "version": 2}
        self.assertEqual(self.post(f"{url}status/", status).status_code, 200)
        events = list(Person.objects.get(pk=person_id).events.order_by("pgh_id"))
        self.assertEqual([e.pgh_label for e in events], ["insert", "update", "update"])
        self.assertEqual({e.pgh_context.metadata["user"] for e in events}, {self.clerk.pk})
        household_id = self.post(HOUSEHOLDS, household_data()).json()["id"]
        self.patch(f"{HOUSEHOLDS}{household_id}/", {"size": 6, "version": 1})
        events = list(Household.objects.get(pk=household_id).events.order_by("pgh_id"))
        self.assertEqual([e.pgh_context.metadata["user"] for e in events], [self.clerk.pk] * 2)


class SchemaTest(ApiTestCase):
    def test_the_schema_documents_the_registry(self):
        response = self.client.get("/api/schema/", {"format": "json"})
        self.assertEqual(response.status_code, 200)
        schema = response.json()
        for path in ("/api/v1/persons/", "/api/v1/persons/{id}/", "/api/v1/persons/{id}/status/",
                     "/api/v1/households/", "/api/v1/households/{id}/",
                     "/api/v1/households/{id}/deactivate/"):  # fmt: skip
            self.assertIn(path, schema["paths"])
        self.assertEqual(
            list(schema["components"]["schemas"]["Person"]["properties"]),
            ["id", "name", "id_number", "certificate_number", "disability_category", "disability_level",
             "gender", "birth_date", "county_code", "township_code", "village_code", "household",
             "relation_to_head", "phone", "is_employed", "work_injury_nursing", "life_status", "version"],
        )  # fmt: skip
        persons = schema["paths"]["/api/v1/persons/"]
        parameters = {p["name"] for p in persons["get"]["parameters"]}
        self.assertGreaterEqual(
            parameters,
            {"q", "township", "village", "category", "level", "life_status", "poverty_status", "cursor"},
        )
        self.assertNotIn("delete", schema["paths"]["/api/v1/persons/{id}/"])
        self.assertIn("409", schema["paths"]["/api/v1/persons/{id}/"]["patch"]["responses"])
