"""The roster commit, written as one statement over the staged rows: households found, created or brought
up to date once each, people created and attached, changed people written over the version they were
checked against, each write in the audit trail with the import's context."""

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from beneficiaries import roster
from beneficiaries.models import Household, HouseholdStatus, Person
from imports import pipeline
from imports.models import ImportStatus
from imports.services import import_commit

from .rosters import person_row, village_of, workbook
from .test_pipeline import MEDIA, PipelineCase

RUIJIN = "360781"


def member(n: int, head: int, relation: str = "配偶", **overrides) -> dict:
    """Row n, living in the household whose head is row `head` (same village)."""
    township, village = village_of(RUIJIN, head % 5)
    return person_row(
        n, 户主姓名=f"刘{head:04d}", 与户主关系=relation, 乡镇=township, 村=village, **overrides
    )


@override_settings(MEDIA_ROOT=MEDIA)
class RosterCommitTest(PipelineCase):
    def households(self) -> dict[str, Household]:
        return {h.head_name: h for h in Household.objects.filter(county_code=RUIJIN)}

    def test_a_family_on_several_rows_makes_one_household_with_the_first_rows_facts(self):
        rows = [
            person_row(0, 家庭人口=4, 低保="是"),
            member(1, 0, 家庭人口=9, 低保="否"),  # a later row of the same household says otherwise
            member(2, 0, "子女"),
            person_row(3),
        ]
        job = self.commit(self.read(workbook(rows)))
        self.assertEqual(job.counts["written_created"], 4)
        households = self.households()
        self.assertEqual(set(households), {"刘0000", "刘0003"})
        family = households["刘0000"]
        self.assertEqual((family.size, family.is_dibao, family.poverty_status), (4, True, "not_out"))
        self.assertEqual(
            sorted(family.members.values_list("name", "relation_to_head")),
            [("刘0000", "head"), ("刘0001", "spouse"), ("刘0002", "child")],
        )
        statuses = HouseholdStatus.objects.filter(household__in=households.values())
        self.assertEqual(sorted(statuses.values_list("household__head_name", "note")), [
            ("刘0000", f"import {job.pk}"), ("刘0003", f"import {job.pk}"),
        ])  # fmt: skip
        self.assertTrue(all(s.recorded_by_id == self.clerk.pk for s in statuses))

    def test_a_row_joins_a_stored_household_and_its_news_are_written_once(self):
        self.commit(self.read(workbook([person_row(0), person_row(1)])))
        family = self.households()["刘0000"]
        rows = [person_row(0, 脱贫状态="已脱贫", 脱贫年度=2017), member(5, 0, 家庭人口=7), person_row(1)]
        job = self.read(workbook(rows))
        self.assertEqual(job.counts, {"update": 1, "new": 1, "unchanged": 1})
        self.commit(job)
        self.assertEqual(Household.objects.filter(county_code=RUIJIN).count(), 2)  # none created
        family.refresh_from_db()
        self.assertEqual(
            (family.poverty_status, family.exit_year, family.size, family.version), ("out", 2017, 3, 2)
        )
        self.assertEqual(Person.objects.get(name="刘0005").household, family)
        news = HouseholdStatus.objects.filter(household=family).order_by("id")
        self.assertEqual([(s.poverty_status, s.exit_year) for s in news], [("not_out", None), ("out", 2017)])
        other = self.households()["刘0001"]
        self.assertEqual((other.version, other.statuses.count()), (1, 1))  # nothing new about it

    def test_a_changed_row_writes_what_it_says_and_keeps_what_it_leaves_blank(self):
        self.commit(self.read(workbook([person_row(n) for n in range(4)])))
        before = {p.name: p for p in Person.objects.all()}
        moved = member(2, 0, "子女", 联系电话="", 残疾证号="")
        renamed = person_row(3, 姓名="刘改名", 残疾类别="视力", 残疾等级="一级")
        renamed["残疾证号"] = renamed["身份证号"] + "11"
        job = self.commit(self.read(workbook([moved, renamed])))
        self.assertEqual((job.counts["written_updated"], job.counts["written_stale"]), (2, 0))
        child = Person.objects.get(pk=before["刘0002"].pk)
        self.assertEqual(child.household, self.households()["刘0000"])
        self.assertEqual(child.relation_to_head, "child")
        self.assertEqual(
            (child.phone, child.certificate_number),
            (before["刘0002"].phone, before["刘0002"].certificate_number),
        )
        self.assertEqual(child.version, 2)
        changed = Person.objects.get(pk=before["刘0003"].pk)
        self.assertEqual(
            (changed.name, changed.disability_category, changed.disability_level, changed.certificate_number),
            ("刘改名", 1, 1, renamed["残疾证号"]),
        )

    def test_rows_of_people_changed_since_the_check_are_left_out_and_counted(self):
        self.commit(self.read(workbook([person_row(n) for n in range(3)])))
        job = self.read(workbook([person_row(n, 联系电话=f"1380000000{n}") for n in range(3)]))
        Person.objects.filter(name="刘0001").update(version=5)  # edited meanwhile
        Person.objects.filter(name="刘0002").update(
            county_code="360730", township_code="360730", village_code="360730"
        )
        job = self.commit(job)
        self.assertEqual(job.status, ImportStatus.COMMITTED)
        self.assertEqual((job.counts["written_updated"], job.counts["written_stale"]), (1, 2))
        self.assertEqual(
            dict(Person.objects.values_list("name", "phone")),
            {"刘0000": "13800000000", "刘0001": "13900000001", "刘0002": "13900000002"},
        )

    def test_a_household_edited_after_the_check_keeps_its_edit_and_the_message_says_so(self):
        self.commit(self.read(workbook([person_row(0), person_row(1)])))
        rows = [person_row(0, 家庭人口=4), member(5, 0), person_row(1, 家庭人口=6)]
        job = self.read(workbook(rows))
        family = self.households()["刘0000"]
        # A page edit after the check:
        Household.objects.filter(pk=family.pk).update(size=5, version=2, updated_at=timezone.now())
        job = self.commit(job)
        self.assertEqual(job.counts["written_kept_households"], 1)
        self.assertIn("1户的户信息在校验之后已被修改，保留原值", job.message)
        family.refresh_from_db()
        self.assertEqual((family.size, family.version), (5, 2))  # the clerk's edit stands
        self.assertEqual(Person.objects.get(name="刘0005").household, family)  # the new member joins it
        self.assertEqual(self.households()["刘0001"].size, 6)  # the other household takes the file's news

    def test_every_write_is_in_the_audit_trail_with_the_import(self):
        self.commit(self.read(workbook([person_row(0), person_row(1)])))
        job = self.commit(
            self.read(workbook([person_row(0, 联系电话="13800000000"), person_row(1), person_row(2)]))
        )
        events = Person.pgh_event_model.objects.filter(pgh_context__metadata__import_job=job.pk)
        self.assertEqual(
            sorted(events.values_list("name", "pgh_label")), [("刘0000", "update"), ("刘0002", "insert")]
        )
        self.assertTrue(all(e.pgh_context.metadata["user"] == self.clerk.pk for e in events))
        household_events = Household.pgh_event_model.objects.filter(pgh_context__metadata__import_job=job.pk)
        self.assertEqual(list(household_events.values_list("head_name", "pgh_label")), [("刘0002", "insert")])

    def test_the_planner_knows_how_many_rows_the_commit_writes(self):
        # Staged rows written moments ago have no statistics: taken for a handful, 50,000 of them were
        # once joined row by row, for minutes. The commit plans over a table that has its own.
        job = self.read(workbook([person_row(n) for n in range(3)] + [person_row(0, 姓名="刘重复")]))
        tables = {"rows": "imports_importrow"}
        with connection.cursor() as cursor:
            cursor.execute(roster.ROWS_SQL.format(**tables), {"job": job.pk})
            cursor.execute("EXPLAIN (FORMAT JSON) SELECT * FROM roster_commit WHERE outcome = 'new'")
            [[[plan]]] = cursor.fetchall()
            cursor.execute("SHOW enable_nestloop")
            self.assertEqual(cursor.fetchone()[0], "on")  # no planner setting changed for it
        self.assertEqual(job.counts, {"new": 3, "rejected": 1})
        self.assertEqual(plan["Plan"]["Plan Rows"], 3)

    def test_a_roll_up_of_the_county_is_queued_once_the_rows_are_saved(self):
        job = self.read(workbook([person_row(0)]))
        import_commit(actor=self.clerk, job=job, all_or_nothing=False)
        asked = []
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("reporting.tasks._queue", lambda county, countdown: asked.append(county))
            with self.captureOnCommitCallbacks(execute=False) as callbacks:
                pipeline.commit(job.pk, self.clerk.pk)
            self.assertEqual(asked, [])  # not before the commit
            for callback in callbacks:
                callback()
        self.assertEqual(asked, [RUIJIN])
        self.assertEqual(Person.objects.filter(county_code=RUIJIN).count(), 1)
