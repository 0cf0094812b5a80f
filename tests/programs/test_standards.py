"""Standard amounts: who sets them, what a cell accepts, blanks and removals, conflicts, and the page."""

from decimal import Decimal

from django.utils import translation
from django.utils.translation import gettext as _

from programs.models import BenefitType, Standard
from programs.standards import (
    StandardError,
    amount_for,
    parse_amount,
    standard_set,
    standards_for_year,
    standards_save,
)
from tests.cast import CastTestCase

LIVING, NURSING = "M03-LIVING", "M03-NURSING"


class StandardServiceTest(CastTestCase):
    def setUp(self):
        translation.activate("zh-hans")
        self.addCleanup(translation.deactivate)
        self.province = self.cast["province_officer"]

    def test_amounts_are_read_as_yuan_with_at_most_two_decimals(self):
        self.assertEqual(parse_amount(" 80 "), Decimal("80.00"))
        self.assertEqual(parse_amount("1,200.5"), Decimal("1200.50"))
        self.assertEqual(parse_amount("0"), Decimal("0.00"))
        self.assertIsNone(parse_amount(""))
        self.assertIsNone(parse_amount("  "))
        for bad in ("80.555", "-1", "abc", "NaN", "Infinity", "1e3x", "100000000"):
            with self.subTest(bad=bad), self.assertRaises(ValueError):
                parse_amount(bad)

    def test_the_province_enters_changes_and_removes_and_each_change_is_reported(self):
        changes = standards_save(
            actor=self.province,
            year=2018,
            amounts={
                (LIVING, None): Decimal("50"),
                (NURSING, None): Decimal("50"),
                (NURSING, 1): Decimal("80"),
            },
        )
        self.assertEqual(len(changes), 3)
        self.assertTrue(all(c.before is None for c in changes))
        changes = standards_save(
            actor=self.province,
            year=2018,
            amounts={(LIVING, None): Decimal("50"), (NURSING, 1): Decimal("90"), (NURSING, None): None},
        )
        self.assertEqual(
            [(c.benefit_type.code, c.level, c.before, c.after) for c in changes],
            [(NURSING, 1, Decimal("80"), Decimal("90")), (NURSING, None, Decimal("50"), None)],
        )
        stored = standards_for_year(2018)
        self.assertEqual(set(stored), {(LIVING, None), (NURSING, 1)})
        self.assertEqual(amount_for(stored, NURSING, 1), Decimal("90"))
        self.assertIsNone(amount_for(stored, NURSING, 2))  # no level-2 amount and none for all levels
        self.assertEqual(amount_for(stored, LIVING, 4), Decimal("50"))

    def test_only_the_provincial_office_sets_amounts(self):
        for name in ("ruijin_supervisor", "ganzhou_reviewer", "sysadmin"):
            with self.subTest(name=name), self.assertRaises(StandardError):
                standard_set(
                    actor=self.cast[name],
                    benefit_type=BenefitType.objects.get(code=LIVING),
                    year=2018,
                    disability_level=None,
                    amount=Decimal("50"),
                )
        self.assertFalse(Standard.objects.exists())

    def test_levels_only_for_benefits_paid_to_a_person_and_years_in_range(self):
        with self.assertRaises(StandardError) as caught:
            standards_save(actor=self.province, year=2018, amounts={("M11-HOUSING", 1): Decimal("10000")})
        self.assertIn(("M11-HOUSING", 1), caught.exception.errors)
        standards_save(actor=self.province, year=2018, amounts={("M11-HOUSING", None): Decimal("10000")})
        with self.assertRaises(StandardError):
            standards_save(actor=self.province, year=2015, amounts={(LIVING, None): Decimal("50")})
        with self.assertRaises(StandardError):
            standards_save(actor=self.province, year=2018, amounts={(LIVING, 5): Decimal("50")})
        with self.assertRaises(StandardError):
            standards_save(actor=self.province, year=2018, amounts={(LIVING, None): Decimal("-5")})
        self.assertEqual(Standard.objects.count(), 1)

    def test_an_amount_changed_since_the_page_was_opened_is_refused_with_both_values(self):
        standards_save(actor=self.province, year=2018, amounts={(LIVING, None): Decimal("50")})
        standards_save(actor=self.province, year=2018, amounts={(LIVING, None): Decimal("60")})
        with self.assertRaises(StandardError) as caught:
            standards_save(
                actor=self.province,
                year=2018,
                amounts={(LIVING, None): Decimal("70"), (NURSING, None): Decimal("50")},
                opened={(LIVING, None): Decimal("50"), (NURSING, None): None},
            )
        [message] = caught.exception.errors[(LIVING, None)]
        self.assertIn("50.00", message)
        self.assertIn("60.00", message)
        # Nothing of that save was written, the other cell included.
        self.assertEqual(
            {k: s.amount for k, s in standards_for_year(2018).items()}, {(LIVING, None): Decimal("60")}
        )


