from datetime import date, timedelta

from django.db import connection
from django.utils import timezone, translation

from beneficiaries.errors import DuplicatePerson, NotAllowed, RecordInvalid, StaleRecord
from beneficiaries.models import (
    Household,
    HouseholdStatus,
    LifeStatus,
    Person,
    PersonStatusChange,
    TransferRequest,
)
from beneficiaries.services import (
    household_deactivate,
    household_register,
    household_status_as_of,
    household_update,
    person_register,
    person_set_life_status,
    person_update,
    transfer_decide,
    transfer_request,
)
from tests.cast import CastTestCase

from .factories import household_data, location, person_data


class RegisterPersonTest(CastTestCase):
    def setUp(self):
        translation.activate("en")
        self.addCleanup(translation.deactivate)

    def test_gender_and_birth_date_come_from_the_id(self):
        person = person_register(actor=self.cast["ruijin_clerk"], data=person_data(sequence=8))
        self.assertEqual((person.gender, person.birth_date), ("F", date(1975, 3, 14)))
        self.assertEqual(person.version, 1)
        self.assertEqual(person.life_status, LifeStatus.ACTIVE)

    def test_every_bad_field_is_named(self):
        data = person_data(name=" ", disability_level=9, village_code="360730100201", phone="12")
        data["id_number"] = data["id_number"][:17] + "0"
        with self.assertRaises(RecordInvalid) as caught:
            person_register(actor=self.cast["ruijin_clerk"], data=data)
        errors = caught.exception.errors
        self.assertEqual(
            set(errors) >= {"name", "id_number", "disability_level", "village_code"}, True, errors
        )
        self.assertIn("check character", errors["id_number"][0])
        self.assertFalse(Person.objects.exists())

    def test_certificate_must_agree_with_category_and_level(self):
        data = person_data(category=4, level=2)
        data["certificate_number"] = data["id_number"] + "22"
        with self.assertRaises(RecordInvalid) as caught:
            person_register(actor=self.cast["ruijin_clerk"], data=data)
        self.assertIn("certificate_number", caught.exception.errors)

    def test_an_id_held_by_another_county_names_the_county_only(self):
        person_register(actor=self.cast["ningdu_clerk"], data=person_data("360730", sequence=7))
        data = person_data("360781")
        data["id_number"] = person_data("360730", sequence=7)["id_number"]
        data["certificate_number"] = data["id_number"] + "42"
        with self.assertRaises(DuplicatePerson) as caught:
            person_register(actor=self.cast["ruijin_clerk"], data=data)
        self.assertEqual(caught.exception.county_name, "宁都县")
        self.assertIn("宁都县", caught.exception.message)
        self.assertNotIn("钟秀英", caught.exception.message)

    def test_a_clerk_cannot_register_into_another_county(self):
        with self.assertRaises(RecordInvalid) as caught:
            person_register(actor=self.cast["ruijin_clerk"], data=person_data("360730"))
        self.assertIn("outside your area", caught.exception.errors["county_code"][0])

    def test_township_and_village_must_nest(self):
        data = person_data()
        data["village_code"] = location("360730")["village_code"]
        with self.assertRaises(RecordInvalid) as caught:
            person_register(actor=self.cast["ruijin_clerk"], data=data)
        self.assertIn("village_code", caught.exception.errors)

    def test_a_person_joins_a_household_of_the_same_county_with_a_relation(self):
        household = household_register(actor=self.cast["ruijin_clerk"], data=household_data())
        with self.assertRaises(RecordInvalid) as caught:
            person_register(actor=self.cast["ruijin_clerk"], data=person_data(household=household.pk))
        self.assertIn("relation_to_head", caught.exception.errors)
        person = person_register(
            actor=self.cast["ruijin_clerk"],
            data=person_data(household=household.pk, relation_to_head="spouse"),
        )
        self.assertEqual(list(household.members.all()), [person])

    def test_a_household_of_another_county_is_not_found(self):
        household = household_register(actor=self.cast["ningdu_clerk"], data=household_data("360730"))
        with self.assertRaises(RecordInvalid) as caught:
            person_register(
                actor=self.cast["ruijin_clerk"],
                data=person_data(household=household.pk, relation_to_head="child"),
            )
        self.assertIn("no such household", caught.exception.errors["household"][0])

    def test_warnings_do_not_block(self):
        data = person_data()
        from beneficiaries.validation import make_id_number

        data["id_number"] = make_id_number("440524", date(1960, 1, 1), 3)
        data["certificate_number"] = data["id_number"] + "42"
        person = person_register(actor=self.cast["ruijin_clerk"], data=data)
        self.assertEqual(person.county_code, "360781")


