"""The roll-up's rules, each at its boundary; a county run against a whole run; what the swap leaves
behind; the selectors pages read."""

from datetime import date, timedelta
from decimal import Decimal

from django.test import TestCase
from django.utils import timezone

from areas.models import Area
from programs.models import Enrollment, Target
from programs.services import target_split
from reporting.models import Progress, RollupRun
from reporting.selectors import ALL, HEADLINE, area_progress, is_stale, last_computed_at, rollup_interval
from reporting.services import RollupError, rollup_run
from tests.cast import make_cast

from .data import enrol, facility, household, person, villages

RUIJIN, NINGDU, NANCHANG = "360781", "360730", "360121"


def row(code: str, type_code: str | None = None, year: int = 2018) -> Progress | None:
    return Progress.objects.filter(area_code=code, benefit_type_id=type_code, year=year).first()


def snapshot() -> set[tuple]:
    fields = ("year", "area_code", "level", "parent_code", "benefit_type_id", "target",
              "allocated", "achieved", "achieved_for_target", "households", "amount")  # fmt: skip
    return set(Progress.objects.values_list(*fields))


class CountingTest(TestCase):
    def setUp(self):
        self.village = villages(RUIJIN)[0]

    def test_approved_on_the_roll_and_stopped_count_applied_and_rejected_do_not(self):
        for status in ("applied", "approved", "active", "stopped", "rejected"):
            enrol(person(self.village), "M03-LIVING", status=status, amount=Decimal("100.00"))
        rollup_run()
        for code in (self.village, self.village[:9], RUIJIN, "360700", "360000"):
            self.assertEqual(
                (row(code, "M03-LIVING").achieved, row(code, "M03-LIVING").amount), (3, 300), code
            )

    def test_each_year_and_benefit_type_is_its_own_row(self):
        someone = person(self.village)
        enrol(someone, "M03-LIVING", year=2017)
        enrol(someone, "M03-LIVING", year=2018)
        enrol(someone, "M03-NURSING", year=2018)
        rollup_run()
        self.assertEqual(row(RUIJIN, "M03-LIVING", 2017).achieved, 1)
        self.assertEqual(row(RUIJIN, "M03-LIVING", 2018).achieved, 1)
        self.assertEqual(row(RUIJIN, "M03-NURSING", 2018).achieved, 1)
        self.assertIsNone(row(RUIJIN, "M03-NURSING", 2017))

    def test_households_are_counted_for_household_types_not_for_person_types(self):
        home = household(self.village)
        enrol(person(self.village, home), "M03-LIVING")
        enrol(home, "M11-HOUSING", amount=Decimal("5000.00"))
        rollup_run()
        self.assertIsNone(row(RUIJIN, "M03-LIVING").households)
        housing = row(RUIJIN, "M11-HOUSING")
        self.assertEqual((housing.achieved, housing.households, housing.amount), (1, 1, 5000))

    def test_institutions_and_bases_count_facilities(self):
        enrol(facility(self.village, "sheltered"), "M07-INSTITUTION")
        enrol(facility(self.village, "base"), "M10-BASE")
        rollup_run()
        self.assertEqual(row(RUIJIN, "M07-INSTITUTION").achieved, 1)
        self.assertEqual(row("360000", "M10-BASE").achieved, 1)
        self.assertIsNone(row(RUIJIN, "M10-BASE").households)


class ExitTest(TestCase):
    def setUp(self):
        self.village = villages(NINGDU)[0]

    def exits(self, year: int) -> tuple[int, int] | None:
        found = row(NINGDU, HEADLINE, year)
        return (found.achieved, found.households) if found else None

    def test_a_household_out_in_a_year_counts_its_members_that_year(self):
        home = household(
            self.village, [(date(2016, 5, 1), "not_out", None), (date(2018, 12, 20), "out", 2018)]
        )
        person(self.village, home)
        person(self.village, home)
        rollup_run()
        self.assertEqual(self.exits(2018), (2, 1))
        self.assertIsNone(self.exits(2016))
        self.assertEqual(row("360000", HEADLINE).achieved, 2)

    def test_a_later_row_that_keeps_the_status_is_not_a_second_exit(self):
        home = household(self.village, [(date(2017, 12, 1), "out", 2017), (date(2018, 3, 1), "out", 2017)])
        person(self.village, home)
        rollup_run()
        self.assertEqual(self.exits(2017), (1, 1))
        self.assertIsNone(self.exits(2018))

    def test_out_back_into_poverty_and_out_again_counts_both_years(self):
        history = [
            (date(2016, 12, 1), "out", 2016),
            (date(2017, 6, 1), "returned", 2016),
            (date(2018, 12, 1), "out", 2018),
        ]
        person(self.village, household(self.village, history))
        rollup_run()
        self.assertEqual((self.exits(2016), self.exits(2018)), ((1, 1), (1, 1)))
        self.assertIsNone(self.exits(2017))

    def test_the_year_out_of_poverty_not_the_day_it_was_recorded(self):
        person(self.village, household(self.village, [(date(2019, 2, 1), "out", 2016)]))
        person(self.village, household(self.village, [(date(2018, 7, 1), "out", None)]))
        rollup_run()
        self.assertEqual(self.exits(2016), (1, 1))
        self.assertEqual(self.exits(2018), (1, 1))  # no year given: the year of the row
        self.assertIsNone(self.exits(2019))

    def test_members_marked_duplicate_do_not_count_deceased_ones_do(self):
        home = household(self.village, [(date(2018, 12, 1), "out", 2018)])
        person(self.village, home, life_status="deceased")
        person(self.village, home, life_status="duplicate")
        person(self.village, home)
        rollup_run()
        self.assertEqual(self.exits(2018), (2, 1))

    def test_a_household_not_out_or_without_members_adds_nothing(self):
        person(self.village, household(self.village, [(date(2018, 12, 1), "not_out", None)]))
        household(self.village, [(date(2018, 12, 1), "out", 2018)])
        rollup_run()
        self.assertIsNone(self.exits(2018))


