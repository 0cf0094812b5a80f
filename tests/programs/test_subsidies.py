"""The monthly list of the two subsidies: checked person by person against a computation of its own, at the
boundaries of death, moving out, stopping and starting, with and without standards; the page, the export
and the API, each scoped to the caller's area."""

import random
from datetime import date, timedelta
from decimal import Decimal
from io import BytesIO
from unittest import mock

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from openpyxl import load_workbook

from areas.models import Area, AreaLevel
from beneficiaries.models import IdNumberView, LifeStatus, Person, RegistryExport
from beneficiaries.services import household_register, person_register, person_set_life_status
from beneficiaries.validation import make_id_number
from programs.models import ACHIEVED_STATUSES, EnrollmentStatus, Standard
from programs.subsidies import LIVING, NOT_SET, NURSING, month_bounds, monthly_subsidy_list
from tests.beneficiaries.factories import household_data, person_data
from tests.cast import NINGDU, RUIJIN, CastTestCase

from .test_facilities import enrol

STATUSES = [s.value for s in EnrollmentStatus]


def villages(county: str, count: int) -> list[Area]:
    """Villages of `count` different townships of the county."""
    found, townships = [], set()
    for village in Area.objects.filter(code__startswith=county, level=AreaLevel.VILLAGE).order_by("code"):
        if village.parent_id not in townships:
            townships.add(village.parent_id)
            found.append(village)
        if len(found) == count:
            break
    return found


def register(clerk, county, n, *, level=2, category=4, village=None, name=None, household=None):
    number = make_id_number(county, date(1950 + n % 50, 1 + n % 12, 1 + n % 28), 100 + n * 2)
    extra = {}
    if village is not None:
        extra = {"township_code": village.parent_id, "village_code": village.code}
    if household is not None:
        extra.update(household=household.pk, relation_to_head="head")
    data = person_data(county, level=level, category=category, name=name or f"测试{n:03d}", **extra)
    data.update(id_number=number, certificate_number=f"{number}{category}{level}")
    return person_register(actor=clerk, data=data)


# Half the days drawn are the first or last of a month: the boundaries are where a rule goes wrong.
BOUNDARY_DAYS = [d for m in range(1, 9) for d in month_bounds(2018, m)]


def some_day(rng) -> date:
    if rng.random() < 0.5:
        return rng.choice(BOUNDARY_DAYS)
    return date(2018, 1, 1) + timedelta(days=rng.randint(0, 240))


def set_life_status(person, status, when):
    Person.objects.filter(pk=person.pk).update(life_status=status, life_status_date=when)
    person.refresh_from_db()


def standards_2018():
    Standard.objects.create(benefit_type_id=LIVING, year=2018, amount=Decimal("50.00"))
    Standard.objects.create(benefit_type_id=NURSING, year=2018, disability_level=1, amount=Decimal("80.00"))
    Standard.objects.create(benefit_type_id=NURSING, year=2018, disability_level=2, amount=Decimal("60.00"))


class SubsidyCase(CastTestCase):
    def setUp(self):
        translation.activate("zh-hans")
        self.addCleanup(translation.deactivate)

    def listed(self, year=2018, month=3, user="ruijin_clerk", county=RUIJIN) -> dict:
        subsidies = monthly_subsidy_list(county, year, month, user=self.cast[user])
        return {(row.person_id, row.benefit_type): row.amount for row in subsidies.rows}


