"""The audit trail: every write path leaves one history row per change carrying the actor, and no session
of the application can rewrite, delete or empty it (poverty_relief/history.py).

Already covered elsewhere: the actor on service writes (tests/beneficiaries/test_services.py), on API
POST/PATCH of people and households (tests/beneficiaries/test_api.py), on an import commit with its job
(tests/imports/test_pipeline.py, tests/programs/test_enrollment_sheet.py), on targets, facilities,
enrollments and inspections (tests/programs/).
"""

import pytest
from django.db import DatabaseError, connection, transaction
from pghistory.models import Context

from beneficiaries.models import Household, Person, TransferRequest
from poverty_relief.history import history_tables
from tests.beneficiaries.factories import household_data, location, person_data
from tests.beneficiaries.permission_rows import registry_objects
from tests.cast import NINGDU, RUIJIN, CastTestCase
from tests.programs.permission_rows import program_objects


def events_since(model, pgh_id: int) -> list:
    event_model = model.events.rel.related_model
    return list(
        event_model.objects.filter(pgh_id__gt=pgh_id).select_related("pgh_context").order_by("pgh_id")
    )


def last_event_id(model) -> int:
    event_model = model.events.rel.related_model
    return event_model.objects.order_by("-pgh_id").values_list("pgh_id", flat=True).first() or 0


def form(data: dict) -> dict:
    return {k: ("" if v is None else v) for k, v in data.items()}


