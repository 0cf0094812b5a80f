"""Lost updates: two or three editors open the same record (a page, or the API) and save in every order.

Each interleaving is drawn from a seeded generator, so a failure names its seed and runs again the same way.
An editor is a browser (a logged-in client with CSRF checks on, which reads the rendered form and posts it
back as a browser would) or an agency system (token auth, GET then PUT or PATCH with the version read).
After every save the record is compared with a model of what should be stored:

- a save from the version that is stored lands whole, and all its values are stored;
- a save from an older version (another editor saved since, or the same form sent twice) is refused with
  the Chinese message naming the conflict (the form shown again, 409 from the API) and changes nothing;
- the history table gains exactly one row per landed save.

Then the same race for real: two threads on two connections save the same record at the same moment.
"""

import html
import random
import threading
import time
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext
from rest_framework.authtoken.models import Token

from accounts.models import Role
from accounts.services import user_create
from areas.models import Area, AreaLevel
from beneficiaries.errors import StaleRecord
from beneficiaries.models import Household, Person, PovertyCause, Relation
from beneficiaries.services import household_register, household_update, person_register, person_update
from programs.enrollments import check_application, enrollment_apply, enrollment_review
from programs.models import Enrollment, EnrollmentStatus
from tests.beneficiaries.factories import household_data, person_data
from tests.cast import RUIJIN, CastTestCase

SEED = 20181107
INTERLEAVINGS = 220
STEP_RACES = 110
NAMES = ["钟秀英", "刘长生", "谢冬梅", "曾庆华", "黄小兰", "赖金福", "温桂香", "杨春生", "朱丽萍", "陈国强"]
STALE_EDIT = (
    "Someone else saved this record after you opened it. Nothing of yours was saved: "
    "look at what changed, then edit again."
)
STALE_STEP = (
    "Someone else changed this record after you opened it. Nothing of yours was saved: look at it again."
)
STEP_DONE = "This record is %(status)s; that step is not possible now."

PERSON_TRACKED = ("name", "phone", "is_employed", "work_injury_nursing", "disability_level",
                  "certificate_number", "village_code", "relation_to_head", "id_number",
                  "township_code")  # fmt: skip
HOUSEHOLD_TRACKED = ("head_name", "size", "poverty_status", "exit_year", "is_dibao", "is_tekun", "main_cause",
                     "village_code", "township_code")  # fmt: skip


def chinese(msgid: str) -> str:
    with translation.override("zh-hans"):
        text = gettext(msgid)
    assert text != msgid, f"no Chinese for {msgid!r}"
    return text