class AgainstAnIndependentComputationTest(SubsidyCase):
    """Thirty people with random levels, deaths and moves, random enrolments of both subsidies in every
    status; each month's list must be exactly what the rule written out again here gives."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        clerk, rng = cls.cast["ruijin_clerk"], random.Random(2018)
        places = villages(RUIJIN, 3)
        standards_2018()
        cls.people, cls.enrolments = [], []
        for n in range(30):
            person = register(clerk, RUIJIN, n, level=rng.randint(1, 4), category=rng.randint(1, 7),
                              village=places[n % 3])  # fmt: skip
            fate = rng.choice(["active", "active", LifeStatus.DECEASED, LifeStatus.MOVED_OUT])
            if fate != "active":
                set_life_status(person, fate, some_day(rng))
            cls.people.append(person)
            for benefit_type in rng.sample([LIVING, NURSING], rng.randint(0, 2)):
                start = some_day(rng)
                end = rng.choice([None, max(start, some_day(rng))])
                cls.enrolments.append(
                    enrol(person, benefit_type, status=rng.choice(STATUSES), start_date=start, end_date=end)
                )
        # Never on 瑞金's list: another county's person, and another benefit type.
        ningdu = register(cls.cast["ningdu_clerk"], NINGDU, 99)
        enrol(ningdu, LIVING, status="active", start_date=date(2018, 1, 1))
        enrol(cls.people[0], "M07-SHELTERED", status="active", start_date=date(2018, 1, 1))

    def expected(self, year, month) -> dict:
        first, last = month_bounds(year, month)
        standards = {
            (s.benefit_type_id, s.disability_level): s.amount for s in Standard.objects.filter(year=year)
        }
        result = {}
        for e in self.enrolments:
            person = Person.objects.get(pk=e.person_id)
            on_list = (
                e.status in ACHIEVED_STATUSES
                and e.year == year
                and e.start_date <= last
                and (e.end_date is None or e.end_date >= first)
                and (person.life_status == LifeStatus.ACTIVE or person.life_status_date >= first)
            )
            if on_list:
                result[(person.pk, e.benefit_type_id)] = standards.get(
                    (e.benefit_type_id, person.disability_level), standards.get((e.benefit_type_id, None))
                )
        return result

    def test_each_month_person_by_person(self):
        seen = 0
        for month in (1, 2, 3, 4, 5, 6, 8):
            with self.subTest(month=month):
                expected = self.expected(2018, month)
                self.assertEqual(self.listed(month=month), expected)
                seen += len(expected)
        self.assertGreater(seen, 40)  # the draw reaches enough rows to mean something

    def test_rows_totals_and_missing_standards_agree(self):
        with CaptureQueriesContext(connection) as queries:
            subsidies = monthly_subsidy_list(RUIJIN, 2018, 3, user=self.cast["ruijin_clerk"])
        self.assertLessEqual(len(queries), 2)  # the rows, and the county's name
        self.assertEqual([row.number for row in subsidies.rows], list(range(1, len(subsidies.rows) + 1)))
        keys = [(r.township_code, r.village_code, r.name) for r in subsidies.rows]
        self.assertEqual(keys, sorted(keys))
        for total in subsidies.totals:
            rows = [r for r in subsidies.rows if r.benefit_type == total.benefit_type]
            self.assertEqual(total.people, len(rows))
            self.assertEqual(total.amount, sum((r.amount for r in rows if r.amount is not None), Decimal(0)))
            self.assertEqual(
                total.levels_without_standard, {r.disability_level for r in rows if r.amount is None}
            )
        # Nursing has amounts for levels 1 and 2 only: levels 3 and 4 are "not set", living never is.
        unpriced = any(r.benefit_type == NURSING and r.disability_level > 2 for r in subsidies.rows)
        self.assertEqual({t.benefit_type for t in subsidies.missing}, {NURSING} if unpriced else set())
        self.assertEqual(subsidies.amount, sum((t.amount for t in subsidies.totals), Decimal(0)))

    def test_the_list_does_not_grow_its_queries_with_its_people(self):
        clerk = self.cast["ruijin_clerk"]
        before = len(self.listed())
        for n in range(100, 120):
            enrol(register(clerk, RUIJIN, n), LIVING, status="active", start_date=date(2018, 1, 1))
        with CaptureQueriesContext(connection) as queries:
            self.assertEqual(len(self.listed()), before + 20)
        self.assertLessEqual(len(queries), 2)


class BoundaryTest(SubsidyCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        standards_2018()
        cls.clerk = cls.cast["ruijin_clerk"]
        cls.household = household_register(actor=cls.clerk, data=household_data(RUIJIN))

    def person(self, n, **extra):
        return register(self.clerk, RUIJIN, n, **extra)

    def test_death_on_the_first_the_last_day_and_the_month_before(self):
        # date of death: (on March's list, on April's list)
        cases = {
            date(2018, 3, 1): (True, False),
            date(2018, 3, 31): (True, False),
            date(2018, 2, 28): (False, False),
            date(2018, 4, 1): (True, True),
        }
        people = {}
        for n, died in enumerate(cases):
            person = self.person(n)
            enrol(person, LIVING, status="active", start_date=date(2018, 1, 1))
            person_set_life_status(actor=self.clerk, person=person, status=LifeStatus.DECEASED,
                                   effective_date=died, reason="病故", expected_version=1)  # fmt: skip
            people[died] = person.pk
        march, april = self.listed(month=3), self.listed(month=4)
        for died, (in_march, in_april) in cases.items():
            with self.subTest(died=died):
                self.assertEqual((people[died], LIVING) in march, in_march)
                self.assertEqual((people[died], LIVING) in april, in_april)
        self.assertEqual(self.listed(month=2).keys(), {(pk, LIVING) for pk in people.values()})

    def test_moving_out_in_march_pays_march_and_not_april(self):
        person = self.person(10)
        enrol(person, NURSING, status="active", start_date=date(2018, 1, 1))
        person_set_life_status(
            actor=self.clerk,
            person=person,
            status=LifeStatus.MOVED_OUT,
            effective_date=date(2018, 3, 20),
            reason="迁往外省",
            expected_version=1,
        )
        self.assertEqual(self.listed(month=3), {(person.pk, NURSING): Decimal("60.00")})
        self.assertEqual(self.listed(month=4), {})

    def test_a_stopped_enrolment_is_paid_to_its_end_date(self):
        ends = {date(2018, 3, 1): (True, False), date(2018, 3, 31): (True, False),
                date(2018, 2, 28): (False, False), date(2018, 4, 1): (True, True)}  # fmt: skip
        people = {}
        for n, end in enumerate(ends, 20):
            person = self.person(n)
            enrol(person, LIVING, status="stopped", start_date=date(2018, 1, 1), end_date=end)
            people[end] = person.pk
        march, april = self.listed(month=3), self.listed(month=4)
        for end, (in_march, in_april) in ends.items():
            with self.subTest(end=end):
                self.assertEqual((people[end], LIVING) in march, in_march)
                self.assertEqual((people[end], LIVING) in april, in_april)

    def test_a_start_on_the_last_day_counts_and_the_day_after_does_not(self):
        late, later = self.person(30), self.person(31)
        enrol(late, LIVING, status="approved", start_date=date(2018, 3, 31))
        enrol(later, LIVING, status="approved", start_date=date(2018, 4, 1))
        self.assertEqual(set(self.listed(month=3)), {(late.pk, LIVING)})
        self.assertEqual(set(self.listed(month=4)), {(late.pk, LIVING), (later.pk, LIVING)})

    def test_applied_and_rejected_enrolments_are_never_paid(self):
        applied, rejected = self.person(40), self.person(41)
        enrol(applied, LIVING, status="applied", start_date=date(2018, 1, 1))
        enrol(rejected, LIVING, status="rejected", start_date=date(2018, 1, 1))
        self.assertEqual(self.listed(month=3), {})

    def test_a_level_amount_wins_over_all_levels_and_a_missing_one_says_so(self):
        level1, level2, level3 = self.person(50, level=1), self.person(51, level=2), self.person(52, level=3)
        for person in (level1, level2, level3):
            enrol(person, NURSING, status="active", start_date=date(2018, 1, 1))
        self.assertEqual(
            self.listed(month=3),
            {
                (level1.pk, NURSING): Decimal("80.00"),
                (level2.pk, NURSING): Decimal("60.00"),
                (level3.pk, NURSING): None,
            },
        )
        subsidies = monthly_subsidy_list(RUIJIN, 2018, 3, user=self.clerk)
        [missing] = subsidies.missing
        self.assertEqual(
            (missing.benefit_type, missing.unpriced, missing.levels_without_standard), (NURSING, 1, {3})
        )
        self.assertEqual(subsidies.amount, Decimal("140.00"))
        # An amount for all levels covers level 3; a level-specific one still wins for levels 1 and 2.
        Standard.objects.create(benefit_type_id=NURSING, year=2018, amount=Decimal("40.00"))
        self.assertEqual(self.listed(month=3)[(level3.pk, NURSING)], Decimal("40.00"))
        self.assertEqual(self.listed(month=3)[(level1.pk, NURSING)], Decimal("80.00"))

    def test_a_record_is_for_its_year_and_the_standard_is_the_months_year(self):
        person = self.person(60, level=1)
        enrol(person, LIVING, status="active", start_date=date(2018, 1, 1))  # no end date: to the end of 2018
        self.assertEqual(self.listed(year=2018, month=12), {(person.pk, LIVING): Decimal("50.00")})
        self.assertEqual(self.listed(year=2019, month=1), {})  # 2019 needs a record of its own
        enrol(person, LIVING, status="active", year=2019, start_date=date(2019, 1, 1))
        self.assertEqual(self.listed(year=2019, month=1), {(person.pk, LIVING): None})
        Standard.objects.create(benefit_type_id=LIVING, year=2019, amount=Decimal("55.00"))
        self.assertEqual(self.listed(year=2019, month=1), {(person.pk, LIVING): Decimal("55.00")})

    def test_two_years_of_one_subsidy_over_a_month_are_paid_once(self):
        person = self.person(70)
        enrol(person, LIVING, status="active", year=2018, start_date=date(2018, 1, 1))
        enrol(person, LIVING, status="active", year=2019, start_date=date(2019, 1, 1))
        rows = monthly_subsidy_list(RUIJIN, 2019, 2, user=self.clerk).rows
        self.assertEqual([(r.person_id, r.benefit_type) for r in rows], [(person.pk, LIVING)])

    def test_another_countys_user_sees_an_empty_list(self):
        enrol(self.person(80), LIVING, status="active", start_date=date(2018, 1, 1))
        self.assertEqual(len(self.listed()), 1)
        self.assertEqual(self.listed(user="ningdu_clerk"), {})
        self.assertEqual(len(self.listed(user="ganzhou_reviewer")), 1)


class PagesTest(SubsidyCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        standards_2018()
        clerk = cls.cast["ruijin_clerk"]
        cls.living = register(clerk, RUIJIN, 1, level=1, name='=HYPERLINK("http://x")')
        cls.nursing = register(clerk, RUIJIN, 2, level=3, name="钟发")
        enrol(cls.living, LIVING, status="active", start_date=date(2018, 1, 1))
        enrol(cls.nursing, NURSING, status="active", start_date=date(2018, 1, 1))

    def test_the_county_page_masks_numbers_and_warns_of_a_missing_standard(self):
        self.login("ruijin_clerk")
        page = self.client.get("/subsidies/?month=2018-03")
        self.assertEqual(page.status_code, 200)
        body = page.content.decode()
        self.assertNotIn(self.living.id_number, body)
        self.assertIn(self.living.id_number[:6] + "********", body)
        self.assertEqual([t.benefit_type for t in page.context["list"].missing], [NURSING])
        self.assertIn("重度残疾人护理补贴", body)
        self.assertIn("2018", body)
        self.assertIn("/subsidies/360781/2018-03.xlsx", body)
        self.assertFalse(IdNumberView.objects.exists())

    def test_whole_numbers_on_request_for_the_county_and_each_view_is_recorded(self):
        self.login("ruijin_clerk")
        page = self.client.get("/subsidies/?month=2018-03&ids=full")
        self.assertContains(page, self.living.id_number)
        self.assertEqual(
            set(IdNumberView.objects.values_list("person_id", "viewer_id")),
            {(self.living.pk, self.cast["ruijin_clerk"].pk), (self.nursing.pk, self.cast["ruijin_clerk"].pk)},
        )
        self.login("ganzhou_reviewer")  # no whole numbers above the county, whatever is asked
        page = self.client.get(f"/subsidies/?county={RUIJIN}&month=2018-03&ids=full")
        self.assertNotContains(page, self.living.id_number)
        self.assertEqual(IdNumberView.objects.count(), 2)

    def test_a_long_list_is_shown_a_page_at_a_time_and_only_shown_numbers_are_recorded(self):
        self.login("ruijin_clerk")
        with mock.patch("programs.views.subsidies.PAGE_SIZE", 1):
            first = self.client.get("/subsidies/?month=2018-03&ids=full")
            second = self.client.get("/subsidies/?month=2018-03&ids=full&page=2")
        (row,) = first.context["page"].object_list
        (other,) = second.context["page"].object_list
        self.assertEqual({row.person_id, other.person_id}, {self.living.pk, self.nursing.pk})
        self.assertContains(first, "第 1 页，共 2 页")
        self.assertContains(first, "month=2018-03&amp;ids=full&amp;page=2")
        self.assertEqual(len(first.context["list"].totals), 2)  # the totals cover the whole list
        self.assertEqual(IdNumberView.objects.count(), 2)  # one each page

    def test_the_city_chooses_among_its_counties_and_others_are_404(self):
        self.login("ganzhou_reviewer")
        self.assertIsNone(self.client.get("/subsidies/").context.get("list"))
        self.assertEqual(
            len(self.client.get(f"/subsidies/?county={RUIJIN}&month=2018-03").context["list"].rows), 2
        )
        self.assertEqual(
            self.client.get("/subsidies/?county=360121&month=2018-03").status_code, 404
        )  # 南昌县
        self.login("ningdu_clerk")
        self.assertEqual(self.client.get(f"/subsidies/?county={RUIJIN}&month=2018-03").status_code, 404)
        self.assertEqual(self.client.get(f"/subsidies/{RUIJIN}/2018-03.xlsx").status_code, 404)
        self.assertEqual(
            self.client.get("/subsidies/?month=2018-3x").context["month_error"] is not None, True
        )

    def test_the_export_with_whole_numbers_is_recorded_and_formulas_stay_text(self):
        self.login("ruijin_clerk")
        response = self.client.get(f"/subsidies/{RUIJIN}/2018-03.xlsx")
        self.assertEqual(response.status_code, 200)
        sheet = load_workbook(BytesIO(response.content)).active
        self.assertEqual(
            sheet["A1"].value, monthly_subsidy_list(RUIJIN, 2018, 3, user=self.cast["ruijin_clerk"]).title
        )
        self.assertIn("瑞金市", sheet["A1"].value)
        merged = {str(r) for r in sheet.merged_cells.ranges}
        self.assertTrue({"A1:I1", "A3:A4", "B3:C3", "F3:G3", "H3:I3"} <= merged, merged)
        self.assertEqual([sheet.cell(4, c).value for c in (2, 3, 6, 7, 8, 9)],
                         ["乡镇", "村", "残疾类别", "残疾等级", "补贴类型", "月发放金额（元）"])  # fmt: skip
        rows = {sheet.cell(r, 4).value: r for r in range(5, 7)}
        living, nursing = rows[self.living.name], rows[self.nursing.name]
        self.assertEqual(sheet.cell(living, 4).data_type, "s")
        self.assertTrue(sheet.cell(living, 4).quotePrefix)
        self.assertEqual(sheet.cell(living, 5).value, self.living.id_number)
        self.assertEqual(sheet.cell(living, 9).value, 50)
        self.assertEqual(sheet.cell(nursing, 9).value, NOT_SET)
        self.assertEqual(sheet.cell(nursing, 7).value, "三级")
        self.assertEqual(sheet.cell(9, 9).value, 50)  # the grand total leaves the unpriced row out
        self.assertIn("合计", sheet.cell(9, 1).value)
        self.assertIn(NOT_SET, sheet.cell(8, 1).value)
        record = RegistryExport.objects.get()
        self.assertEqual(
            (record.exported_by, record.county_code, record.rows), (self.cast["ruijin_clerk"], RUIJIN, 2)
        )

    def test_the_export_above_the_county_is_masked_and_not_recorded(self):
        self.login("province_officer")
        response = self.client.get(f"/subsidies/{RUIJIN}/2018-03.xlsx")
        sheet = load_workbook(BytesIO(response.content)).active
        ids = {sheet.cell(r, 5).value for r in (5, 6)}
        self.assertNotIn(self.living.id_number, ids)
        self.assertTrue(all("********" in i for i in ids))
        self.assertFalse(RegistryExport.objects.exists())


class ApiTest(SubsidyCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        standards_2018()
        cls.person = register(cls.cast["ruijin_clerk"], RUIJIN, 1, level=3)
        enrol(cls.person, LIVING, status="active", start_date=date(2018, 1, 1))
        enrol(cls.person, NURSING, status="active", start_date=date(2018, 1, 1))

    def test_the_list_masked_with_totals_and_the_missing_standard(self):
        self.login("ganzhou_reviewer")
        body = self.client.get(f"/api/v1/subsidy-lists/?county={RUIJIN}&month=2018-03").json()
        self.assertEqual(
            (body["county_code"], body["year"], body["month"], body["amount"]), (RUIJIN, 2018, 3, "50.00")
        )
        rows = {r["benefit_type"]: r for r in body["rows"]}
        self.assertEqual(rows[LIVING]["amount"], "50.00")
        self.assertEqual((rows[NURSING]["amount"], rows[NURSING]["note"]), (None, NOT_SET))
        self.assertEqual(
            rows[LIVING]["id_number"], f"{self.person.id_number[:6]}********{self.person.id_number[14:]}"
        )
        self.assertEqual(
            {t["benefit_type"]: t["without_standard"] for t in body["totals"]}, {LIVING: 0, NURSING: 1}
        )

    def test_a_county_user_may_leave_the_county_out_and_other_areas_get_404(self):
        self.login("ruijin_clerk")
        self.assertEqual(len(self.client.get("/api/v1/subsidy-lists/?month=2018-03").json()["rows"]), 2)
        self.assertEqual(self.client.get("/api/v1/subsidy-lists/?month=2018-04").json()["month"], 4)
        self.login("nanchang_clerk")
        self.assertEqual(
            self.client.get(f"/api/v1/subsidy-lists/?county={RUIJIN}&month=2018-03").status_code, 404
        )
        self.login("province_officer")
        missing = self.client.get("/api/v1/subsidy-lists/?month=2018-03")
        self.assertEqual(missing.status_code, 400)
        self.assertIn("county", missing.json())
        bad = self.client.get(f"/api/v1/subsidy-lists/?county={RUIJIN}&month=2018-13")
        self.assertEqual((bad.status_code, list(bad.json())), (400, ["month"]))
