"""No whole ID number leaves the application in a log line or a history page it may not show.

The log lines are the real ones: the JSON handlers configured by settings.LOGGING, whose output is captured
while a registry and import scenario runs (registrations through pages and the API, refusals, a duplicate,
an import whose commit fails on an ID registered meanwhile, a failed login typed with an ID number).
The masking itself is unit-tested in tests/test_logging.py.
"""

import io
import logging
import re
import tempfile
from datetime import date

import pytest
from django.test import override_settings

from beneficiaries.services import person_register, person_update
from beneficiaries.validation import make_id_number
from imports import pipeline
from imports.models import ImportStatus
from imports.services import import_commit, import_create
from poverty_relief.logging import JsonFormatter
from tests.beneficiaries.factories import person_data
from tests.cast import RUIJIN, CastTestCase
from tests.imports.rosters import person_row, upload, workbook

WHOLE_ID = re.compile(r"\d{17}[\dX]")


class CapturedLog:
    """Points the configured JSON handlers at a buffer for the duration."""

    def __enter__(self):
        self.buffer = io.StringIO()
        self.handlers = [
            h
            for h in logging.getLogger().handlers
            if isinstance(getattr(h, "formatter", None), JsonFormatter)
        ]
        assert self.handlers, "settings.LOGGING's JSON handler is not on the root logger"
        self.streams = [h.setStream(self.buffer) for h in self.handlers]
        return self

    def __exit__(self, *exc):
        for handler, stream in zip(self.handlers, self.streams, strict=True):
            handler.setStream(stream)

    @property
    def text(self) -> str:
        return self.buffer.getvalue()


@override_settings(MEDIA_ROOT=tempfile.mkdtemp(prefix="pii-media-"))
class NoWholeIdNumberInTheLogsTest(CastTestCase):
    def test_a_registry_and_import_scenario_logs_no_whole_id_number(self):
        clerk = self.cast["ruijin_clerk"]
        patcher = pytest.MonkeyPatch()
        patcher.setattr("imports.tasks.read_import.delay", lambda job_id: None)
        patcher.setattr("imports.tasks.commit_import.delay", lambda job_id, actor: None)
        self.addCleanup(patcher.undo)
        numbers = []
        with CapturedLog() as log:
            self.client.force_login(clerk)
            data = person_data(RUIJIN, sequence=11)
            numbers.append(data["id_number"])
            self.client.post("/registry/people/new/", {k: v or "" for k, v in data.items()})
            self.client.post("/registry/people/new/", {k: v or "" for k, v in data.items()})  # duplicate
            api = person_data(RUIJIN, sequence=13)
            numbers.append(api["id_number"])
            self.client.post("/api/v1/persons/", api, content_type="application/json")
            self.client.post("/api/v1/persons/", api, content_type="application/json")  # duplicate: 409
            self.client.get(f"/registry/people/?q={api['id_number']}")
            self.client.get(f"/api/v1/persons/?q={api['id_number']}")
            self.client.get(f"/registry/check/?id_number={api['id_number']}")
            self.client.get(f"/registry/people/{api['id_number']}/")  # 404 with the number in the path

            # An upload whose commit fails: someone registers one of its people after the check.
            rows = [person_row(n) for n in range(3)]
            numbers += [row["身份证号"] for row in rows]
            job = import_create(actor=clerk, kind="roster", upload=upload(workbook(rows)))
            pipeline.read(job.pk)
            person_register(
                actor=clerk,
                data=person_data(RUIJIN, id_number=rows[1]["身份证号"], certificate_number=None),
            )
            job.refresh_from_db()
            import_commit(actor=clerk, job=job, all_or_nothing=False)
            pipeline.commit(job.pk, clerk.pk)
            job.refresh_from_db()
            self.assertEqual(job.status, ImportStatus.REFUSED)

            # A failed login where the username typed was an ID number.
            self.client.logout()
            typed = make_id_number(RUIJIN, date(1980, 1, 1), 15)
            numbers.append(typed)
            self.client.post("/accounts/login/", {"username": typed, "password": "wrong-password"})

            # An error inside a service, logged with its traceback.
            person = person_register(actor=clerk, data=person_data(RUIJIN, sequence=17))
            numbers.append(person.id_number)
            try:
                person_update(actor=clerk, person=person, data={"id_number": "x"}, expected_version=99)
            except Exception:
                logging.getLogger("registry").exception("update of %s failed", person.id_number)

        text = log.text
        # The scenario did log what the scan is about: the failed commit, the login, the traceback.
        self.assertIn("could not be saved", text)
        self.assertIn("Traceback", text)
        self.assertIn("AXES", text)
        self.assertEqual(WHOLE_ID.findall(text), [])
        for number in numbers:
            self.assertNotIn(number, text)
        self.assertIn(f"{numbers[-1][:6]}********{numbers[-1][-4:]}", text)


class HistoryShowsNoWholeBirthDateAboveTheCountyTest(CastTestCase):
    """The masked digits of an ID number are the birth date: a history row that shows the birth date whole
    beside the masked number gives the number back."""

    def test_an_id_correction_in_the_history(self):
        clerk = self.cast["ruijin_clerk"]
        person = person_register(actor=clerk, data=person_data(RUIJIN, sequence=21, certificate_number=None))
        corrected = make_id_number(RUIJIN, date(1976, 4, 15), 21)
        person_update(
            actor=clerk,
            person=person,
            data=person_data(RUIJIN, id_number=corrected, certificate_number=None),
            expected_version=person.version,
        )
        for role, whole in (("ganzhou_reviewer", False), ("province_officer", False), ("ruijin_clerk", True)):
            self.login(role)
            for url in (f"/registry/people/{person.pk}/history/", f"/registry/people/{person.pk}/"):
                page = self.client.get(url).content.decode()
                with self.subTest(role=role, url=url):
                    self.assertIn("1976", page)
                    self.assertEqual("1976-04-15" in page, whole)
                    self.assertEqual("1975-03-14" in page, whole)  # the date before, in the history rows
                    self.assertEqual(WHOLE_ID.findall(page) != [], whole and "history" not in url)
