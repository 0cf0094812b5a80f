"""Two roster uploads of the same county, checked against the same registry and saved at the same moment.

The rows overlap: the same new people, updates of the same stored people, a new household named by both.
Whatever the order, the registry ends consistent: each person once, each household once, the second save
either lands only what is still valid (its stale rows counted and left out whole) or is refused with its
message and writes nothing, and the history holds one row per write.

"At the same moment" is made certain rather than hoped for: the first save writes its rows and keeps its
transaction open until the second is seen waiting on a lock in PostgreSQL; only then does the first commit.
"""

import threading
import time

import pytest
from django.db import connection
from django.utils import translation

from accounts.models import Role
from accounts.services import user_create
from beneficiaries.models import Household, Person
from beneficiaries.roster import ROSTER, RosterKind
from imports import pipeline
from imports.models import ImportJob, ImportStatus
from imports.services import import_commit, import_create

from .rosters import person_row, upload, village_of, workbook

RUIJIN = "360781"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def clerk(area_tree, settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path
    # Read and commit run here, on threads of this test; the queue is not what this is about.
    monkeypatch.setattr("imports.tasks.read_import.delay", lambda job_id: None)
    monkeypatch.setattr("imports.tasks.commit_import.delay", lambda job_id, actor_id: None)
    return user_create(
        username="ruijin", password="x", role=Role.COUNTY_CLERK, area_code=RUIJIN, check_password=False
    )


def member(n: int, head: int, **overrides) -> dict:
    """Row n, the spouse of the head on row `head` (same village)."""
    township, village = village_of(RUIJIN, head % 5)
    return person_row(n, 户主姓名=f"刘{head:04d}", 与户主关系="配偶", 乡镇=township, 村=village, **overrides)


def checked(clerk, rows: list[dict]) -> ImportJob:
    """An upload read against the registry as it is now and asked to be saved (the commit not yet run)."""
    job = import_create(actor=clerk, kind="roster", upload=upload(workbook(rows)))
    pipeline.read(job.pk)
    job = ImportJob.objects.get(pk=job.pk)
    assert job.status == ImportStatus.REVIEW, job.message
    return import_commit(actor=clerk, job=job, all_or_nothing=False)


def waiting_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def wait_until(predicate, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"no {what} after {timeout} s")


def commit_together(monkeypatch, clerk, first: ImportJob, second: ImportJob) -> tuple[ImportJob, ImportJob]:
    """Both commits in flight at once: `first` has written its rows and not committed them while `second`
    starts and runs into it."""
    written, release = threading.Event(), threading.Event()
    original = RosterKind.commit

    def holding(self, *, job, actor):
        result = original(self, job=job, actor=actor)
        if job.pk == first.pk:
            written.set()
            release.wait(60)
        return result

    monkeypatch.setattr(RosterKind, "commit", holding)
    failures: list[BaseException] = []

    def run(job):
        try:
            pipeline.commit(job.pk, clerk.pk)
        except BaseException as error:  # shown by the assertion below
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in (first, second)]
    threads[0].start()
    try:
        assert written.wait(60), "the first commit did not write"
        threads[1].start()
        # Watched from this connection: the first one's transaction would keep seeing its first snapshot.
        wait_until(waiting_on_a_lock, "second commit waiting on the first")
    finally:
        release.set()
        for thread in threads:
            if thread.ident is not None:
                thread.join()
    assert not failures, failures
    return ImportJob.objects.get(pk=first.pk), ImportJob.objects.get(pk=second.pk)


def person_events(job: ImportJob, label: str) -> int:
    return Person.pgh_event_model.objects.filter(
        pgh_context__metadata__import_job=job.pk, pgh_label=label
    ).count()


