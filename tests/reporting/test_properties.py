"""The roll-up against counts made directly from the generated rows, over random registries in a few
counties, townships and villages: every total, at every level, and each level the sum of the one below."""

from collections import defaultdict
from datetime import date
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from areas.models import Area
from areas.services import PROVINCE_MANAGED_COUNTIES
from beneficiaries.models import Household, HouseholdStatus, Person
from beneficiaries.validation import make_id_number
from programs.models import ACHIEVED_STATUSES, Enrollment, Facility, Unit
from reporting.models import Progress
from reporting.services import rollup_run

from .data import located, villages

# 瑞金 (province-managed) and 宁都 in 赣州市, 南昌县 in 南昌市: two cities, a managed county, two townships
# and two villages in each county.
COUNTIES = ("360781", "360730", "360121")
PERSON_TYPES = ("M03-LIVING", "M08-SUNSHINE")
HOUSEHOLD_TYPES = ("M11-HOUSING", "M02-ASSIST")
FACILITY_TYPES = {"sheltered": "M07-INSTITUTION", "base": "M10-BASE"}
STATUSES = ("applied", "approved", "active", "stopped", "rejected")
YEARS = (2017, 2018)

status_row = st.tuples(
    st.integers(2016, 2019),  # year of the row's date
    st.sampled_from(["not_out", "out", "returned"]),
    st.sampled_from([None, 0, -1]),  # exit year: none, the date's year, the year before
)
registry = st.fixed_dictionaries(
    {
        "households": st.lists(st.tuples(st.integers(0, 11), st.lists(status_row, max_size=3)), max_size=6),
        "people": st.lists(
            st.tuples(
                st.one_of(st.none(), st.integers(0, 5)),  # household (index), if any
                st.integers(0, 11),  # village, for people without a household
                st.sampled_from(["active", "active", "deceased", "duplicate"]),
            ),
            max_size=10,
        ),
        "person_records": st.lists(
            st.tuples(
                st.integers(0, 9),
                st.sampled_from(PERSON_TYPES),
                st.sampled_from(YEARS),
                st.sampled_from(STATUSES),
                st.sampled_from([None, Decimal("120.00"), Decimal("35.50")]),
            ),
            max_size=16,
        ),
        "household_records": st.lists(
            st.tuples(
                st.integers(0, 5),
                st.sampled_from(HOUSEHOLD_TYPES),
                st.sampled_from(YEARS),
                st.sampled_from(STATUSES),
                st.sampled_from([None, Decimal("2000.00")]),
            ),
            max_size=6,
        ),  # fmt: skip
        "facilities": st.lists(
            st.tuples(st.integers(0, 11), st.sampled_from(sorted(FACILITY_TYPES))), max_size=3
        ),
        "facility_records": st.lists(
            st.tuples(st.integers(0, 2), st.sampled_from(YEARS), st.sampled_from(STATUSES)), max_size=4
        ),
    }
)


def ancestors(village_code: str) -> tuple[str, ...]:
    return (village_code, village_code[:9], village_code[:6], village_code[:4] + "00", "360000")


class Expected:
    """Direct counts from the rows, by (year, benefit type or None, area code)."""

    def __init__(self):
        self.achieved = defaultdict(int)
        self.for_target = defaultdict(int)
        self.households = defaultdict(int)
        self.amount = defaultdict(Decimal)

    def add(self, year, type_code, village_code, *, households=0, amount=None):
        for code in ancestors(village_code):
            key = (year, type_code, code)
            self.achieved[key] += 1
            is_city = code == village_code[:4] + "00"
            if not (is_city and village_code[:6] in PROVINCE_MANAGED_COUNTIES):
                self.for_target[key] += 1
            self.households[key] += households
            self.amount[key] += amount or 0