class TargetTest(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.cast = make_cast()
        province = Target.objects.get(year=2018, benefit_type=None, area_id="360000")
        target_split(
            actor=cls.cast["province_officer"], target=province, allocations={"360700": 8000, RUIJIN: 900}
        )
        ganzhou = Target.objects.get(year=2018, benefit_type=None, area_id="360700")
        target_split(actor=cls.cast["ganzhou_reviewer"], target=ganzhou, allocations={NINGDU: 1200})

    def test_targets_what_is_split_below_and_achievements_against_them(self):
        person(villages(RUIJIN)[0], household(villages(RUIJIN)[0], [(date(2018, 12, 1), "out", 2018)]))
        person(villages(NINGDU)[0], household(villages(NINGDU)[0], [(date(2018, 12, 1), "out", 2018)]))
        rollup_run()
        province, ganzhou = row("360000"), row("360700")
        self.assertEqual((province.target, province.allocated, province.achieved), (50000, 8900, 2))
        self.assertEqual((ganzhou.target, ganzhou.allocated), (8000, 1200))
        # 瑞金 takes its target from the province: 赣州's own target counts 宁都 only.
        self.assertEqual((ganzhou.achieved, ganzhou.achieved_for_target), (2, 1))
        self.assertEqual(
            (row(RUIJIN).target, row(RUIJIN).allocated, row(RUIJIN).achieved_for_target), (900, 0, 1)
        )
        self.assertEqual((row(NINGDU).target, row(NINGDU).achieved), (1200, 1))

    def test_a_target_with_nothing_achieved_is_a_row(self):
        rollup_run()
        nanchang_city = row("360100")
        self.assertIsNone(nanchang_city)  # no target, nothing achieved: no row
        self.assertEqual((row(NINGDU).target, row(NINGDU).achieved), (1200, 0))
        self.assertEqual(row("360000", "M10-BASE").target, 100)


class RunTest(TestCase):
    def setUp(self):
        for county in (RUIJIN, NINGDU, NANCHANG):
            for village in villages(county):
                enrol(person(village), "M03-LIVING", amount=Decimal("80.00"))
                enrol(household(village), "M11-HOUSING")

    def test_a_second_run_gives_the_same_rows(self):
        first = rollup_run()
        rows = snapshot()
        second = rollup_run()
        self.assertEqual(snapshot(), rows)
        self.assertEqual((first.rows, second.rows), (len(rows), len(rows)))
        self.assertEqual(RollupRun.objects.filter(county_code="").count(), 2)

    def test_what_is_no_longer_there_goes(self):
        someone = person(villages(RUIJIN)[0])
        record = enrol(someone, "M05-LITERACY")  # no target anywhere
        rollup_run()
        self.assertEqual(row("360000", "M05-LITERACY").achieved, 1)
        Enrollment.objects.filter(pk=record.pk).update(status="rejected")
        rollup_run(county_code=RUIJIN)
        self.assertFalse(Progress.objects.filter(benefit_type_id="M05-LITERACY").exists())

    def test_a_county_run_gives_what_a_whole_run_gives_and_touches_only_its_county_and_above(self):
        rollup_run()
        before = {r.id: (r.area_code, r.achieved) for r in Progress.objects.all()}
        village = villages(RUIJIN)[1]
        enrol(person(village), "M03-LIVING", amount=Decimal("80.00"))
        enrol(person(village), "M08-SUNSHINE")
        enrol(person(villages(NINGDU)[0]), "M08-SUNSHINE")  # another county: not this run's business
        result = rollup_run(county_code=RUIJIN)
        self.assertEqual(result.run.county_code, RUIJIN)
        self.assertEqual(row(RUIJIN, "M03-LIVING").achieved, 5)
        self.assertEqual(row("360700", "M08-SUNSHINE").achieved, 1)
        self.assertIsNone(row(NINGDU, "M08-SUNSHINE"))
        changed = {
            r.area_code for r in Progress.objects.all() if before.get(r.id) != (r.area_code, r.achieved)
        }
        self.assertTrue(changed)
        self.assertTrue(
            all(code.startswith(RUIJIN) or code in ("360700", "360000") for code in changed), changed
        )
        rollup_run(county_code=NINGDU)
        county_runs = snapshot()
        rollup_run()
        self.assertEqual(snapshot(), county_runs)

    def test_only_a_county_can_be_run_alone(self):
        for code in ("360700", "360781100", "999999"):
            with self.assertRaises(RollupError):
                rollup_run(county_code=code)

    def test_a_run_writes_only_what_changed(self):
        first = rollup_run().run
        self.assertEqual(first.changed, first.rows)
        ids = dict(Progress.objects.values_list("id", "area_code"))
        self.assertEqual(rollup_run().run.changed, 0)
        enrol(person(villages(NINGDU)[1]), "M03-LIVING", amount=Decimal("80.00"))
        run = rollup_run().run
        # One more in a village with one already: that village, its township, county, city, province.
        self.assertEqual(run.changed, 5)
        changed = Progress.objects.exclude(id__in=ids)
        self.assertEqual(changed.count(), 0)  # changed rows are updated in place
        self.assertEqual(row(NINGDU, "M03-LIVING").achieved, 5)
        self.assertEqual(Progress.objects.filter(computed_at=run.started_at).count(), 5)


class SelectorTest(TestCase):
    def setUp(self):
        self.ruijin = Area.objects.get(code=RUIJIN)
        self.village = villages(RUIJIN)[0]
        enrol(person(self.village), "M03-LIVING")
        enrol(household(self.village), "M11-HOUSING")
        person(self.village, household(self.village, [(date(2018, 12, 1), "out", 2018)]))

    def test_every_child_appears_for_every_benefit_type_with_zeros_where_it_has_no_row(self):
        rollup_run()
        progress = area_progress(area=self.ruijin, year=2018)
        self.assertEqual(progress.benefit_types, [None, "M03-LIVING", "M11-HOUSING"])
        self.assertEqual([r.achieved for r in progress.rows], [1, 1, 1])
        townships = list(Area.objects.filter(parent=self.ruijin).values_list("code", flat=True))
        self.assertEqual(len(progress.children), 3 * len(townships))
        self.assertEqual([r.area_code for r in progress.children[::3]], townships)
        first = {r.benefit_type: r for r in progress.children if r.area_code == self.village[:9]}
        other = {r.benefit_type: r for r in progress.children if r.area_code == townships[-1]}
        self.assertEqual(first["M11-HOUSING"].achieved, 1)
        self.assertEqual((other["M11-HOUSING"].achieved, other["M11-HOUSING"].unit), (0, "household"))

    def test_one_benefit_type_or_the_headline(self):
        rollup_run()
        living = area_progress(area=self.ruijin, year=2018, benefit_type="M03-LIVING")
        self.assertEqual({r.benefit_type for r in living.all_rows()}, {"M03-LIVING"})
        headline = area_progress(area=self.ruijin, year=2018, benefit_type=HEADLINE)
        self.assertEqual({r.benefit_type for r in headline.all_rows()}, {None})
        self.assertEqual(headline.rows[0].achieved, 1)
        self.assertEqual(area_progress(area=self.ruijin, year=2017).benefit_types, [])

    def test_a_page_view_costs_one_query_until_the_next_run(self):
        rollup_run()
        area_progress(area=self.ruijin, year=2018, benefit_type=ALL)
        with self.assertNumQueries(1):
            again = area_progress(area=self.ruijin, year=2018, benefit_type=ALL)
        self.assertEqual(again.rows[1].achieved, 1)
        enrol(person(self.village), "M03-LIVING")
        rollup_run(county_code=RUIJIN)
        with self.assertNumQueries(2):
            fresh = area_progress(area=self.ruijin, year=2018, benefit_type=ALL)
        self.assertEqual(fresh.rows[1].achieved, 2)

    def test_computed_at_a_county_run_counts_for_its_county_not_for_the_province(self):
        self.assertIsNone(last_computed_at(self.ruijin))
        self.assertTrue(area_progress(area=self.ruijin, year=2018).stale)
        whole = rollup_run().run
        county = rollup_run(county_code=RUIJIN).run
        province = Area.objects.get(code="360000")
        self.assertEqual(last_computed_at(province), whole.started_at)
        self.assertEqual(last_computed_at(Area.objects.get(code=self.village)), county.started_at)
        self.assertEqual(last_computed_at(Area.objects.get(code=NINGDU)), whole.started_at)

    def test_stale_after_twice_the_schedule(self):
        now = timezone.now()
        self.assertEqual(rollup_interval(), timedelta(minutes=10))
        self.assertFalse(is_stale(now - timedelta(minutes=20), now))
        self.assertTrue(is_stale(now - timedelta(minutes=20, seconds=1), now))
        self.assertTrue(is_stale(None, now))