class UpdatePersonTest(CastTestCase):
    def setUp(self):
        translation.activate("en")
        self.addCleanup(translation.deactivate)
        self.person = person_register(actor=self.cast["ruijin_clerk"], data=person_data())

    def test_an_update_bumps_the_version(self):
        updated = person_update(
            actor=self.cast["ruijin_clerk"],
            person=self.person,
            data=person_data(phone="13800000000"),
            expected_version=1,
        )
        self.assertEqual((updated.version, updated.phone), (2, "13800000000"))

    def test_a_stale_save_is_refused_and_says_what_changed(self):
        first = Person.objects.get(pk=self.person.pk)
        second = Person.objects.get(pk=self.person.pk)
        person_update(
            actor=self.cast["ruijin_clerk"],
            person=first,
            data=person_data(phone="13800000000"),
            expected_version=1,
        )
        with self.assertRaises(StaleRecord) as caught:
            person_update(
                actor=self.cast["ruijin_supervisor"],
                person=second,
                data=person_data(name="钟秀兰"),
                expected_version=1,
            )
        self.assertEqual(caught.exception.changes, {"phone": ("13907970001", "13800000000")})
        self.assertEqual(caught.exception.current_version, 2)
        stored = Person.objects.get(pk=self.person.pk)
        self.assertEqual((stored.name, stored.phone, stored.version), ("钟秀英", "13800000000", 2))

    def test_another_county_cannot_update(self):
        with self.assertRaises(NotAllowed):
            person_update(
                actor=self.cast["ningdu_clerk"], person=self.person, data=person_data(), expected_version=1
            )

    def test_the_county_changes_only_by_transfer(self):
        with self.assertRaises(RecordInvalid):
            person_update(
                actor=self.cast["province_officer"],
                person=self.person,
                data=person_data("360730"),
                expected_version=1,
            )

    def test_deactivation_is_dated_and_needs_a_reason(self):
        actor = self.cast["ruijin_clerk"]
        with self.assertRaises(RecordInvalid):
            person_set_life_status(
                actor=actor, person=self.person, status=LifeStatus.DECEASED, effective_date=date(2018, 5, 2),
                reason="", expected_version=1,
            )  # fmt: skip
        person = person_set_life_status(
            actor=actor, person=self.person, status=LifeStatus.DECEASED, effective_date=date(2018, 5, 2),
            reason="病故", expected_version=1,
        )  # fmt: skip
        self.assertEqual((person.life_status, person.life_status_date), ("deceased", date(2018, 5, 2)))
        change = PersonStatusChange.objects.get(person=person)
        self.assertEqual((change.life_status, change.reason, change.recorded_by), ("deceased", "病故", actor))
        self.assertTrue(Person.objects.filter(pk=person.pk).exists())  # never deleted

    def test_a_future_date_is_refused(self):
        with self.assertRaises(RecordInvalid):
            person_set_life_status(
                actor=self.cast["ruijin_clerk"], person=self.person, status=LifeStatus.MOVED_OUT,
                effective_date=timezone.localdate() + timedelta(days=1), reason="外出", expected_version=1,
            )  # fmt: skip