class FormFields(HTMLParser):
    """The forms of a page as a browser would send them: text and hidden inputs, ticked boxes, the chosen
    option of each select (the first one when none is marked)."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict[str, str]] = []
        self._form: dict[str, str] | None = None
        self._select: str | None = None
        self._chosen = False
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {}
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._form[a["name"]] = a.get("value") or "on"
            elif kind not in ("submit", "button"):
                self._form[a["name"]] = a.get("value") or ""
        elif tag == "select" and a.get("name"):
            self._select, self._chosen = a["name"], False
        elif tag == "option" and self._select:
            if self._select not in self._form or ("selected" in a and not self._chosen):
                self._form[self._select] = a.get("value") or ""
                self._chosen = "selected" in a

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None

    def with_field(self, name: str) -> dict[str, str]:
        return next(form for form in self.forms if name in form)


def snapshot(record, fields) -> dict:
    fresh = type(record).objects.get(pk=record.pk)
    return {**{name: getattr(fresh, name) for name in fields}, "version": fresh.version}


def events(record) -> int:
    return type(record).pgh_event_model.objects.filter(pgh_obj_id=record.pk).count()


class Editor:
    """One person at a screen or one agency system: opens the record, changes some fields, saves."""

    def __init__(self, case: "LostUpdateCase", user, channel: str):
        self.case, self.user, self.channel = case, user, channel
        self.client = Client(enforce_csrf_checks=True)
        if channel == "form":
            self.client.force_login(user)
        else:
            token = Token.objects.get_or_create(user=user)[0].key
            self.client.defaults["HTTP_AUTHORIZATION"] = f"Token {token}"
        self.opened: dict | None = None
        self.form: dict[str, str] = {}
        self.read_json: dict = {}

    def read(self) -> None:
        record = self.case.record
        stored = snapshot(record, self.case.tracked)
        if self.channel == "form":
            response = self.client.get(self.case.edit_url)
            assert response.status_code == 200
            self.form = FormFields(response.content.decode()).with_field("version")
            assert int(self.form["version"]) == stored["version"], "the page shows an old version"
        else:
            response = self.client.get(self.case.api_url)
            assert response.status_code == 200, response.content
            self.read_json = response.json()
            assert self.read_json["version"] == stored["version"]
            assert {k: self.read_json[k] for k in self.case.api_tracked} == {
                k: stored[k] for k in self.case.api_tracked
            }
        self.opened = stored

    def write(self, changes: dict) -> bool:
        """Save the opened values with `changes` on top; True if the save landed."""
        assert self.opened is not None
        case = self.case
        before, history_before = snapshot(case.record, case.tracked), events(case.record)
        intended = {**{k: v for k, v in self.opened.items() if k != "version"}, **changes}
        fresh = self.opened["version"] == before["version"]
        if self.channel == "form":
            landed = self._post(changes)
        else:
            landed = self._send(changes)
        after = snapshot(case.record, case.tracked)
        case.assertEqual(landed, fresh, f"{self.channel} save from version {self.opened['version']}")
        if landed:
            case.assertEqual({k: v for k, v in after.items() if k != "version"}, intended)
            case.assertEqual(after["version"], before["version"] + 1)
            case.assertEqual(events(case.record), history_before + 1)
        else:
            case.assertEqual(after, before, "a refused save changed the record")
            case.assertEqual(events(case.record), history_before)
        return landed

    def _post(self, changes: dict) -> bool:
        data = dict(self.form)
        for name, value in changes.items():
            if isinstance(value, bool):
                data.pop(name, None)
                if value:
                    data[name] = "on"
            else:
                data[name] = "" if value is None else str(value)
        data["csrfmiddlewaretoken"] = self.client.cookies["csrftoken"].value
        response = self.client.post(self.case.edit_url, data)
        if response.status_code == 302:
            return True
        self.case.assertEqual(response.status_code, 200)
        self.case.assertIn(chinese(STALE_EDIT), html.unescape(response.content.decode()))
        self.case.assertIsNotNone(response.context["conflict"])
        return False

    def _send(self, changes: dict) -> bool:
        if self.case.rng.random() < 0.5:
            body = {"version": self.opened["version"], **changes}
            response = self.client.patch(self.case.api_url, body, content_type="application/json")
        else:
            body = {**self.read_json, **changes, "version": self.opened["version"]}
            response = self.client.put(self.case.api_url, body, content_type="application/json")
        if response.status_code == 200:
            return True
        self.case.assertEqual(response.status_code, 409, response.content)
        self.case.assertEqual(response.json()["detail"], chinese(STALE_EDIT))
        return False


def schedule(rng: random.Random, editors: int) -> list[tuple[int, str]]:
    """Each editor's script (open then save; sometimes the same form sent twice, or opened again and saved
    again), merged in a random order that keeps each script's own order."""
    scripts = [
        rng.choice([["R", "W"], ["R", "W"], ["R", "W", "W"], ["R", "W", "R", "W"]]) for _ in range(editors)
    ]
    merged, positions = [], [0] * editors
    while any(p < len(s) for p, s in zip(positions, scripts, strict=True)):
        who = rng.choice([i for i in range(editors) if positions[i] < len(scripts[i])])
        merged.append((who, scripts[who][positions[who]]))
        positions[who] += 1
    return merged


def patterns(steps: list[tuple[int, str]]) -> set[str]:
    """The shapes of race an interleaving contains, to show the run covered each of them."""
    found, read_since_write, writes = set(), set(), 0
    opened_at: dict[int, int] = {}
    for who, op in steps:
        if op == "R":
            if writes:
                found.add("read after another's write")
            opened_at[who] = writes
            read_since_write.add(who)
        else:
            if len(read_since_write) >= 2:
                found.add("both read then both write")
            if opened_at[who] < writes:
                found.add("stale write")
            read_since_write.discard(who)
            writes += 1
    opened = [who for who, op in steps if op == "R"]
    if len(set(opened)) >= 3:
        found.add("three editors")
    return found