class StandardPageTest(CastTestCase):
    def setUp(self):
        translation.activate("zh-hans")
        self.addCleanup(translation.deactivate)

    def post(self, **cells):
        data = {"year": "2018"}
        for key, value in cells.items():
            data[key] = value
        return self.client.post("/standards/", data)

    def test_everyone_reads_and_only_the_province_has_inputs(self):
        Standard.objects.create(benefit_type_id=LIVING, year=2018, amount=Decimal("50"))
        self.login("ruijin_clerk")
        page = self.client.get("/standards/?year=2018")
        self.assertContains(page, "50.00")
        self.assertNotContains(page, 'name="a_M03-LIVING_0"')
        self.assertEqual(self.client.post("/standards/", {"year": "2018"}).status_code, 403)
        self.login("province_officer")
        page = self.client.get("/standards/?year=2018")
        self.assertContains(page, 'name="a_M03-LIVING_0" value="50.00"')
        self.assertContains(page, 'name="a_M03-NURSING_1"')
        self.assertNotContains(page, 'name="a_M11-HOUSING_1"')  # a household benefit has no levels

    def test_the_year_table_is_saved_in_one_form(self):
        self.login("province_officer")
        response = self.post(**{"a_M03-LIVING_0": "50", "a_M03-NURSING_1": "80", "a_M03-NURSING_2": "60.5"})
        self.assertRedirects(response, "/standards/?year=2018")
        self.assertEqual(
            {k: s.amount for k, s in standards_for_year(2018).items()},
            {(LIVING, None): Decimal("50"), (NURSING, 1): Decimal("80"), (NURSING, 2): Decimal("60.50")},
        )

    def test_a_bad_cell_is_named_and_nothing_is_saved(self):
        self.login("province_officer")
        response = self.post(**{"a_M03-LIVING_0": "50", "a_M03-NURSING_1": "八十"})
        self.assertEqual(response.status_code, 200)
        self.assertIn("重度残疾人护理补贴", response.context["problems"][0])
        self.assertFalse(Standard.objects.exists())

    def test_emptying_a_saved_amount_asks_first_then_removes_or_keeps_as_chosen(self):
        Standard.objects.create(benefit_type_id=NURSING, year=2018, disability_level=1, amount=Decimal("80"))
        self.login("province_officer")
        asked = self.post(**{"a_M03-NURSING_1": "", "a_M03-LIVING_0": "50"})
        self.assertEqual(asked.status_code, 200)
        [(label, amount)] = asked.context["confirm"]
        self.assertIn("重度残疾人护理补贴", label)
        self.assertEqual(amount, Decimal("80"))
        self.assertEqual(Standard.objects.count(), 1)  # nothing written yet, not even the other cell
        kept = self.post(**{"a_M03-NURSING_1": "", "a_M03-LIVING_0": "50", "blank": "keep"})
        self.assertRedirects(kept, "/standards/?year=2018")
        self.assertEqual(
            {k: s.amount for k, s in standards_for_year(2018).items()},
            {(NURSING, 1): Decimal("80"), (LIVING, None): Decimal("50")},
        )
        removed = self.post(**{"a_M03-NURSING_1": "", "blank": "remove"})
        self.assertRedirects(removed, "/standards/?year=2018", fetch_redirect_response=False)
        self.assertEqual(set(standards_for_year(2018)), {(LIVING, None)})
        shown = [str(m) for m in self.client.get("/standards/?year=2018").context["messages"]]
        self.assertTrue(any("80" in m and "重度残疾人护理补贴" in m for m in shown), shown)

    def test_a_blank_cell_with_nothing_saved_sets_nothing(self):
        self.login("province_officer")
        response = self.post(**{"a_M03-LIVING_0": "", "a_M03-NURSING_1": ""})
        self.assertRedirects(response, "/standards/?year=2018", fetch_redirect_response=False)
        self.assertFalse(Standard.objects.exists())
        shown = [str(m) for m in self.client.get("/standards/?year=2018").context["messages"]]
        self.assertEqual(shown, [_("Nothing changed: the amounts are as they were.")])

    def test_a_colleagues_change_since_opening_is_shown_not_overwritten(self):
        Standard.objects.create(benefit_type_id=LIVING, year=2018, amount=Decimal("60"))
        self.login("province_officer")
        response = self.post(**{"a_M03-LIVING_0": "70", "o_a_M03-LIVING_0": "50.00"})
        self.assertEqual(response.status_code, 200)
        self.assertIn("60.00", response.context["problems"][0])
        self.assertEqual(Standard.objects.get().amount, Decimal("60"))


class StandardHistoryTest(CastTestCase):
    def test_each_change_of_an_amount_is_kept_with_who_made_it(self):
        from programs.models import Standard
        from programs.standards import standards_save

        province = self.cast["province_officer"]
        standards_save(actor=province, year=2018, amounts={("M03-LIVING", None): Decimal("50")})
        standards_save(actor=province, year=2018, amounts={("M03-LIVING", None): Decimal("55")})
        standards_save(actor=province, year=2018, amounts={("M03-LIVING", None): None})
        events = Standard.pgh_event_model.objects.order_by("pgh_id")
        self.assertEqual(
            [(e.pgh_label, e.amount) for e in events],
            [("insert", Decimal("50")), ("update", Decimal("55")), ("delete", Decimal("55"))],
        )
        self.assertEqual({e.pgh_context.metadata["user"] for e in events}, {province.pk})
