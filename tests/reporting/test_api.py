"""GET /api/v1/progress/: the rows of an area and of the areas below it, in the caller's scope."""

from datetime import date
from decimal import Decimal

from django.utils import translation

from programs.models import Target
from programs.services import target_split
from reporting.services import rollup_run
from tests.cast import CastTestCase

from .data import enrol, household, person, villages


class ProgressApiTest(CastTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        province = Target.objects.get(year=2018, benefit_type=None, area_id="360000")
        target_split(actor=cls.cast["province_officer"], target=province, allocations={"360700": 8000})
        ruijin, ningdu = villages("360781")[0], villages("360730")[0]
        enrol(person(ruijin), "M03-LIVING", amount=Decimal("110.00"))
        enrol(person(ningdu), "M03-LIVING", amount=Decimal("110.00"))
        enrol(household(ningdu), "M11-HOUSING")
        person(ningdu, household(ningdu, [(date(2018, 12, 1), "out", 2018)]))
        rollup_run()

    def get(self, role: str | None, query: str):
        self.login(role)
        return self.client.get(f"/api/v1/progress/?{query}")

    def test_the_callers_own_area_by_default_with_the_areas_below(self):
        body = self.get("ruijin_clerk", "year=2018").json()
        self.assertEqual(body["area"], {"code": "360781", "name": "瑞金市", "level": "county"})
        self.assertEqual([r["benefit_type"] for r in body["rows"]], ["M03-LIVING"])
        living = body["rows"][0]
        self.assertEqual((living["achieved"], living["amount"], living["unit"]), (1, "110.00", "person"))
        self.assertEqual({r["level"] for r in body["children"]}, {"township"})
        self.assertFalse(body["stale"])
        self.assertIsNotNone(body["computed_at"])

    def test_a_city_reviewer_sees_the_city_and_its_counties(self):
        body = self.get("ganzhou_reviewer", "year=2018&area=360700&benefit_type=none").json()
        (city,) = body["rows"]
        self.assertEqual((city["target"], city["achieved"], city["households"]), (8000, 1, 1))
        self.assertEqual(city["completion"], 1 / 8000)
        counties = {r["area_code"]: r for r in body["children"]}
        self.assertEqual(counties["360730"]["achieved"], 1)
        self.assertEqual(counties["360781"]["achieved"], 0)  # a child with no row reads as zero
        self.assertIsNone(counties["360781"]["target"])

    def test_the_province_sees_every_city_and_what_remains_to_split(self):
        body = self.get("province_officer", "year=2018&benefit_type=none").json()
        (province,) = body["rows"]
        self.assertEqual(
            (province["target"], province["allocated"], province["remaining"]), (50000, 8000, 42000)
        )
        self.assertEqual(len(body["children"]), 11)

    def test_another_area_or_one_above_is_not_there(self):
        for role, query in [
            ("ningdu_clerk", "year=2018&area=360781"),
            ("ruijin_clerk", "year=2018&area=360700"),
            ("ganzhou_reviewer", "year=2018&area=360100"),
            ("ruijin_clerk", "year=2018&area=abc"),
        ]:
            self.assertEqual(self.get(role, query).status_code, 404, (role, query))
        township = villages("360781")[0][:9]
        self.assertEqual(self.get("ruijin_clerk", f"year=2018&area={township}").status_code, 200)

    def test_reading_needs_the_target_permission(self):
        self.assertEqual(self.get("sysadmin", "year=2018").status_code, 403)
        self.assertEqual(self.get(None, "year=2018").status_code, 401)

    def test_bad_parameters_are_explained_in_chinese(self):
        translation.activate("zh-hans")
        self.addCleanup(translation.deactivate)
        for query in ("", "year=18", "year=abcd"):
            response = self.get("ningdu_clerk", query)
            self.assertEqual(response.status_code, 400)
            self.assertIn("year", response.json())
        response = self.get("ningdu_clerk", "year=2018&benefit_type=M99-NOTHING")
        self.assertEqual(response.status_code, 400)
        self.assertIn("M99-NOTHING", response.json()["benefit_type"][0])

    def test_a_year_without_a_roll_up_has_no_rows(self):
        body = self.get("ningdu_clerk", "year=2016").json()
        self.assertEqual((body["rows"], body["children"]), ([], []))

    def test_queries_stay_few(self):
        self.login("province_officer")
        self.client.get("/api/v1/progress/?year=2018")
        self.client.get("/api/v1/progress/?year=2018&benefit_type=M03-LIVING")
        # Session and user, their permissions (2), the user's area and the one asked for, the benefit type,
        # the latest run (the rows themselves are read once per run), the session's expiry pushed on (3).
        with self.assertNumQueries(11):
            self.client.get("/api/v1/progress/?year=2018&benefit_type=M03-LIVING")