class LostUpdateCase(CastTestCase):
    tracked: tuple[str, ...]
    api_tracked: tuple[str, ...]
    record: Person | Household
    edit_url: str
    api_url: str

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.second_clerk = user_create(
            username="ruijin_clerk_2", password="x", role=Role.COUNTY_CLERK, area_code=RUIJIN,
            check_password=False,
        )  # fmt: skip

    def changes(self) -> dict:
        raise NotImplementedError

    def run_interleavings(self) -> None:
        self.rng = random.Random(SEED)
        users = [self.cast["ruijin_clerk"], self.cast["ruijin_supervisor"], self.second_clerk]
        covered, landed, refused = set(), 0, 0
        for n in range(INTERLEAVINGS):
            count = self.rng.choice([2, 2, 2, 3])
            editors = [
                Editor(self, self.rng.choice(users), self.rng.choice(["form", "api"])) for _ in range(count)
            ]
            steps = schedule(self.rng, count)
            covered |= patterns(steps)
            last_landed = None
            with self.subTest(interleaving=n, seed=SEED, steps=steps):
                for who, op in steps:
                    if op == "R":
                        editors[who].read()
                    elif editors[who].write(changes := self.changes()):
                        landed += 1
                        last_landed = {**editors[who].opened, **changes}
                    else:
                        refused += 1
                if last_landed is not None:
                    stored = snapshot(self.record, self.tracked)
                    self.assertEqual(
                        {k: v for k, v in stored.items() if k != "version"},
                        {k: v for k, v in last_landed.items() if k != "version"},
                    )
        self.assertEqual(
            covered,
            {"both read then both write", "read after another's write", "stale write", "three editors"},
        )
        self.assertGreater(landed, INTERLEAVINGS)
        self.assertGreater(refused, INTERLEAVINGS // 2)
        self.assertEqual(events(self.record), 1 + landed)


class PersonLostUpdateTest(LostUpdateCase):
    tracked = PERSON_TRACKED
    api_tracked = PERSON_TRACKED

    def setUp(self):
        clerk = self.cast["ruijin_clerk"]
        household = household_register(actor=clerk, data=household_data(RUIJIN))
        self.record = person_register(
            actor=clerk,
            data=person_data(RUIJIN, household=household.pk, relation_to_head="head", is_employed=False),
        )
        self.edit_url = f"/registry/people/{self.record.pk}/edit/"
        self.api_url = f"/api/v1/persons/{self.record.pk}/"
        self.villages = list(
            Area.objects.filter(parent_id=self.record.township_code, level=AreaLevel.VILLAGE).values_list(
                "code", flat=True
            )
        )

    def changes(self) -> dict:
        rng = self.rng
        pool = {
            "name": lambda: rng.choice(NAMES),
            "phone": lambda: f"139{rng.randrange(10**8):08d}",
            "is_employed": lambda: rng.random() < 0.5,
            "work_injury_nursing": lambda: rng.random() < 0.5,
            "village_code": lambda: rng.choice(self.villages),
            "relation_to_head": lambda: rng.choice(Relation.values),
            "disability_level": lambda: rng.randint(1, 4),
        }
        chosen = {name: pool[name]() for name in rng.sample(sorted(pool), rng.randint(1, 4))}
        if "disability_level" in chosen:  # the certificate number ends in the category and level digits
            chosen["certificate_number"] = f"{self.record.id_number}{self.record.disability_category}" + str(
                chosen["disability_level"]
            )
        return chosen

    def test_no_save_is_lost_and_no_refused_save_leaks_in(self):
        self.run_interleavings()


class HouseholdLostUpdateTest(LostUpdateCase):
    tracked = HOUSEHOLD_TRACKED
    api_tracked = HOUSEHOLD_TRACKED

    def setUp(self):
        self.record = household_register(actor=self.cast["ruijin_clerk"], data=household_data(RUIJIN))
        self.edit_url = f"/registry/households/{self.record.pk}/edit/"
        self.api_url = f"/api/v1/households/{self.record.pk}/"
        self.villages = list(
            Area.objects.filter(parent_id=self.record.township_code, level=AreaLevel.VILLAGE).values_list(
                "code", flat=True
            )
        )

    def changes(self) -> dict:
        rng = self.rng
        pool = {
            "head_name": lambda: rng.choice(NAMES),
            "size": lambda: rng.randint(1, 30),
            "is_dibao": lambda: rng.random() < 0.5,
            "is_tekun": lambda: rng.random() < 0.5,
            "main_cause": lambda: rng.choice(PovertyCause.values),
            "village_code": lambda: rng.choice(self.villages),
            "poverty_status": lambda: rng.choice(
                [("not_out", None), ("out", rng.randint(2014, 2020)), ("returned", None), ("returned", 2017)]
            ),
        }
        chosen = {name: pool[name]() for name in rng.sample(sorted(pool), rng.randint(1, 4))}
        if "poverty_status" in chosen:  # the year out of poverty goes with the status
            chosen["poverty_status"], chosen["exit_year"] = chosen["poverty_status"]
        return chosen

    def test_no_save_is_lost_and_no_refused_save_leaks_in(self):
        self.run_interleavings()


class StepRaceTest(CastTestCase):
    """Two supervisors decide on the same application, each from the page or the API: one decision."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.second_supervisor = user_create(
            username="ruijin_supervisor_2", password="x", role=Role.COUNTY_SUPERVISOR, area_code=RUIJIN,
            check_password=False,
        )  # fmt: skip
        clerk = cls.cast["ruijin_clerk"]
        cls.people = [
            person_register(actor=clerk, data=person_data(RUIJIN, sequence=300 + n)) for n in range(8)
        ]

    def application(self, n: int) -> Enrollment:
        clerk = self.cast["ruijin_clerk"]
        data = {"benefit_type": "M09-RURAL-TRAINING", "year": 2015 + n // len(self.people)}
        person = self.people[n % len(self.people)]
        return enrollment_apply(
            actor=clerk, application=check_application(actor=clerk, data=data, person=person)
        )

    def test_two_decisions_on_one_application_one_wins(self):
        rng = random.Random(SEED)
        reviewers = [self.cast["ruijin_supervisor"], self.second_supervisor]
        outcomes = {"form": 0, "api": 0, "stale": 0, "already decided": 0, "no form offered": 0}
        for n in range(STEP_RACES):
            enrollment = self.application(n)
            deciders = [
                {"user": user, "channel": rng.choice(["form", "api"]), "approve": rng.random() < 0.5}
                for user in reviewers
            ]
            steps = schedule(rng, 2)
            steps = [
                (who, op) for k, (who, op) in enumerate(steps) if op == "R" or (who, op) not in steps[:k]
            ]
            with self.subTest(race=n, seed=SEED, steps=steps):
                winners = []
                for who, op in steps:
                    decider = deciders[who]
                    if op == "R":
                        decider["opened"] = self.open(enrollment, decider)
                    else:
                        result = self.decide(enrollment, decider)
                        outcomes[result] = outcomes.get(result, 0) + 1
                        if result in ("form", "api"):
                            winners.append(decider)
                self.assertEqual(len(winners), 1, outcomes)
                winner = winners[0]
                enrollment.refresh_from_db()
                expected = EnrollmentStatus.APPROVED if winner["approve"] else EnrollmentStatus.REJECTED
                self.assertEqual(
                    (
                        enrollment.status,
                        enrollment.reviewed_by_id,
                        enrollment.review_note,
                        enrollment.version,
                    ),
                    (expected, winner["user"].pk, winner["note"], 2),
                )
                history = Enrollment.pgh_event_model.objects.filter(pgh_obj_id=enrollment.pk)
                self.assertEqual(history.count(), 2)
        self.assertGreater(outcomes["stale"], 0, outcomes)
        self.assertGreater(outcomes["form"] * outcomes["api"], 0, outcomes)

    def open(self, enrollment: Enrollment, decider: dict) -> dict | None:
        client = decider.setdefault("client", Client(enforce_csrf_checks=True))
        if decider["channel"] == "form":
            client.force_login(decider["user"])
            page = client.get(f"/enrollments/{enrollment.pk}/").content.decode()
            review = [f for f in FormFields(page).forms if f.get("step") == "review"]
            return review[0] if review else None
        token = Token.objects.get_or_create(user=decider["user"])[0].key
        client.defaults["HTTP_AUTHORIZATION"] = f"Token {token}"
        return {"version": str(client.get(f"/api/v1/enrollments/{enrollment.pk}/").json()["version"])}

    def decide(self, enrollment: Enrollment, decider: dict) -> str:
        opened, client = decider["opened"], decider["client"]
        decider["note"] = "" if decider["approve"] else "不符合条件"
        before = Enrollment.objects.values("status", "version", "reviewed_by").get(pk=enrollment.pk)
        history = Enrollment.pgh_event_model.objects.filter(pgh_obj_id=enrollment.pk).count()
        if opened is None:  # the page no longer offers the decision: nothing to send
            return "no form offered"
        stale = int(opened["version"]) != before["version"]
        decided = before["status"] != EnrollmentStatus.APPLIED
        if decider["channel"] == "form":
            data = {**opened, "decision": "approve" if decider["approve"] else "reject"}
            data.update(review_note=decider["note"], csrfmiddlewaretoken=client.cookies["csrftoken"].value)
            response = client.post(f"/enrollments/{enrollment.pk}/step/", data, follow=True)
            self.assertEqual(response.status_code, 200)
            shown = [str(m) for m in response.context["messages"]]
            if not stale:
                self.assertEqual(shown, [chinese("Saved.")])
                return "form"
            self.assertEqual(shown, [chinese(STALE_STEP)])
            result = "stale"
        else:
            action = "approve" if decider["approve"] else "reject"
            response = client.post(
                f"/api/v1/enrollments/{enrollment.pk}/{action}/",
                {"version": int(opened["version"]), "note": decider["note"]},
                content_type="application/json",
            )
            if not stale and not decided:
                self.assertEqual(response.status_code, 200, response.content)
                return "api"
            if stale:
                self.assertEqual(response.status_code, 409, response.content)
                self.assertEqual(response.json()["detail"], chinese(STALE_STEP))
                result = "stale"
            else:
                self.assertEqual(response.status_code, 400, response.content)
                with translation.override("zh-hans"):
                    label = Enrollment.objects.get(pk=enrollment.pk).get_status_display()
                self.assertEqual(response.json()["__all__"], [chinese(STEP_DONE) % {"status": label}])
                result = "already decided"
        self.assertEqual(
            Enrollment.objects.values("status", "version", "reviewed_by").get(pk=enrollment.pk), before
        )
        self.assertEqual(Enrollment.pgh_event_model.objects.filter(pgh_obj_id=enrollment.pk).count(), history)
        return result


# --- the same race on two connections at once --------------------------------------------------------------

RACES = 25


def wait_until(predicate, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.01)
    raise AssertionError(f"no {what} after {timeout} s")


def waiting_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def race(saves) -> list[object]:
    """Run each save on its own thread and connection, released together; what each returned or raised."""
    barrier = threading.Barrier(len(saves))
    results: list[object] = [None] * len(saves)

    def run(i, save):
        try:
            barrier.wait()
            results[i] = save()
        except Exception as error:  # the refused save: kept for the assertions
            results[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, save)) for i, save in enumerate(saves)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.fixture
def people(area_tree):
    clerk = user_create(
        username="race_clerk", password="x", role=Role.COUNTY_CLERK, area_code=RUIJIN, check_password=False
    )
    supervisor = user_create(
        username="race_supervisor", password="x", role=Role.COUNTY_SUPERVISOR, area_code=RUIJIN,
        check_password=False,
    )  # fmt: skip
    household = household_register(actor=clerk, data=household_data(RUIJIN))
    person = person_register(
        actor=clerk, data=person_data(RUIJIN, household=household.pk, relation_to_head="head")
    )
    return clerk, supervisor, person, household


def person_values(person: Person, **changes) -> dict:
    fields = ("name", "id_number", "certificate_number", "disability_category", "disability_level",
              "county_code", "township_code", "village_code", "relation_to_head", "phone")  # fmt: skip
    return {**{f: getattr(person, f) for f in fields}, "household": person.household_id, **changes}


def household_values(household: Household, **changes) -> dict:
    return {**{f: getattr(household, f) for f in HOUSEHOLD_TRACKED}, "county_code": RUIJIN, **changes}


def test_two_connections_saving_one_person_at_once_one_wins(people):
    clerk, supervisor, person, _household = people
    for n in range(RACES):
        opened = Person.objects.get(pk=person.pk)
        history = events(opened)
        phones = [f"1390000{n:02d}01", f"1380000{n:02d}02"]
        results = race([
            lambda actor=actor, phone=phone, opened=opened: person_update(
                actor=actor, person=opened, data=person_values(opened, phone=phone),
                expected_version=opened.version,
            )
            for actor, phone in zip((clerk, supervisor), phones, strict=True)
        ])  # fmt: skip
        won = [i for i, r in enumerate(results) if isinstance(r, Person)]
        assert len(won) == 1, results
        assert isinstance(results[1 - won[0]], StaleRecord), results
        stored = Person.objects.get(pk=person.pk)
        assert (stored.phone, stored.version) == (phones[won[0]], opened.version + 1)
        assert events(stored) == history + 1


def test_two_connections_saving_one_household_at_once_one_wins(people):
    clerk, supervisor, _person, household = people
    for n in range(RACES):
        opened = Household.objects.get(pk=household.pk)
        history = events(opened)
        sizes = [2 + n % 10, 15 + n % 10]
        results = race([
            lambda actor=actor, size=size, opened=opened: household_update(
                actor=actor, household=opened, data=household_values(opened, size=size),
                expected_version=opened.version,
            )
            for actor, size in zip((clerk, supervisor), sizes, strict=True)
        ])  # fmt: skip
        won = [i for i, r in enumerate(results) if isinstance(r, Household)]
        assert len(won) == 1, results
        assert isinstance(results[1 - won[0]], StaleRecord), results
        stored = Household.objects.get(pk=household.pk)
        assert (stored.size, stored.version) == (sizes[won[0]], opened.version + 1)
        assert events(stored) == history + 1


def test_a_save_waiting_on_the_other_transaction_is_refused_when_it_commits(people):
    """The second UPDATE waits on the row the first holds; when the first commits it finds a newer
    version and writes nothing (PostgreSQL re-checks the WHERE clause on the row as committed)."""
    from django.db import transaction

    clerk, supervisor, person, _household = people
    opened = Person.objects.get(pk=person.pk)
    first_written, release = threading.Event(), threading.Event()
    results: dict[str, object] = {}

    def first():
        try:
            with transaction.atomic():
                results["first"] = person_update(
                    actor=clerk, person=opened, data=person_values(opened, name="刘先改"),
                    expected_version=opened.version,
                )  # fmt: skip
                first_written.set()
                release.wait(30)
        finally:
            connection.close()

    def second():
        first_written.wait(30)
        try:
            person_update(
                actor=supervisor, person=opened, expected_version=opened.version,
                data=person_values(opened, name="刘后改", phone="13800000009"),
            )  # fmt: skip
        except StaleRecord as stale:
            results["second"] = stale
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    try:
        # Watched from here: inside a transaction, pg_stat_activity keeps showing what it first showed.
        first_written.wait(30)
        wait_until(waiting_on_a_lock, "second save waiting on the row")
    finally:
        release.set()
        for thread in threads:
            thread.join()
    assert isinstance(results["second"], StaleRecord)
    assert results["second"].changes["name"] == (opened.name, "刘先改")
    stored = Person.objects.get(pk=person.pk)
    assert (stored.name, stored.phone, stored.version) == ("刘先改", opened.phone, opened.version + 1)
    assert events(stored) == 2  # registered, then the one save


def test_two_connections_deciding_one_application_at_once_one_wins(people):
    clerk, supervisor, person, _household = people
    second = user_create(
        username="race_supervisor_2", password="x", role=Role.COUNTY_SUPERVISOR, area_code=RUIJIN,
        check_password=False,
    )  # fmt: skip
    for n in range(RACES):
        data = {"benefit_type": "M09-RURAL-TRAINING", "year": 2015 + n % 16}
        if n >= 16:
            data["benefit_type"] = "M03-NURSING"
        application = enrollment_apply(
            actor=clerk, application=check_application(actor=clerk, data=data, person=person)
        )
        decisions = [(supervisor, True, ""), (second, False, "材料不全")]
        results = race([
            lambda actor=actor, approve=approve, note=note, pk=application.pk: enrollment_review(
                actor=actor, enrollment=Enrollment.objects.get(pk=pk), approve=approve, note=note,
                expected_version=1,
            )
            for actor, approve, note in decisions
        ])  # fmt: skip
        won = [i for i, r in enumerate(results) if isinstance(r, Enrollment)]
        assert len(won) == 1, results
        assert isinstance(results[1 - won[0]], StaleRecord), results
        stored = Enrollment.objects.get(pk=application.pk)
        actor, approve, note = decisions[won[0]]
        status = EnrollmentStatus.APPROVED if approve else EnrollmentStatus.REJECTED
        assert (stored.status, stored.reviewed_by_id, stored.review_note, stored.version) == (
            status, actor.pk, note, 2,
        )  # fmt: skip
        assert Enrollment.pgh_event_model.objects.filter(pgh_obj_id=stored.pk).count() == 2