class EveryWritePathRecordsItsActorTest(CastTestCase):
    """Pages and API actions not covered elsewhere, each: one event per changed record, with its actor."""

    def setUp(self):
        self.clerk = self.login("ruijin_clerk")

    def assert_one_event_by(self, model, since: int, actor, label: str, pk: int):
        events = events_since(model, since)
        self.assertEqual([(e.pgh_obj_id, e.pgh_label) for e in events], [(pk, label)])
        self.assertEqual(events[0].pgh_context.metadata["user"], actor.pk)
        self.assertIsNotNone(events[0].pgh_created_at)

    def test_registry_pages(self):
        since = last_event_id(Household)
        data = form(household_data(RUIJIN) | {"effective_date": "2018-03-01"})
        response = self.client.post("/registry/households/new/", data)
        self.assertEqual(response.status_code, 302, response.content[:2000])
        household = Household.objects.get()
        self.assert_one_event_by(Household, since, self.clerk, "insert", household.pk)

        since = last_event_id(Household)
        response = self.client.post(
            f"/registry/households/{household.pk}/edit/", data | {"size": 5, "version": household.version}
        )
        self.assertEqual(response.status_code, 302)
        self.assert_one_event_by(Household, since, self.clerk, "update", household.pk)

        since = last_event_id(Person)
        person = form(person_data(RUIJIN) | {"household": household.pk, "relation_to_head": "head"})
        self.assertEqual(self.client.post("/registry/people/new/", person).status_code, 302)
        registered = Person.objects.get()
        self.assert_one_event_by(Person, since, self.clerk, "insert", registered.pk)

        since = last_event_id(Person)
        edited = person | {"phone": "13800000000", "version": registered.version}
        self.assertEqual(self.client.post(f"/registry/people/{registered.pk}/edit/", edited).status_code, 302)
        self.assert_one_event_by(Person, since, self.clerk, "update", registered.pk)

        since = last_event_id(Person)
        status = {"life_status": "deceased", "effective_date": "2018-05-01", "reason": "病故", "version": 2}
        self.assertEqual(
            self.client.post(f"/registry/people/{registered.pk}/status/", status).status_code, 302
        )
        self.assert_one_event_by(Person, since, self.clerk, "update", registered.pk)

        since = last_event_id(Household)
        household.refresh_from_db()
        deactivate = {"reason": "全户迁出", "version": household.version}
        response = self.client.post(f"/registry/households/{household.pk}/deactivate/", deactivate)
        self.assertEqual(response.status_code, 302)
        self.assert_one_event_by(Household, since, self.clerk, "update", household.pk)

    def test_a_transfer_accepted_on_the_page_is_the_receiving_supervisor_s(self):
        from beneficiaries.services import person_register, transfer_request

        person = person_register(actor=self.cast["ningdu_clerk"], data=person_data(NINGDU))
        transfer = transfer_request(
            actor=self.cast["ningdu_clerk"], person=person, data=location(RUIJIN), reason="随子女迁居"
        )
        supervisor = self.login("ruijin_supervisor")
        since = last_event_id(Person)
        response = self.client.post(f"/registry/transfers/{transfer.pk}/answer/", {"decision": "accept"})
        self.assertEqual(response.status_code, 302)
        self.assertEqual(TransferRequest.objects.get().decided_by, supervisor)
        self.assert_one_event_by(Person, since, supervisor, "update", person.pk)

    def test_api_actions(self):
        from beneficiaries.services import household_register, person_register

        person = person_register(actor=self.cast["ruijin_clerk"], data=person_data(RUIJIN))
        household = household_register(actor=self.cast["ruijin_clerk"], data=household_data(RUIJIN))
        supervisor = self.login("ruijin_supervisor")  # a second actor: the row names who called
        since = last_event_id(Person)
        response = self.client.post(
            f"/api/v1/persons/{person.pk}/status/",
            {"life_status": "moved_out", "effective_date": "2018-05-01", "reason": "外出务工", "version": 1},
            content_type="application/json",
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.assert_one_event_by(Person, since, supervisor, "update", person.pk)
        since = last_event_id(Household)
        response = self.client.post(
            f"/api/v1/households/{household.pk}/deactivate/",
            {"reason": "重复登记", "version": 1},
            content_type="application/json",
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.assert_one_event_by(Household, since, supervisor, "update", household.pk)

    def test_a_refused_write_leaves_no_event(self):
        since = last_event_id(Person)
        response = self.client.post("/registry/people/new/", form(person_data(RUIJIN, name="")))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(events_since(Person, since), [])


class HistoryCannotBeRewrittenTest(CastTestCase):
    """As the application's role (here a role made for the test, neither superuser nor owner, with the
    grants the application has): every history table refuses UPDATE, DELETE and TRUNCATE, even with
    pgtrigger's own guards switched off the way any session may switch them off."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        registry_objects(cls.cast)
        program_objects(cls.cast)

    def as_application(self, sql: str, params=()):
        """Run one statement as a non-superuser role; returns the error, or None if it went through."""
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT current_database()")
            role = f"{cursor.fetchone()[0]}_app"[:60]
            cursor.execute(f'CREATE ROLE "{role}" NOSUPERUSER NOINHERIT')
            cursor.execute(
                f'GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA public TO "{role}"'
            )
            cursor.execute(f'SET LOCAL ROLE "{role}"')
            # Any session may ask pgtrigger's triggers to step aside: the guards must not.
            cursor.execute("SELECT set_config('pgtrigger.ignore', %s, true)", [self.pgtrigger_names()])
            try:
                with transaction.atomic():
                    cursor.execute(sql, params)
            except DatabaseError as error:
                return error
            finally:
                cursor.execute("RESET ROLE")
                transaction.set_rollback(True)  # the role goes with the transaction
        return None

    def pgtrigger_names(self) -> str:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT string_agg(c.relname || ':' || t.tgname || ',' || t.tgname, ',') FROM pg_trigger t "
                "JOIN pg_class c ON c.oid = t.tgrelid WHERE t.tgname LIKE 'pgtrigger_%'"
            )
            return "{" + (cursor.fetchone()[0] or "") + "}"

    def test_every_history_table_is_guarded(self):
        tables = history_tables()
        self.assertIn("beneficiaries_personevent", tables)
        self.assertIn("programs_enrollmentevent", tables)
        self.assertEqual(tables[-1], "pghistory_context")
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE t.tgname LIKE 'pr_history_guard_%%' GROUP BY c.relname HAVING count(*) = 2"
            )
            self.assertEqual(sorted(row[0] for row in cursor.fetchall()), sorted(tables))

    def test_no_event_can_be_changed_or_deleted_or_emptied(self):
        checked = 0
        for table in history_tables()[:-1]:
            with connection.cursor() as cursor:
                cursor.execute(f'SELECT pgh_id FROM "{table}" LIMIT 1')  # noqa: S608 - a table name of ours
                row = cursor.fetchone()
            if row is None:
                continue  # a model the matrix's objects do not write; the trigger test covers it
            for sql in (
                f"UPDATE \"{table}\" SET pgh_label = 'insert' WHERE pgh_id = %s",  # noqa: S608
                f'DELETE FROM "{table}" WHERE pgh_id = %s',  # noqa: S608
            ):
                with self.subTest(table=table, sql=sql[:6]):
                    error = self.as_application(sql, [row[0]])
                    self.assertIsNotNone(error)
                    self.assertIn("append-only", str(error))
            with self.subTest(table=table, sql="TRUNCATE"):
                self.assertIn("append-only", str(self.as_application(f'TRUNCATE "{table}"')))
            checked += 1
        self.assertGreaterEqual(checked, 8)

    def test_the_acting_user_of_a_context_cannot_be_changed_nor_the_context_removed(self):
        context = Context.objects.filter(metadata__user=self.cast["ruijin_clerk"].pk).first()
        self.assertIsNotNone(context)
        other = self.cast["ningdu_clerk"].pk
        forged = self.as_application(
            "UPDATE pghistory_context SET metadata = jsonb_set(metadata, '{user}', %s::jsonb) WHERE id = %s",
            [str(other), context.pk],
        )
        self.assertIn("append-only", str(forged))
        self.assertIn(
            "append-only",
            str(self.as_application("DELETE FROM pghistory_context WHERE id = %s", [context.pk])),
        )
        self.assertIn("append-only", str(self.as_application("TRUNCATE pghistory_context CASCADE")))
        # What pghistory itself does: a nested context adds a key to the row (an import job, say).
        added = self.as_application(
            "UPDATE pghistory_context SET metadata = metadata || '{\"import_job\": 1}'::jsonb WHERE id = %s",
            [context.pk],
        )
        self.assertIsNone(added)

    def test_writes_still_record_history(self):
        from beneficiaries.services import person_register

        with transaction.atomic():
            person = person_register(actor=self.cast["ruijin_clerk"], data=person_data(RUIJIN, sequence=901))
        self.assertEqual(person.events.count(), 1)


@pytest.mark.django_db
def test_the_guards_are_back_after_a_migrate():
    from poverty_relief.history import protect_history

    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER pr_history_guard_rows ON beneficiaries_personevent")
    assert "beneficiaries_personevent" in protect_history()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'beneficiaries_personevent'::regclass "
            "AND tgname LIKE 'pr_history_guard_%%'"
        )
        assert cursor.fetchone()[0] == 2