class RollupPropertyTest(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.villages = [v for county in COUNTIES for v in villages(county)]
        assert len(cls.villages) == 12

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(registry)
    def test_totals_equal_direct_counts_at_every_level(self, data):
        expected = self.make(data)
        rollup_run()
        rows = {(r.year, r.benefit_type_id, r.area_code): r for r in Progress.objects.all()}

        achieved_keys = {key for key, n in expected.achieved.items() if n}
        self.assertEqual({key for key, row in rows.items() if row.achieved}, achieved_keys)
        for key in achieved_keys:
            row = rows[key]
            self.assertEqual(row.achieved, expected.achieved[key], key)
            self.assertEqual(row.achieved_for_target, expected.for_target[key], key)
            self.assertEqual(row.amount, expected.amount[key], key)
            counts_households = key[1] is None or key[1] in HOUSEHOLD_TYPES
            self.assertEqual(row.households, expected.households[key] if counts_households else None, key)
        self.assert_each_level_sums_the_one_below(rows)

    def assert_each_level_sums_the_one_below(self, rows):
        by_parent = defaultdict(list)
        for (year, type_code, _), row in rows.items():
            by_parent[(year, type_code, row.parent_code)].append(row)
        for (year, type_code, code), row in rows.items():
            if row.level == "village":
                continue
            children = by_parent[(year, type_code, code)]
            self.assertEqual(row.achieved, sum(c.achieved for c in children), (year, type_code, code))
            self.assertEqual(
                row.amount, sum((c.amount for c in children), Decimal(0)), (year, type_code, code)
            )
            if row.households is not None:
                self.assertEqual(row.households, sum(c.households or 0 for c in children))
            if row.level == "city":  # what counts against its target leaves out province-managed counties
                managed = sum(c.achieved for c in children if c.area_code in PROVINCE_MANAGED_COUNTIES)
                self.assertEqual(row.achieved_for_target, row.achieved - managed)
            else:
                self.assertEqual(row.achieved_for_target, row.achieved)

    def make(self, data) -> Expected:
        expected = Expected()
        households = []
        exits = defaultdict(set)  # household index -> years out of poverty
        for index, (village, history) in enumerate(data["households"]):
            rows = [
                (date(year, 1 + n * 4, 15), status, None if shift is None else year + shift)
                for n, (year, status, shift) in enumerate(sorted(history, key=lambda h: h[0]))
            ]
            last_status = rows[-1][1] if rows else "not_out"
            household = Household.objects.create(
                head_name="户主", size=3, poverty_status=last_status,
                exit_year=(rows[-1][2] or rows[-1][0].year) if last_status == "out" else None,
                **located(self.villages[village]),
            )  # fmt: skip
            HouseholdStatus.objects.bulk_create(
                HouseholdStatus(
                    household=household, effective_date=when, poverty_status=status, exit_year=year
                )
                for when, status, year in rows
            )
            exits[index] = {year or when.year for when, status, year in rows if status == "out"}
            households.append(household)
        people = []
        for n, (household_index, village, life_status) in enumerate(data["people"]):
            household = None
            if household_index is not None and household_index < len(households):
                household = households[household_index]
            village_code = household.village_code if household else self.villages[village]
            id_number = make_id_number(village_code[:6], date(1970, 1, 1), n)
            people.append(
                Person.objects.create(
                    name="刘",
                    id_number=id_number,
                    gender="M" if int(id_number[16]) % 2 else "F",
                    birth_date=date(1970, 1, 1),
                    disability_category=4,
                    disability_level=2,
                    household=household,
                    life_status=life_status,
                    **located(village_code),
                )  # fmt: skip
            )
            if household is not None and life_status != "duplicate":
                for year in exits[household_index]:
                    expected.add(year, None, village_code)
        # A household counts once a year in each village where it has members (one, here).
        for index, years in exits.items():
            members = [
                p for p in people if p.household_id == households[index].pk and p.life_status != "duplicate"
            ]
            for year in years if members else ():
                for code in ancestors(households[index].village_code):
                    expected.households[(year, None, code)] += 1
        facilities = [
            Facility.objects.create(name=f"机构{n}", kind=kind, **located(self.villages[village]))
            for n, (village, kind) in enumerate(data["facilities"])
        ]
        records, live = [], set()

        def record(recipient, unit, type_code, year, status, amount, **who):
            key = (unit, recipient.pk, type_code, year)
            if status != "rejected":
                if key in live:  # the database allows one live record per recipient, type and year
                    return
                live.add(key)
            records.append(
                Enrollment(
                    benefit_type_id=type_code, year=year, start_date=date(year, 2, 1), status=status,
                    amount=amount, recipient_unit=unit, county_code=recipient.county_code,
                    township_code=recipient.township_code, village_code=recipient.village_code, **who,
                )
            )  # fmt: skip
            if status in ACHIEVED_STATUSES:
                households = 1 if unit == Unit.HOUSEHOLD else 0
                expected.add(year, type_code, recipient.village_code, households=households, amount=amount)

        for index, type_code, year, status, amount in data["person_records"]:
            if index < len(people):
                person = people[index]
                record(person, Unit.PERSON, type_code, year, status, amount, person=person,
                       household_id=person.household_id)  # fmt: skip
        for index, type_code, year, status, amount in data["household_records"]:
            if index < len(households):
                record(households[index], Unit.HOUSEHOLD, type_code, year, status, amount,
                       household=households[index])  # fmt: skip
        for index, year, status in data["facility_records"]:
            if index < len(facilities):
                facility = facilities[index]
                unit = Unit.INSTITUTION if facility.kind == "sheltered" else Unit.BASE
                record(facility, unit, FACILITY_TYPES[facility.kind], year, status, None, facility=facility)
        Enrollment.objects.bulk_create(records)
        return expected


def test_the_counties_are_as_the_test_assumes(db):
    cities = dict(Area.objects.filter(code__in=COUNTIES).values_list("code", "parent_id"))
    assert cities == {"360781": "360700", "360730": "360700", "360121": "360100"}
    assert "360781" in PROVINCE_MANAGED_COUNTIES and "360730" not in PROVINCE_MANAGED_COUNTIES
