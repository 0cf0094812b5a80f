"""The read's fast paths give what the plain code gives: the cells of each row by column key, and staged
rows written in COPY's text format that read back as they were."""

import threading
from datetime import date
from decimal import Decimal

import psycopg2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from imports import pipeline
from imports.columns import HeaderMapping
from imports.kinds import StagedRow
from imports.models import ImportJob, ImportRow
from tests.cast import CastTestCase

CELLS = st.sampled_from(["", None, 0, 0.0, 1.5, "x", " ", False, True, "0"])


@st.composite
def mappings(draw):
    keys = draw(st.lists(st.sampled_from(["row_number", "name", "id_number", "phone", "note"]), unique=True,
                         min_size=1))  # fmt: skip
    indexes = draw(st.lists(st.integers(0, 8), unique=True, min_size=len(keys), max_size=len(keys)))
    columns = dict(zip(keys, indexes, strict=True))
    return HeaderMapping(row=1, columns=columns, headers=dict.fromkeys(columns, "h"), unknown=())


@given(mappings(), st.lists(st.lists(CELLS, max_size=11), max_size=8))
def test_data_rows_are_what_pick_gives_without_the_empty_ones(mapping, rows):
    numbered = list(enumerate(rows, start=2))
    expected = []
    for number, cells in numbered:
        values = mapping.pick(cells)
        if any(v not in (None, "") for k, v in values.items() if k != "row_number"):
            expected.append((number, values))
    got = list(pipeline._data_rows(numbered, mapping))
    assert got == expected
    assert [list(values) for _, values in got] == [list(values) for _, values in expected]  # key order


TRICKY = [
    "back\\slash", "tab\there", "line\nbreak", "carriage\rreturn", '"quoted"', "\\N", "\\.", "中文，全角",
    "\x01\x1f control", "\u2028 separator", "emoji 😀", "",
]  # fmt: skip


class StagedLinesTest(CastTestCase):
    def test_staged_rows_read_back_as_they_were_written(self):
        clerk = self.cast["ruijin_clerk"]
        job = ImportJob.objects.create(kind="roster", county_code="360781", uploaded_by=clerk, mapping={})
        rows = [
            StagedRow(
                n + 2,
                ["new", "rejected", "update"][n % 3],
                values={"name": text, "n": n, "none": None, "flag": n % 2 == 0, "list": [text, 1.5]},
                errors={"name": text} if n % 3 == 1 else {},
                changes={"phone": [text, "13800000000"]} if n % 3 == 2 else {},
                target_id=n if n % 3 == 2 else None,
                note=text[:200],
            )
            for n, text in enumerate(TRICKY)
        ]
        dated = StagedRow(99, "new", values={"on": date(2018, 3, 1), "amount": Decimal("1.50")})
        counts, errors = pipeline._stage(job, iter([*rows, dated]), header=[])
        self.assertEqual(counts, {"new": 5, "rejected": 4, "update": 4})
        self.assertEqual(
            ImportRow.objects.get(job=job, row_number=99).values, {"on": "2018-03-01", "amount": "1.50"}
        )
        self.assertEqual(errors, {"name": {text: [n + 2] for n, text in enumerate(TRICKY) if n % 3 == 1}})
        stored = {r.row_number: r for r in ImportRow.objects.filter(job=job)}
        for row in rows:
            got = stored[row.row_number]
            with self.subTest(row=row.row_number):
                self.assertEqual(
                    (got.outcome, got.values, got.errors, got.changes, got.target_id, got.note),
                    (row.outcome, row.values, row.errors, row.changes, row.target_id, row.note),
                )


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_batches_are_written_by_their_own_thread_in_order(monkeypatch):
    from accounts.models import User

    clerk = User.objects.create(username="stager")
    job = ImportJob.objects.create(kind="roster", county_code="360781", uploaded_by=clerk, mapping={})
    writers = []
    write = pipeline._write
    monkeypatch.setattr(pipeline, "STAGE_BATCH", 3)
    monkeypatch.setattr(
        pipeline, "_write", lambda *args: writers.append(threading.current_thread()) or write(*args)
    )
    rows = [StagedRow(n, "new", values={"n": n}) for n in range(2, 12)]
    assert pipeline._stage(job, iter(rows), header=[]) == ({"new": 10}, {})
    assert len(writers) == 4 and all(w is not threading.main_thread() for w in writers)
    assert list(
        ImportRow.objects.filter(job=job).order_by("id").values_list("row_number", flat=True)
    ) == list(range(2, 12))
    assert ImportJob.objects.get(pk=job.pk).rows_done == 9  # after the last whole batch

    again = [StagedRow(2, "new")]  # row 2 is staged already: the writer's error reaches the reader
    with pytest.raises(psycopg2.IntegrityError):
        pipeline._stage(job, iter(again), header=[])