def assert_consistent(*jobs: ImportJob) -> None:
    ids = list(Person.objects.values_list("id_number", flat=True))
    assert len(ids) == len(set(ids)), "a person registered twice"
    heads = list(Household.objects.filter(is_active=True).values_list("village_code", "head_name"))
    assert len(heads) == len(set(heads)), f"a household created twice: {sorted(heads)}"
    for job in jobs:
        assert job.status in (ImportStatus.COMMITTED, ImportStatus.REFUSED), job.status
        if job.status == ImportStatus.REFUSED:
            with translation.override("zh-hans"):
                assert job.message == ROSTER.refused_message()
            assert person_events(job, "insert") + person_events(job, "update") == 0
            assert not Household.pgh_event_model.objects.filter(
                pgh_context__metadata__import_job=job.pk
            ).exists()
        else:
            counts = job.counts
            assert person_events(job, "insert") == counts["written_created"]
            assert person_events(job, "update") == counts["written_updated"]
            assert counts["written_updated"] + counts["written_stale"] == counts.get("update", 0)


def test_two_uploads_with_the_same_new_people_one_lands_and_the_other_is_refused(clerk, monkeypatch):
    pipeline.commit(checked(clerk, [person_row(n) for n in range(4)]).pk, clerk.pk)
    first = checked(clerk, [
        person_row(0, 联系电话="13800000100", 家庭人口=4), person_row(1, 联系电话="13800000101"),
        person_row(10), person_row(11),
    ])  # fmt: skip
    second = checked(clerk, [
        person_row(0, 联系电话="13800000200", 家庭人口=5), person_row(2, 联系电话="13800000202"),
        person_row(10), person_row(11), person_row(12),
    ])  # fmt: skip
    assert (first.counts, second.counts) == ({"update": 2, "new": 2}, {"update": 2, "new": 3})

    first, second = commit_together(monkeypatch, clerk, first, second)

    assert (first.status, second.status) == (ImportStatus.COMMITTED, ImportStatus.REFUSED)
    assert_consistent(first, second)
    assert Person.objects.count() == 6
    phones = dict(Person.objects.values_list("name", "phone"))
    assert (phones["刘0000"], phones["刘0001"], phones["刘0002"]) == (
        "13800000100",
        "13800000101",
        "13900000002",
    )
    assert Person.objects.get(name="刘0000").household.size == 4


def test_two_uploads_naming_one_new_household_make_it_once_and_leave_stale_rows_out_whole(clerk, monkeypatch):
    pipeline.commit(checked(clerk, [person_row(n) for n in range(4)]).pk, clerk.pk)
    first = checked(clerk, [person_row(0, 联系电话="13800000100", 家庭人口=4), person_row(20)])
    second = checked(clerk, [
        person_row(0, 联系电话="13800000200", 家庭人口=5), member(21, head=20), person_row(22),
    ])  # fmt: skip

    first, second = commit_together(monkeypatch, clerk, first, second)

    assert (first.status, second.status) == (ImportStatus.COMMITTED, ImportStatus.COMMITTED)
    assert_consistent(first, second)
    assert (first.counts["written_updated"], second.counts["written_updated"]) == (1, 0)
    assert (second.counts["written_created"], second.counts["written_stale"]) == (2, 1)
    household = Household.objects.get(head_name="刘0020")
    assert sorted(household.members.values_list("name", flat=True)) == ["刘0020", "刘0021"]
    # The second upload's row of 刘0000 was stale: none of it landed, its household's size included.
    person = Person.objects.get(name="刘0000")
    assert (person.phone, person.household.size, person.version) == ("13800000100", 4, 2)
    household_events = Household.pgh_event_model.objects.filter(pgh_obj_id=person.household_id)
    assert household_events.count() == 2  # created by the first upload of all, changed by `first`


def test_two_uploads_updating_the_same_people_each_lands_once(clerk, monkeypatch):
    pipeline.commit(checked(clerk, [person_row(n) for n in range(3)]).pk, clerk.pk)
    first = checked(clerk, [person_row(n, 联系电话=f"1380000010{n}") for n in range(3)])
    second = checked(clerk, [person_row(n, 联系电话=f"1380000020{n}") for n in (2, 1, 0)])

    first, second = commit_together(monkeypatch, clerk, first, second)

    assert (first.status, second.status) == (ImportStatus.COMMITTED, ImportStatus.COMMITTED)
    assert_consistent(first, second)
    assert (first.counts["written_updated"], second.counts["written_stale"]) == (3, 3)
    assert set(Person.objects.values_list("phone", "version")) == {(f"1380000010{n}", 2) for n in range(3)}
