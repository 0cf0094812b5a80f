"""The simulated users of `make load` (load/run.py writes the plan this reads from LOAD_PLAN).

`Clerk`: a county clerk who logs in once, then browses the registry list and its next pages, searches by
the beginning of a name or of an ID number and opens a person found, opens people, edits one of their own
(form, then save with the version the form carried) and looks at the county's dashboard, a few seconds
apart. `Importer`: one clerk of another county who uploads a roster on the upload page, waits for the
check as the page does (polling its progress), commits it and waits for the commit, once.

Requests come as through the TLS proxy of production: `X-Forwarded-Proto: https` and an `Origin`, and the
session and CSRF cookies (Secure, since DEBUG is off) are sent back over the plain connection.

Every request is recorded (kind, milliseconds, failed, time answered, error) and written with the
import's outcome to the plan's results file when locust quits. The window that counts opens when the last
clerk's login has been answered; the import starts the plan's delay after that, and locust quits once the
window has lasted the plan's seconds and the import is over.
"""

from __future__ import annotations

import json
import os
import random
import re
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import gevent
from locust import HttpUser, between, constant, events, task
from locust.exception import StopUser

PLAN: dict[str, Any] = json.loads(Path(os.environ["LOAD_PLAN"]).read_text())
RECORDED: list[list[Any]] = []
# measuring: when the last clerk's login was answered; the figures that count start there.
STATE: dict[str, Any] = {"started": None, "measuring": None, "logins": 0, "import": None}
NEXT_PAGE = re.compile(r'href="\?[^"]*?\bafter=(\d+)"')
PERSON_LINK = re.compile(r'href="/registry/people/(\d+)/"')
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
IMPORT_PAGE = re.compile(r"/imports/(\d+)/$")


@events.request.add_listener
def record(request_type, name, response_time, response_length, exception=None, **kwargs) -> None:
    RECORDED.append([name, response_time, exception is not None, time.time(), str(exception or "")[:300]])


@events.test_start.add_listener
def start_watch(environment, **kwargs) -> None:
    STATE["started"] = time.time()
    gevent.spawn(_stop_when_done, environment)


def _stop_when_done(environment) -> None:
    """Quit once the plan's seconds have passed with every clerk logged in and the import is over."""
    while True:
        gevent.sleep(0.5)
        if STATE["measuring"] is None:
            continue
        elapsed = time.time() - STATE["measuring"]
        if elapsed >= PLAN["seconds"] and (PLAN["import"] is None or STATE["import"] is not None):
            environment.runner.quit()
            return


@events.quitting.add_listener
def write_results(environment, **kwargs) -> None:
    results = {
        "started": STATE["started"] or time.time(),
        "measuring": STATE["measuring"],
        "stopped": time.time(),
        "requests": RECORDED,
        "import": STATE["import"] if PLAN["import"] else None,
    }
    if PLAN["import"] and results["import"] is None:
        results["import"] = {"rows": PLAN["import"]["rows"], "ok": False, "error": "not finished"}
    Path(PLAN["results"]).write_text(json.dumps(results))