class HouseholdTest(CastTestCase):
    def setUp(self):
        translation.activate("en")
        self.addCleanup(translation.deactivate)

    def test_status_changes_are_dated_and_answer_as_of(self):
        actor = self.cast["ruijin_clerk"]
        household = household_register(actor=actor, data=household_data(), effective_date=date(2017, 6, 1))
        household = household_update(
            actor=actor, household=household, data=household_data(poverty_status="out", exit_year=2018),
            expected_version=1, effective_date=date(2018, 11, 20),
        )  # fmt: skip
        self.assertEqual(household_status_as_of(household, date(2018, 6, 30)).poverty_status, "not_out")
        self.assertEqual(household_status_as_of(household, date(2018, 12, 31)).poverty_status, "out")
        self.assertIsNone(household_status_as_of(household, date(2016, 1, 1)))
        self.assertEqual(HouseholdStatus.objects.filter(household=household).count(), 2)

    def test_an_edit_that_keeps_the_status_adds_no_status_row(self):
        actor = self.cast["ruijin_clerk"]
        household = household_register(actor=actor, data=household_data())
        household_update(actor=actor, household=household, data=household_data(size=5), expected_version=1)
        self.assertEqual(HouseholdStatus.objects.filter(household=household).count(), 1)

    def test_exit_year_goes_with_the_status(self):
        actor = self.cast["ruijin_clerk"]
        for data, field_name in (
            (household_data(poverty_status="out"), "exit_year"),
            (household_data(exit_year=2018), "exit_year"),
            (household_data(size=0), "size"),
            (household_data(poverty_status="rich"), "poverty_status"),
        ):
            with self.subTest(data=data), self.assertRaises(RecordInvalid) as caught:
                household_register(actor=actor, data=data)
            self.assertIn(field_name, caught.exception.errors)
        self.assertFalse(Household.objects.exists())

    def test_a_household_with_active_members_is_not_deactivated(self):
        actor = self.cast["ruijin_clerk"]
        household = household_register(actor=actor, data=household_data())
        person_register(actor=actor, data=person_data(household=household.pk, relation_to_head="head"))
        with self.assertRaises(RecordInvalid):
            household_deactivate(actor=actor, household=household, reason="户已合并", expected_version=1)
        empty = household_register(actor=actor, data=household_data(head_name="刘福"))
        empty = household_deactivate(actor=actor, household=empty, reason="重复建户", expected_version=1)
        self.assertFalse(empty.is_active)


class TransferTest(CastTestCase):
    def setUp(self):
        translation.activate("en")
        self.addCleanup(translation.deactivate)
        self.person = person_register(actor=self.cast["ruijin_clerk"], data=person_data())

    def test_the_receiving_county_accepts_and_the_person_moves(self):
        transfer = transfer_request(
            actor=self.cast["ruijin_clerk"], person=self.person, data=location("360730"), reason="随子女迁居"
        )
        self.assertEqual(Person.objects.get(pk=self.person.pk).county_code, "360781")
        with self.assertRaises(NotAllowed):
            transfer_decide(actor=self.cast["ruijin_supervisor"], transfer=transfer, accept=True)
        transfer_decide(actor=self.cast["ningdu_clerk"], transfer=transfer, accept=True)
        moved = Person.objects.get(pk=self.person.pk)
        self.assertEqual((moved.county_code, moved.version), ("360730", 2))
        self.assertEqual(TransferRequest.objects.get().status, "accepted")
        self.assertEqual(
            set(TransferRequest.objects.visible_to(self.cast["ruijin_clerk"])), {transfer}
        )  # the sender still sees it

    def test_one_pending_transfer_at_a_time(self):
        transfer_request(
            actor=self.cast["ruijin_clerk"], person=self.person, data=location("360730"), reason="迁居"
        )
        with self.assertRaises(RecordInvalid):
            transfer_request(
                actor=self.cast["ruijin_clerk"], person=self.person, data=location("360121"), reason="迁居"
            )


