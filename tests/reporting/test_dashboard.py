"""Progress dashboards: scoped pages read from the roll-up, ranked children with links down, the stale
banner, the recompute button for the provincial office only, the table as .xlsx."""

from datetime import timedelta
from io import BytesIO, StringIO

from django.core.management import CommandError, call_command
from django.utils import timezone, translation
from openpyxl import load_workbook

from beneficiaries.generator import generate_registry
from programs.demo import generate_enrollments
from programs.models import Target
from programs.services import target_split
from reporting.models import Progress, ProgressMonth, RollupRun
from reporting.services import rollup_run
from tests.cast import NINGDU, RUIJIN, CastTestCase


class DashboardCase(CastTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        generate_registry(people=120, county_codes=[RUIJIN, NINGDU], seed=3)
        generate_enrollments(county_codes=[RUIJIN, NINGDU])
        province = Target.objects.get(year=2018, benefit_type=None, area_id="360000")
        target_split(actor=cls.cast["province_officer"], target=province, allocations={"360700": 5000})
        rollup_run()

    def setUp(self):
        translation.activate("zh-hans")


class PagesTest(DashboardCase):
    def test_each_reader_lands_on_their_own_area(self):
        self.login("ruijin_clerk")
        self.assertRedirects(
            self.client.get("/progress/"), f"/progress/{RUIJIN}/", fetch_redirect_response=False
        )

    def test_the_province_ranks_its_cities_with_targets_and_links_down(self):
        self.login("province_officer")
        page = self.client.get("/progress/360000/?year=2018")
        self.assertContains(page, 'id="progress-chart"')
        self.assertContains(page, "/progress/360700/?year=2018")
        cities = page.context["children"]
        self.assertEqual(len(cities), 11)
        self.assertEqual(cities[0]["row"].area_code, "360700")  # the only city with a target and people
        self.assertEqual(cities[0]["row"].target, 5000)
        self.assertContains(page, "50000")  # the headline card

    def test_a_city_reviewer_drills_to_a_county_and_a_township_but_not_beside(self):
        self.login("ganzhou_reviewer")
        city = self.client.get("/progress/360700/?year=2018&benefit_type=M03-LIVING")
        self.assertContains(city, f"/progress/{RUIJIN}/?year=2018&amp;benefit_type=M03-LIVING")
        county = self.client.get(f"/progress/{RUIJIN}/?year=2018")
        township = county.context["children"][0]["row"].area_code
        self.assertEqual(self.client.get(f"/progress/{township}/?year=2018").status_code, 200)
        self.assertEqual(self.client.get("/progress/360100/").status_code, 404)  # 南昌市

    def test_figures_equal_the_roll_up(self):
        self.login("ruijin_clerk")
        page = self.client.get(f"/progress/{RUIJIN}/?year=2018&benefit_type=M03-NURSING")
        own = {row.benefit_type: row for row in page.context["progress"].rows}
        shown = sum(c["row"].achieved for c in page.context["children"])
        self.assertEqual(shown, own["M03-NURSING"].achieved)
        self.assertGreater(shown, 0)


class FreshnessTest(DashboardCase):
    def test_old_figures_carry_a_banner_and_fresh_ones_do_not(self):
        self.login("province_officer")
        self.assertNotContains(self.client.get("/progress/360000/"), 'class="message error stale"')
        RollupRun.objects.update(started_at=timezone.now() - timedelta(hours=1))
        self.assertContains(self.client.get("/progress/360000/"), 'class="message error stale"')

    def test_before_any_roll_up_the_page_says_so_without_a_stale_banner_or_an_empty_chart(self):
        Progress.objects.all().delete()
        ProgressMonth.objects.all().delete()
        RollupRun.objects.all().delete()
        self.login("province_officer")
        page = self.client.get("/progress/360000/?year=2018")
        self.assertNotContains(page, 'class="message error stale"')
        self.assertNotContains(page, 'id="trend-chart"')
        self.assertContains(page, "本年度尚无已计算的数字")

        call_command("rollup", stdout=StringIO())
        page = self.client.get("/progress/360000/?year=2018")
        self.assertContains(page, 'id="trend-chart"')
        self.assertEqual(RollupRun.objects.get().trigger, "manual")

    def test_the_command_recomputes_one_county_and_refuses_what_is_not_one(self):
        out = StringIO()
        call_command("rollup", county=RUIJIN, stdout=out)
        self.assertIn("roll-up:", out.getvalue())
        self.assertEqual(RollupRun.objects.latest("started_at").county_code, RUIJIN)
        with self.assertRaises(CommandError):
            call_command("rollup", county="360700", stdout=StringIO())  # a city

    def test_only_the_provincial_office_may_recompute(self):
        self.login("ganzhou_reviewer")
        self.assertNotContains(self.client.get("/progress/360700/"), "/progress/recompute/")
        self.assertEqual(self.client.post("/progress/recompute/").status_code, 403)
        self.login("province_officer")
        self.assertContains(self.client.get("/progress/360000/"), "/progress/recompute/")


class ExportTest(DashboardCase):
    def test_the_table_as_xlsx_holds_the_area_and_its_children(self):
        self.login("ganzhou_reviewer")
        response = self.client.get("/progress/360700/table.xlsx?year=2018")
        sheet = load_workbook(BytesIO(b"".join(response.streaming_content if response.streaming else
                                                [response.content]))).active  # fmt: skip
        self.assertIn("赣州市", sheet["A1"].value)
        rows = list(sheet.iter_rows(min_row=4, values_only=True))
        self.assertEqual(rows[0][2], 5000)  # the city's own target
        self.assertEqual(len(rows), 1 + 18)  # the city and its 18 counties


class LedgerTest(DashboardCase):
    def test_the_work_ledger_has_a_summary_and_a_sheet_per_measure_with_merged_headers(self):
        self.login("ganzhou_reviewer")
        response = self.client.get("/progress/360700/ledger.xlsx?year=2018")
        book = load_workbook(BytesIO(b"".join(response.streaming_content if response.streaming else
                                              [response.content])))  # fmt: skip
        self.assertEqual(book.sheetnames[0], "汇总")
        summary = book["汇总"]
        self.assertIn("赣州市", summary["A1"].value)
        headline = next(r for r in summary.iter_rows(min_row=4, values_only=True) if r[2] == "贫困残疾人脱贫")
        self.assertEqual(headline[3], 5000)
        m03 = next(book[name] for name in book.sheetnames if name.startswith("M03"))
        self.assertIn("C3:E3", {str(r) for r in m03.merged_cells.ranges})  # one header over three columns
        self.assertEqual(m03["C4"].value, "目标")
        areas = [r[1] for r in m03.iter_rows(min_row=5, values_only=True)]
        self.assertEqual(len(areas), 1 + 18)
        self.assertIn("瑞金市", areas)