class FormFields(HTMLParser):
    """The fields a browser would submit from the form with the given id."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id, self.inside, self.fields = form_id, False, {}
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside or (tag not in ("input", "select", "option", "textarea")):
            return
        name = a.get("name")
        if tag == "input" and name and "disabled" not in a:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields[name] = a.get("value", "on")
            elif kind not in ("submit", "button", "file"):
                self.fields[name] = a.get("value", "")
        elif tag == "select" and name:
            self.select = name
        elif tag == "option" and self.select:
            # The first option unless one is selected, as a browser does.
            if self.select not in self.fields or "selected" in a:
                self.fields[self.select] = a.get("value", "")
        elif tag == "textarea" and name:
            self.textarea = name
            self.fields[name] = ""

    def handle_data(self, data: str) -> None:
        if self.textarea:
            self.fields[self.textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None


def form_fields(html: str, form_id: str) -> dict[str, str]:
    parser = FormFields(form_id)
    parser.feed(html)
    return parser.fields


def csrf_token(html: str) -> str:
    found = CSRF_INPUT.search(html)
    return found.group(1) if found else ""


class ProxiedUser(HttpUser):
    abstract = True
    username = ""

    def on_start(self) -> None:
        self.client.headers.update({"X-Forwarded-Proto": "https", "Origin": f"https://{self.host_name}"})
        send = self.client.request

        def request(*args, **kwargs):
            # Behind the proxy the browser speaks HTTPS and sends its Secure cookies back; this connection
            # is plain, so the cookies the application marks Secure are kept as plain ones.
            response = send(*args, **kwargs)
            for cookie in self.client.cookies:
                cookie.secure = False
            return response

        self.client.request = request
        self.log_in()

    @property
    def host_name(self) -> str:
        return self.host.split("://", 1)[1].rstrip("/")

    def log_in(self) -> bool:
        page = self.client.get("/accounts/login/", name="login form")
        with self.client.post(
            "/accounts/login/",
            data={
                "username": self.username,
                "password": PLAN["password"],
                "csrfmiddlewaretoken": csrf_token(page.text),
            },
            name="login",
            allow_redirects=False,
            catch_response=True,
        ) as answer:
            if answer.status_code != 302:
                answer.failure(f"login answered {answer.status_code}, not a redirect")
                return False
        self.client.get("/", name="home")
        return True


class Clerk(ProxiedUser):
    wait_time = between(*PLAN["think"])
    clerks = iter(PLAN["clerks"])

    def on_start(self) -> None:
        mine = next(Clerk.clerks)
        self.username, self.county = mine["username"], mine["county"]
        self.own = list(mine["edit"])
        self.sample = PLAN["counties"][self.county]
        try:
            super().on_start()
        finally:
            STATE["logins"] += 1
            if STATE["logins"] == len(PLAN["clerks"]):
                STATE["measuring"] = time.time()
                Path(PLAN["window"]).touch()  # load/run.py starts counting the servers' CPU

    def log_in(self) -> bool:
        if not super().log_in():
            raise StopUser  # the failed login is counted; a clerk without a session has nothing to do
        return True

    @task(4)
    def browse(self) -> None:
        page = self.client.get("/registry/people/", name="registry list")
        for _ in range(random.randint(0, 3)):
            found = NEXT_PAGE.search(page.text)
            if not found:
                break
            page = self.client.get(f"/registry/people/?after={found.group(1)}", name="registry next page")

    @task(2)
    def search_name(self) -> None:
        self._search(random.choice(self.sample["names"]), "search name")

    @task(2)
    def search_id(self) -> None:
        self._search(random.choice(self.sample["ids"]), "search ID")

    def _search(self, text: str, name: str) -> None:
        page = self.client.get("/registry/people/", params={"q": text}, name=name)
        people = PERSON_LINK.findall(page.text)
        if people:
            self.client.get(f"/registry/people/{random.choice(people)}/", name="person")

    @task(4)
    def person(self) -> None:
        self.client.get(f"/registry/people/{random.choice(self.sample['people'])}/", name="person")

    @task(2)
    def edit(self) -> None:
        pk = random.choice(self.own)
        form = self.client.get(f"/registry/people/{pk}/edit/", name="edit form")
        fields = form_fields(form.text, "person-form")
        if "version" not in fields:
            return  # the form did not come: already counted as a failure
        fields["phone"] = f"139{random.randrange(10**8):08d}"
        with self.client.post(
            f"/registry/people/{pk}/edit/",
            data=fields,
            name="edit save",
            allow_redirects=False,
            catch_response=True,
        ) as answer:
            if answer.status_code != 302 or not answer.headers.get("Location", "").endswith(f"/people/{pk}/"):
                errors = re.findall(r'class="[^"]*error[^"]*"[^>]*>(.*?)<', answer.text, re.S)
                answer.failure(f"save answered {answer.status_code}: {' '.join(errors)[:200]}")

    @task(1)
    def dashboard(self) -> None:
        self.client.get(f"/progress/{self.county}/", name="dashboard")


class Importer(ProxiedUser):
    """Uploads the roster once, as its county's clerk does on the upload page, then idles."""

    abstract = not PLAN["import"]
    fixed_count = 1
    wait_time = constant(1)

    def on_start(self) -> None:
        plan = PLAN["import"]
        self.username = plan["username"]
        while STATE["measuring"] is None:
            gevent.sleep(0.5)
        gevent.sleep(plan["delay"])
        super().on_start()

    @task
    def run_import(self) -> None:
        if STATE["import"] is not None:
            return
        plan = PLAN["import"]
        outcome: dict[str, Any] = {"rows": plan["rows"], "ok": False}
        try:
            self._import(plan, outcome)
        except Exception as error:  # noqa: BLE001 - any failure ends the import and is reported
            outcome["error"] = f"{type(error).__name__}: {error}"
        STATE["import"] = outcome

    def _import(self, plan: dict[str, Any], outcome: dict[str, Any]) -> None:
        page = self.client.get("/imports/", name="imports")
        started = outcome["started"] = time.time()
        with self.client.post(
            "/imports/",
            data={"kind": "roster", "csrfmiddlewaretoken": csrf_token(page.text)},
            files={"file": (Path(plan["roster"]).name, Path(plan["roster"]).read_bytes())},
            name="import upload",
            allow_redirects=False,
            catch_response=True,
        ) as answer:
            found = IMPORT_PAGE.search(answer.headers.get("Location", ""))
            if answer.status_code != 302 or not found:
                answer.failure(f"upload answered {answer.status_code}")
                raise RuntimeError("the upload was refused")
        pk = int(found.group(1))
        self._wait(pk, started + plan["timeout"])
        job = self.client.get(f"/api/v1/imports/{pk}/", name="import status").json()
        outcome["check_seconds"] = round(time.time() - started, 2)
        if job["status"] != "review" or job["counts"].get("new") != plan["rows"]:
            raise RuntimeError(f"after the check: {job['status']} {job['counts']} {job['message']}")
        page = self.client.get(f"/imports/{pk}/", name="import page")
        committing = time.time()
        with self.client.post(
            f"/imports/{pk}/commit/",
            data={"all_or_nothing": "on", "csrfmiddlewaretoken": csrf_token(page.text)},
            name="import commit",
            allow_redirects=False,
            catch_response=True,
        ) as answer:
            if answer.status_code != 302:
                answer.failure(f"commit answered {answer.status_code}")
                raise RuntimeError("the commit was refused")
        self._wait(pk, started + plan["timeout"])
        job = self.client.get(f"/api/v1/imports/{pk}/", name="import status").json()
        outcome.update(
            ended=time.time(),
            commit_seconds=round(time.time() - committing, 2),
            seconds=round(time.time() - started, 2),
            counts=job["counts"],
        )
        if job["status"] != "committed":
            raise RuntimeError(f"after the commit: {job['status']} {job['message']}")
        outcome["ok"] = True

    def _wait(self, pk: int, deadline: float) -> None:
        """Poll the progress fragment every second, as the page does, until it asks for a reload."""
        while time.time() < deadline:
            answer = self.client.get(f"/imports/{pk}/progress/", name="import progress")
            if answer.headers.get("HX-Refresh") == "true":
                self.client.get(f"/imports/{pk}/", name="import page")
                return
            gevent.sleep(1)
        raise RuntimeError("the import did not finish in time")
