"""The monthly trend (`reporting.trend`) against counts made directly from the generated rows, over random
registries in three counties of two cities: each county's months, each city the sum of its counties and
the province of its cities, December's cumulative figure the year's `Progress`, a one-county run the same
rows as a whole run, a repeated run writing nothing; then the dated edges one by one, and the page."""

import json
from collections import defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings as django_settings
from django.db import connection
from django.test import TestCase as DjangoTestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from areas.services import PROVINCE_MANAGED_COUNTIES
from beneficiaries.models import HouseholdStatus, Person
from programs.models import ACHIEVED_STATUSES, Enrollment
from reporting.models import Progress, ProgressMonth
from reporting.services import rollup_run
from reporting.views import _months_passed

from .data import enrol, household, person, villages
from .test_dashboard import DashboardCase

COUNTIES = ("360781", "360730", "360121")  # 瑞金 (province-managed) and 宁都 in 赣州市, 南昌县 in 南昌市
TYPES = ("M03-LIVING", "M08-SUNSHINE")
STATUSES = ("applied", "approved", "active", "stopped", "rejected")
YEARS = (2017, 2018)
ZONE = ZoneInfo(django_settings.TIME_ZONE)
UTC = ZoneInfo("UTC")

# Approval times around the years' and months' edges: the last and first hours of a month in UTC fall
# on either side of a month's end in Beijing.
approval = st.one_of(
    st.none(),
    st.builds(
        lambda year, month, first_day, hour: (
            datetime(year, month, 1, hour, 30, tzinfo=UTC) - timedelta(days=0 if first_day else 1)
        ),
        st.integers(2016, 2019),
        st.integers(1, 12),
        st.booleans(),
        st.sampled_from([0, 8, 15, 16, 23]),
    ),
)
status_row = st.tuples(
    st.dates(date(2016, 1, 1), date(2019, 12, 31)),
    st.sampled_from(["not_out", "out", "out", "returned"]),
    st.sampled_from([None, 0, -1, 1]),  # year out of poverty: none (the date's), that year, before, after
)
registry = st.fixed_dictionaries(
    {
        "households": st.lists(st.tuples(st.integers(0, 11), st.lists(status_row, max_size=3)), max_size=5),
        "people": st.lists(
            st.tuples(
                st.one_of(st.none(), st.integers(0, 4)),
                st.integers(0, 11),
                st.sampled_from(["active", "active", "duplicate"]),
            ),
            max_size=8,
        ),
        "records": st.lists(
            st.tuples(
                st.integers(0, 7),
                st.sampled_from(TYPES),
                st.sampled_from(YEARS),
                st.sampled_from(STATUSES),
                st.integers(1, 12),  # the month it starts from
                approval,
            ),
            max_size=12,
        ),
        "changed_county": st.sampled_from(COUNTIES),
        "approved_at": approval,
        "exit_on": st.dates(date(2017, 1, 1), date(2018, 12, 31)),
    }
)


def month_in_year(day: date, year: int) -> int:
    return max(1, min(12, (day.year - year) * 12 + day.month))


def city_of(code: str) -> str:
    return code[:4] + "00"


def county_months() -> dict[tuple, int]:
    """Directly from the rows: (year, type or None, county, month) -> achieved in the month."""
    found: dict[tuple, int] = defaultdict(int)
    for record in Enrollment.objects.filter(status__in=ACHIEVED_STATUSES):
        day = record.reviewed_at.astimezone(ZONE).date() if record.reviewed_at else record.start_date
        found[(record.year, record.benefit_type_id, record.county_code, month_in_year(day, record.year))] += 1
    first = {}  # (household, year out) -> month of its first "out" row of that year
    for row in HouseholdStatus.objects.filter(poverty_status="out"):
        year = row.exit_year or row.effective_date.year
        month = month_in_year(row.effective_date, year)
        first[(row.household_id, year)] = min(month, first.get((row.household_id, year), 12))
    for (household_id, year), month in first.items():
        for member in Person.objects.filter(household_id=household_id).exclude(life_status="duplicate"):
            found[(year, None, member.county_code, month)] += 1
    return found


