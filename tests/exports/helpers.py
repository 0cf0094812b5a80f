"""What the export tests share: people with values a spreadsheet would take for formulas, a broker that
does not answer, and reading a written file back."""

import contextlib
from io import BytesIO, StringIO

from django.core.management import call_command
from openpyxl import load_workbook

from beneficiaries.services import household_register, person_register
from poverty_relief.celery import app
from tests.beneficiaries.factories import household_data, person_data

FORMULA_NAME = '=HYPERLINK("http://x.example/","点击")'
FORMULA_HEAD = "-2+3"
FORMULA_PHONE = "@SUM(1+1)"


def generate(county: str, people: int, seed: int = 11) -> None:
    """People written with COPY, as `make run` makes its demo registry."""
    call_command(
        "generate_registry", f"--people={people}", f"--counties={county}", f"--seed={seed}", "--append",
        stdout=StringIO(),
    )  # fmt: skip


def formula_person(clerk, county: str):
    """A household head whose name, household head's name and phone would start formulas."""
    household = household_register(actor=clerk, data=household_data(county, head_name=FORMULA_HEAD, size=3))
    return person_register(
        actor=clerk,
        data=person_data(county, sequence=901, name=FORMULA_NAME, phone="13907970009")
        | {"household": household.pk, "relation_to_head": "head"},
    )


@contextlib.contextmanager
def broker_down():
    """The Celery app pointed at a port nothing listens on: publishing fails as with Redis stopped."""
    url = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    _forget_connections()
    try:
        yield
    finally:
        app.conf.broker_url = url
        _forget_connections()


def _forget_connections() -> None:
    app._pool = None
    app.amqp._producer_pool = None


def sheet_of(content: bytes):
    return load_workbook(BytesIO(content)).worksheets[0]


def content_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content
