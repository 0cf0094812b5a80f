from django.utils import translation

from programs.models import BenefitType, Measure, Target
from programs.services import (
    Remainder,
    TargetError,
    plan_load,
    split_children,
    target_remainder,
    target_set,
    target_split,
)
from tests.cast import CastTestCase

CITIES = [
    "360100",
    "360200",
    "360300",
    "360400",
    "360500",
    "360600",
    "360700",
    "360800",
    "360900",
    "361000",
    "361100",
]


class PlanTest(CastTestCase):
    def test_the_plan_is_loaded_once_however_often_it_runs(self):
        plan_load()
        self.assertEqual(Measure.objects.count(), 11)
        self.assertEqual(BenefitType.objects.count(), 28)
        targets = dict(
            Target.objects.filter(area_id="360000", year=2018).values_list("benefit_type_id", "quantity")
        )
        self.assertEqual(targets[None], 50000)
        self.assertEqual(targets["M03-RAISED"], 100000)
        self.assertEqual(targets["M07-INSTITUTION"], 22)
        self.assertEqual(targets["M10-LIBRARY"], 12000)
        self.assertEqual(len(targets), 10)

    def test_the_province_splits_to_cities_and_province_managed_counties(self):
        from areas.models import Area

        codes = [a.code for a in split_children(Area.objects.get(code="360000"))]
        self.assertEqual(codes[:11], CITIES)
        self.assertEqual(
            set(codes[11:]), {"360482", "360781", "360829", "360981", "360982", "361021", "361128"}
        )
        ganzhou = [a.code for a in split_children(Area.objects.get(code="360700"))]
        self.assertIn("360730", ganzhou)
        self.assertNotIn("360781", ganzhou)  # 瑞金 takes its target from the province


class SplitTest(CastTestCase):
    def setUp(self):
        translation.activate("zh-hans")
        self.addCleanup(translation.deactivate)
        self.target = target_set(
            actor=self.cast["province_officer"], year=2018, benefit_type=None, quantity=10000
        )

    def test_ten_thousand_split_to_eleven_cities_and_then_to_counties_never_exceeds(self):
        province = self.cast["province_officer"]
        shares = dict.fromkeys(CITIES, 900)  # 9,900
        target_split(actor=province, target=self.target, allocations=shares)
        self.assertEqual(target_remainder(self.target), Remainder(9900, 100))
        with self.assertRaises(TargetError) as caught:
            target_split(actor=province, target=self.target, allocations={"360781": 101})
        self.assertIn("只剩 100", caught.exception.message)
        target_split(actor=province, target=self.target, allocations={"360781": 100})
        ganzhou = Target.objects.get(area_id="360700", year=2018, benefit_type=None)
        reviewer = self.cast["ganzhou_reviewer"]
        target_split(actor=reviewer, target=ganzhou, allocations={"360730": 500, "360702": 400})
        with self.assertRaises(TargetError):
            target_split(actor=reviewer, target=ganzhou, allocations={"360723": 1})
        with self.assertRaises(TargetError) as caught:  # the city already gave 900 of its 900 away
            target_split(actor=province, target=self.target, allocations={"360700": 800})
        self.assertIn("900", caught.exception.message)
        self.assertEqual(sum(t.quantity for t in Target.objects.filter(parent=ganzhou)), 900)

    def test_only_the_office_of_the_area_splits_and_only_to_its_children(self):
        with self.assertRaises(TargetError):
            target_split(actor=self.cast["ganzhou_reviewer"], target=self.target, allocations={"360700": 1})
        with self.assertRaises(TargetError):
            target_split(actor=self.cast["province_officer"], target=self.target, allocations={"360730": 1})
        with self.assertRaises(TargetError):
            target_set(actor=self.cast["ganzhou_reviewer"], year=2018, benefit_type=None, quantity=1)

    def test_the_province_cannot_lower_a_target_below_what_it_gave_out(self):
        target_split(actor=self.cast["province_officer"], target=self.target, allocations={"360700": 6000})
        with self.assertRaises(TargetError):
            target_set(actor=self.cast["province_officer"], year=2018, benefit_type=None, quantity=5999)
        target_set(actor=self.cast["province_officer"], year=2018, benefit_type=None, quantity=6000)

    def test_changes_are_kept_in_history(self):
        target_split(actor=self.cast["province_officer"], target=self.target, allocations={"360700": 100})
        target_split(actor=self.cast["province_officer"], target=self.target, allocations={"360700": 200})
        child = Target.objects.get(area_id="360700", year=2018, benefit_type=None)
        events = list(child.events.order_by("pgh_id"))
        self.assertEqual([e.quantity for e in events], [100, 200])
        self.assertEqual(events[-1].pgh_context.metadata["user"], self.cast["province_officer"].pk)


class SplitApiTest(CastTestCase):
    def test_a_split_over_the_parent_is_a_400_naming_the_remainder(self):
        target = Target.objects.get(area_id="360000", year=2018, benefit_type_id="M10-BASE")  # 100 bases
        self.client.force_login(self.cast["province_officer"])
        ok = self.client.post(
            f"/api/v1/targets/{target.pk}/split/",
            {"children": {"360100": 60}},
            content_type="application/json",
        )
        self.assertEqual(ok.status_code, 200, ok.content)
        over = self.client.post(
            f"/api/v1/targets/{target.pk}/split/",
            {"children": {"360200": 41}},
            content_type="application/json",
        )
        self.assertEqual(over.status_code, 400)
        self.assertIn("只剩 40", over.json()["children"][0])
        listed = self.client.get(f"/api/v1/targets/{target.pk}/").json()
        self.assertEqual((listed["allocated"], listed["remaining"], listed["unit"]), (60, 40, "base"))

    def test_the_city_sees_its_share_and_not_the_province(self):
        province = Target.objects.get(area_id="360000", year=2018, benefit_type=None)
        target_split(actor=self.cast["province_officer"], target=province, allocations={"360700": 5000})
        self.client.force_login(self.cast["ganzhou_reviewer"])
        areas = {t["area_code"] for t in self.client.get("/api/v1/targets/?year=2018").json()["results"]}
        self.assertEqual(areas, {"360700"})


class SplitPageTest(CastTestCase):
    def test_the_province_splits_on_one_screen_with_a_running_remainder(self):
        target = Target.objects.get(area_id="360000", year=2018, benefit_type_id="M07-INSTITUTION")  # 22
        self.client.force_login(self.cast["province_officer"])
        page = self.client.get(f"/targets/{target.pk}/split/")
        self.assertEqual(len(page.context["rows"]), 18)  # 11 cities and 7 province-managed counties
        remainder = self.client.post(
            f"/targets/{target.pk}/split/remainder/", {"q_360100": "5", "q_360700": "20"}
        )
        self.assertEqual((remainder.context["given"], remainder.context["over"]), (25, 3))
        self.assertIn("多了 3", remainder.content.decode())
        refused = self.client.post(f"/targets/{target.pk}/split/", {"q_360100": "5", "q_360700": "20"})
        self.assertEqual(refused.status_code, 200)
        self.assertFalse(Target.objects.filter(parent=target).exists())
        saved = self.client.post(f"/targets/{target.pk}/split/", {"q_360100": "5", "q_360700": "17"})
        self.assertRedirects(saved, f"/targets/{target.pk}/split/")
        self.assertEqual(
            dict(Target.objects.filter(parent=target).values_list("area_id", "quantity")),
            {"360100": 5, "360700": 17},
        )
        listed = self.client.get("/targets/").context["targets"]
        self.assertEqual({t.benefit_type_id: t.remaining for t in listed}["M07-INSTITUTION"], 0)