def month_rows() -> dict[tuple, ProgressMonth]:
    return {(r.year, r.benefit_type_id, r.area_code, r.month): r for r in ProgressMonth.objects.all()}


def snapshot() -> list[tuple]:
    return list(
        ProgressMonth.objects.order_by("id").values_list(
            "id", "year", "month", "area_code", "level", "benefit_type_id", "achieved", "cumulative",
            "cumulative_for_target", "computed_at",
        )
    )  # fmt: skip


class TrendPropertyTest(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.villages = [v for county in COUNTIES for v in villages(county)]

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(registry)
    def test_months_add_up_to_the_year_at_every_level(self, data):
        self.make(data)
        rollup_run()
        rows = month_rows()

        expected = {key: n for key, n in county_months().items() if n}
        counties = {key: row.achieved for key, row in rows.items() if row.level == "county"}
        self.assertEqual(counties, expected)
        self.assert_sums_and_running_totals(rows)
        self.assert_december_is_the_year(rows)

        before = snapshot()
        rollup_run()
        self.assertEqual(snapshot(), before, "a repeated run writes nothing")

        # A change in one county, rolled up by a county run, then a whole run: the whole run finds
        # nothing to write, so the county run left every row (its county's, city's, province's) as the
        # whole run computes them.
        county = data["changed_county"]
        Enrollment.objects.filter(county_code=county, status="applied").update(
            status="approved", reviewed_at=data["approved_at"]
        )
        members = [p for p in self.people if p.county_code == county and p.household_id]
        if members:
            HouseholdStatus.objects.create(
                household_id=members[0].household_id, effective_date=data["exit_on"], poverty_status="out"
            )
        rollup_run(county_code=county)
        after_county_run = snapshot()
        rollup_run()
        self.assertEqual(snapshot(), after_county_run)
        self.assertEqual(
            {key: row.achieved for key, row in month_rows().items() if row.level == "county"},
            {key: n for key, n in county_months().items() if n},
        )

    def assert_sums_and_running_totals(self, rows):
        sums: dict[tuple, dict] = defaultdict(lambda: defaultdict(int))
        for (year, type_code, code, month), row in rows.items():
            if row.level == "county":
                sums[(year, type_code, city_of(code), month)]["achieved"] += row.achieved
                if code not in PROVINCE_MANAGED_COUNTIES:
                    sums[(year, type_code, city_of(code), month)]["for_target"] += row.achieved
            elif row.level == "city":
                sums[(year, type_code, "360000", month)]["achieved"] += row.achieved
        above = {key: row for key, row in rows.items() if row.level in ("city", "province")}
        self.assertEqual(set(above), set(sums))
        for key, row in above.items():
            self.assertEqual(row.achieved, sums[key]["achieved"], key)
        series = defaultdict(list)
        for (year, type_code, code, _month), row in sorted(rows.items(), key=lambda kv: kv[0][3]):
            series[(year, type_code, code)].append(row)
        for (year, type_code, code), months in series.items():
            total = for_target = 0
            for row in months:
                total += row.achieved
                city = row.level == "city"
                for_target += sums[(year, type_code, code, row.month)]["for_target"] if city else row.achieved
                self.assertEqual(row.cumulative, total, (year, type_code, code, row.month))
                self.assertEqual(row.cumulative_for_target, for_target, (year, type_code, code, row.month))

    def assert_december_is_the_year(self, rows):
        last: dict[tuple, ProgressMonth] = {}
        for (year, type_code, code, _month), row in sorted(rows.items(), key=lambda kv: kv[0][3]):
            last[(year, type_code, code)] = row
        yearly = {
            (p.year, p.benefit_type_id, p.area_code): p
            for p in Progress.objects.filter(level__in=["province", "city", "county"], achieved__gt=0)
        }
        self.assertEqual(set(last), set(yearly))
        for key, row in last.items():
            self.assertEqual(row.cumulative, yearly[key].achieved, key)
            self.assertEqual(row.cumulative_for_target, yearly[key].achieved_for_target, key)

    def make(self, data) -> None:
        households = []
        for village, history in data["households"]:
            rows = [
                (day, status, None if shift is None else day.year + shift)
                for day, status, shift in sorted(history, key=lambda row: row[0])
            ]
            households.append(household(self.villages[village], rows))
        self.people = []
        for household_index, village, life_status in data["people"]:
            home = households[household_index] if household_index is not None and household_index < len(
                households) else None  # fmt: skip
            self.people.append(person(self.villages[village], home, life_status=life_status))
        live = set()
        for index, type_code, year, status, month, approved_at in data["records"]:
            if index >= len(self.people) or self.people[index].life_status == "duplicate":
                continue
            if status != "rejected":
                if (index, type_code, year) in live:  # one live record per person, type and year
                    continue
                live.add((index, type_code, year))
            record = enrol(self.people[index], type_code, year=year, status=status)
            Enrollment.objects.filter(pk=record.pk).update(
                start_date=date(year, month, 1), reviewed_at=approved_at if status != "applied" else None
            )


class TrendEdgesTest(DjangoTestCase):
    """Each dated edge on its own, in 宁都 (its city 赣州, the province)."""

    @classmethod
    def setUpTestData(cls):
        cls.village = villages("360730")[0]

    def approved(self, when: datetime | None, year: int = 2018, start: date | None = None):
        record = enrol(person(self.village), "M03-LIVING", year=year)
        Enrollment.objects.filter(pk=record.pk).update(reviewed_at=when, start_date=start or date(year, 3, 1))

    def county_months(self, type_code: str | None) -> dict[tuple[int, int], int]:
        return {
            (r.year, r.month): r.achieved
            for r in ProgressMonth.objects.filter(area_code="360730", benefit_type_id=type_code)
        }

    def test_an_enrolment_counts_in_the_month_of_its_approval_in_beijing_time(self):
        beijing = ZONE
        self.approved(datetime(2018, 2, 28, 16, 30, tzinfo=UTC))  # 00:30 on 1 March in Beijing
        self.approved(datetime(2018, 2, 28, 15, 59, tzinfo=UTC))  # 23:59 on 28 February
        self.approved(datetime(2017, 12, 20, 10, 0, tzinfo=beijing))  # before its year: January
        self.approved(datetime(2019, 1, 5, 10, 0, tzinfo=beijing))  # after its year: December
        self.approved(None, start=date(2018, 7, 1))  # no approval time: the month it starts from
        rollup_run()
        self.assertEqual(
            self.county_months("M03-LIVING"),
            {(2018, 1): 1, (2018, 2): 1, (2018, 3): 1, (2018, 7): 1, (2018, 12): 1},
        )
        december = ProgressMonth.objects.get(area_code="360000", benefit_type_id="M03-LIVING", month=12)
        self.assertEqual(december.cumulative, 5)

    def test_a_household_exits_once_a_year_in_the_month_of_its_first_out_row(self):
        twice = household(self.village, [(date(2018, 4, 30), "out", None), (date(2018, 9, 1), "out", None)])
        person(self.village, twice)
        person(self.village, twice)
        late = household(self.village, [(date(2019, 3, 1), "out", 2018)])  # registered later: December
        person(self.village, late)
        early = household(self.village, [(date(2018, 11, 2), "out", 2019)])  # dated before: January
        person(self.village, early)
        rollup_run()
        self.assertEqual(self.county_months(None), {(2018, 4): 2, (2018, 12): 1, (2019, 1): 1})
        self.assertEqual(
            Progress.objects.get(area_code="360730", year=2018, benefit_type=None).achieved,
            ProgressMonth.objects.get(area_code="360730", year=2018, benefit_type=None, month=12).cumulative,
        )

    def test_a_record_no_longer_achieved_leaves_its_month(self):
        self.approved(datetime(2018, 5, 10, 9, 0, tzinfo=ZONE))
        rollup_run()
        self.assertEqual(self.county_months("M03-LIVING"), {(2018, 5): 1})
        Enrollment.objects.update(status="rejected")
        rollup_run(county_code="360730")
        self.assertFalse(ProgressMonth.objects.exists())

    def test_months_drawn(self):
        today = timezone.localdate()
        self.assertEqual(_months_passed(today.year - 1), 12)
        self.assertEqual(_months_passed(today.year), today.month)
        self.assertEqual(_months_passed(today.year + 1), 0)


class TrendPageTest(DashboardCase):
    def setUp(self):
        translation.activate("zh-hans")

    def trend(self, page) -> dict:
        content = page.content.decode()
        start = content.index('<script id="trend-data" type="application/json">') + len(
            '<script id="trend-data" type="application/json">'
        )
        return json.loads(content[start : content.index("</script>", start)])

    def test_the_province_draws_its_headline_month_by_month_to_the_card(self):
        self.login("province_officer")
        page = self.client.get("/progress/360000/?year=2018")
        self.assertContains(page, translation.gettext("Monthly progress"))
        trend = self.trend(page)
        self.assertEqual(trend["shown"], 12)
        self.assertEqual(trend["months"][0], translation.gettext("Month %(month)d") % {"month": 1})
        headline = trend["series"][0]
        self.assertTrue(headline["headline"])
        self.assertEqual(headline["name"], "贫困残疾人脱贫")
        card = page.context["cards"][0]["row"]
        self.assertEqual(headline["values"][-1], card.achieved_for_target)
        self.assertEqual(headline["target"], card.target)
        self.assertGreater(headline["values"][-1], headline["values"][0])
        self.assertEqual(headline["values"], sorted(headline["values"]))  # cumulative: never falls
        with_targets = [c for c in page.context["cards"] if c["row"].target]
        self.assertEqual([s["name"] for s in trend["series"]], [c["name"] for c in with_targets])
        self.assertEqual([s["selected"] for s in trend["series"]], [True] + [False] * (len(with_targets) - 1))

        chosen = with_targets[1]["row"].benefit_type  # the measure chosen for the areas below is shown too
        trend = self.trend(self.client.get(f"/progress/360000/?year=2018&benefit_type={chosen}"))
        self.assertEqual([s["name"] for s in trend["series"] if s["selected"]],
                         [with_targets[0]["name"], with_targets[1]["name"]])  # fmt: skip

    def test_a_city_counts_against_its_target_without_its_province_managed_counties(self):
        self.login("ganzhou_reviewer")
        page = self.client.get("/progress/360700/?year=2018")
        city = page.context["cards"][0]["row"]
        self.assertEqual(city.target, 5000)
        self.assertEqual(self.trend(page)["series"][0]["values"][-1], city.achieved_for_target)
        self.assertLess(city.achieved_for_target, city.achieved)  # 瑞金 is province-managed

    def test_a_township_page_has_no_trend(self):
        self.login("ruijin_clerk")
        county = self.client.get("/progress/360781/?year=2018")
        self.assertContains(county, 'id="trend-chart"')
        township = county.context["children"][0]["row"].area_code
        self.assertNotContains(self.client.get(f"/progress/{township}/?year=2018"), "trend-data")

    def test_a_page_reads_the_roll_up_once_a_run_in_a_bounded_number_of_queries(self):
        """After a run a page reads its yearly and its monthly rows once (one query each); later views
        read neither. The rest (session, user, the area and the trail above it) is as before the trend."""
        self.login("province_officer")
        rollup_run()
        for code, queries in (("360000", 11), ("360700", 12), ("360781", 13)):
            with self.subTest(code=code):
                with CaptureQueriesContext(connection) as first:
                    self.client.get(f"/progress/{code}/?year=2018")
                with self.assertNumQueries(queries):
                    self.client.get(f"/progress/{code}/?year=2018")
                read = [q["sql"] for q in first.captured_queries if "FROM reporting_progress" in q["sql"]]
                self.assertEqual(len(read), 2, read)