class AuditTrailTest(CastTestCase):
    def test_each_write_path_leaves_one_history_row_with_the_actor(self):
        actor = self.cast["ruijin_clerk"]
        person = person_register(actor=actor, data=person_data())
        person_update(actor=actor, person=person, data=person_data(phone="13800000000"), expected_version=1)
        # A queryset update outside the services is recorded all the same.
        Person.objects.filter(pk=person.pk).update(phone="13700000000")
        with connection.cursor() as cursor:
            cursor.execute("UPDATE beneficiaries_person SET name = %s WHERE id = %s", ["钟秀兰", person.pk])
        events = list(person.events.order_by("pgh_id"))
        self.assertEqual([e.pgh_label for e in events], ["insert", "update", "update", "update"])
        self.assertEqual(
            [e.phone for e in events], ["13907970001", "13800000000", "13700000000", "13700000000"]
        )
        self.assertEqual(events[-1].name, "钟秀兰")
        self.assertEqual(events[0].pgh_context.metadata["user"], actor.pk)
        self.assertEqual(events[1].pgh_context.metadata["user"], actor.pk)

    def test_bulk_writes_are_recorded_row_by_row(self):
        from beneficiaries.validation import make_id_number

        people = []
        for sequence in (11, 12, 13):
            data = person_data(sequence=sequence)
            people.append(Person(**{k: v for k, v in data.items() if k != "certificate_number"},
                                 gender="M", birth_date=date(1975, 3, 14)))  # fmt: skip
        for person, sequence in zip(people, (11, 12, 13), strict=True):
            person.id_number = make_id_number("360781", date(1975, 3, 14), sequence)
        created = Person.objects.bulk_create(people)
        Person.objects.filter(pk__in=[p.pk for p in created]).update(phone="13600000000")
        for person in created:
            self.assertEqual([e.pgh_label for e in person.events.order_by("pgh_id")], ["insert", "update"])

    def test_history_rows_cannot_be_changed_or_deleted(self):
        from django.db import InternalError, transaction

        person = person_register(actor=self.cast["ruijin_clerk"], data=person_data())
        event = person.events.get()
        for statement in ("UPDATE beneficiaries_personevent SET name = 'x' WHERE pgh_id = %s",
                          "DELETE FROM beneficiaries_personevent WHERE pgh_id = %s"):  # fmt: skip
            with self.subTest(statement=statement), self.assertRaises(InternalError), transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(statement, [event.pgh_id])
        self.assertEqual(person.events.get().name, "钟秀英")


class LooseInputTest(CastTestCase):
    def test_a_household_id_that_is_not_a_number_is_not_found(self):
        with translation.override("en"), self.assertRaises(RecordInvalid) as caught:
            person_register(
                actor=self.cast["ruijin_clerk"], data=person_data(household="abc", relation_to_head="child")
            )
        self.assertIn("no such household", caught.exception.errors["household"][0])

    def test_yes_no_flags_read_text_as_people_write_it(self):
        actor = self.cast["ruijin_clerk"]
        for raw, expected in (
            ("false", False),
            ("0", False),
            ("", False),
            ("true", True),
            ("on", True),
            ("是", True),
        ):
            with self.subTest(raw=raw):
                household = household_register(actor=actor, data=household_data(is_dibao=raw))
                self.assertIs(household.is_dibao, expected)


class HostileInputTest(CastTestCase):
    """Inputs that once got past the checks into a 500 or into the registry."""

    def test_each_is_refused_with_its_field_named(self):
        actor = self.cast["ruijin_clerk"]
        cases = [
            (person_data(name="钟" * 51), "name"),
            (person_data(phone="not-a-phone"), "phone"),
            (person_data(phone="1" * 25), "phone"),
            (person_data(disability_category=float("inf")), "disability_category"),
            (person_data(disability_category="1e400"), "disability_category"),
        ]
        for data, field_name in cases:
            with (
                self.subTest(field=field_name, value=data.get(field_name)),
                self.assertRaises(RecordInvalid) as caught,
            ):
                person_register(actor=actor, data=data)
            self.assertIn(field_name, caught.exception.errors)
        for data, field_name in [
            (household_data(main_cause="bogus"), "main_cause"),
            (household_data(head_name="刘" * 51), "head_name"),
            (household_data(head_name=["a"]), "head_name"),
            (household_data(size=float("inf")), "size"),
        ]:
            with self.subTest(field=field_name), self.assertRaises(RecordInvalid) as caught:
                household_register(actor=actor, data=data)
            self.assertIn(field_name, caught.exception.errors)
        self.assertFalse(Person.objects.exists() or Household.objects.exists())

    def test_control_characters_are_dropped(self):
        person = person_register(actor=self.cast["ruijin_clerk"], data=person_data(name="钟\x00秀英"))
        self.assertEqual(person.name, "钟秀英")

    def test_a_transfer_is_answered_once(self):
        person = person_register(actor=self.cast["ruijin_clerk"], data=person_data())
        transfer = transfer_request(
            actor=self.cast["ruijin_clerk"], person=person, data=location("360730"), reason="迁居"
        )
        stale_copy = TransferRequest.objects.get(pk=transfer.pk)
        transfer_decide(actor=self.cast["ningdu_clerk"], transfer=transfer, accept=False)
        with self.assertRaises(RecordInvalid):
            transfer_decide(actor=self.cast["ningdu_clerk"], transfer=stale_copy, accept=True)
        self.assertEqual(Person.objects.get(pk=person.pk).county_code, "360781")
