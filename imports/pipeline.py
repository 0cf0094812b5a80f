"""The two jobs of an upload, run by Celery workers: read (check the file, find the header, check every
row, stage the result) and commit (write the staged rows in one transaction). Both take a job id, may
run again after a worker dies, and end in the same state as one clean run."""

import gc
import json
import logging
import queue
import threading
from collections import Counter, defaultdict
from collections.abc import Iterator
from operator import itemgetter
from pathlib import Path
from typing import Any

import psycopg2
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DataError, IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from poverty_relief.db import copy_lines, copy_text

from .columns import Column, HeaderMapping, split_header
from .kinds import get_kind
from .models import ImportJob, ImportRow, ImportStatus
from .reading import ReadingError, check_header_merges, inspect_workbook, iter_rows

log = logging.getLogger(__name__)

STAGE_BATCH = 2000  # rows per COPY, and how often the progress moves
MAX_ERRORS_PER_MESSAGE = 200  # row numbers kept per message in the summary; the rows keep them all


def _claim(job_id: int, *, from_statuses: list[str], to: str) -> ImportJob | None:
    """Move the job on only if it is where this step expects it (a second delivery finds it moved)."""
    claimed = ImportJob.objects.filter(pk=job_id, status__in=from_statuses).update(status=to)
    return ImportJob.objects.get(pk=job_id) if claimed else None


def read(job_id: int) -> None:
    job = _claim(job_id, from_statuses=[ImportStatus.RECEIVED, ImportStatus.READING], to=ImportStatus.READING)
    if job is None:
        return
    # Each row makes a few dozen objects, and each collection of the cycle collector would go through
    # every object of the application as well: those alive now are left out until the read is done.
    gc.freeze()
    try:
        _read(job)
    finally:
        gc.unfreeze()


def _read(job: ImportJob) -> None:
    ImportRow.objects.filter(job=job).delete()  # a run cut short left rows behind
    path = Path(job.file.path)
    kind = get_kind(job.kind)
    columns = [Column(c.key, c.label, c.synonyms, c.required) for c in kind.columns]
    try:
        info = inspect_workbook(path)
        mapping, below = split_header(iter_rows(path, sheet=info.sheet_name), columns)
        check_header_merges(info, mapping.row)
    except ReadingError as refusal:
        _refuse(job, refusal.message)
        log.info("import %s refused: %s", job.pk, refusal.code)
        return
    except Exception:
        # A file the checks let through but the reader cannot take: say so, keep the worker alive.
        log.exception("import %s could not be read", job.pk)
        _refuse(
            job,
            _("The file could not be read. Open it in Excel, save it again as .xlsx, and upload it again."),
        )
        return
    header = [""] * (max(mapping.columns.values()) + 1)
    for key, index in mapping.columns.items():
        header[index] = mapping.headers[key]
    ImportJob.objects.filter(pk=job.pk).update(
        started_at=timezone.now(),
        rows_total=max(info.rows - mapping.row, 0),
        sheet_name=info.sheet_name,
        header_row=mapping.row,
        header=header,
        mapping=mapping.columns,
        message="; ".join(w.message for w in info.warnings),
    )
    job.refresh_from_db()
    try:
        counts, column_errors = _stage(job, kind.check_rows(job=job, rows=_data_rows(below, mapping)), header)
    except Exception:
        # A cell the checks did not foresee must not leave the job "reading" for ever.
        log.exception("import %s could not be checked", job.pk)
        ImportRow.objects.filter(job=job).delete()
        _refuse(
            job,
            _("The file could not be read. Open it in Excel, save it again as .xlsx, and upload it again."),
        )
        return
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.REVIEW,
        counts=counts,
        column_errors=column_errors,
        rows_done=sum(counts.values()),
        rows_total=sum(counts.values()),
        checked_at=timezone.now(),
    )


def _refuse(job: ImportJob, message: str) -> None:
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.REFUSED, message=message, checked_at=timezone.now()
    )


def _data_rows(rows, mapping: HeaderMapping) -> Iterator[tuple[int, dict[str, Any]]]:
    """Rows under the header as {field key: cell}, skipping rows with nothing in the mapped columns.

    What `mapping.pick` gives, with the cells taken by C calls (past the end of a short row, a cell is '')."""
    keys = list(mapping.columns)
    width = max(mapping.columns.values()) + 1
    pick = _getter(list(mapping.columns.values()))
    data = [position for position, key in enumerate(keys) if key != "row_number"]
    if not data:
        return
    given = _getter(data)
    padding = [""] * width
    for number, cells in rows:
        if len(cells) < width:
            cells = [*cells, *padding[len(cells) :]]
        picked = pick(cells)
        values = given(picked)
        if values.count("") + values.count(None) < len(values):
            yield number, dict(zip(keys, picked, strict=True))


def _getter(indexes: list[int]):
    """`itemgetter(*indexes)`, giving a tuple for a single index too."""
    if len(indexes) == 1:
        index = indexes[0]
        return lambda items: (items[index],)
    return itemgetter(*indexes)


STAGE_COLUMNS = ("job_id", "row_number", "outcome", "values", "errors", "changes", "target_id", "note")


def _stage(
    job: ImportJob, staged, header: list[str]
) -> tuple[dict[str, int], dict[str, dict[str, list[int]]]]:
    """Stage the checked rows in COPY batches, counting outcomes and errors per column."""
    counts: Counter = Counter()
    by_column: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    labels = {key: header[index] for key, index in job.mapping.items()}
    batch: list[str] = []
    with _Writer(job) as write:
        for row in staged:
            counts[row.outcome] += 1
            for key, message in row.errors.items():
                rows = by_column[labels.get(key, key)][message]
                if len(rows) < MAX_ERRORS_PER_MESSAGE:
                    rows.append(row.row_number)
            batch.append(_line(job.pk, row))
            if len(batch) >= STAGE_BATCH:
                write(batch, done=sum(counts.values()))
                batch = []
        write(batch)
    return dict(counts), {column: dict(messages) for column, messages in by_column.items()}


_ENCODER = DjangoJSONEncoder(ensure_ascii=False)
# What `_ENCODER.encode` makes for every value, made once (without its check for values that contain
# themselves, which staged rows never do).
_C_ENCODER = json.encoder.c_make_encoder and json.encoder.c_make_encoder(
    None, _ENCODER.default, json.encoder.encode_basestring, None, ": ", ", ", False, False, True
)


def _encode(value) -> str:
    return "".join(_C_ENCODER(value, 0)) if _C_ENCODER else _ENCODER.encode(value)


def _json(value) -> str:
    """JSON in COPY's text format: JSON escapes every control character, so only backslashes are left."""
    if value == {}:
        return "{}"
    return _encode(value).replace("\\", "\\\\")


def _line(job_id: int, row) -> str:
    """The row as a line of COPY's text format, in the order of STAGE_COLUMNS."""
    target = r"\N" if row.target_id is None else int(row.target_id)
    return (
        f"{job_id}\t{int(row.row_number)}\t{copy_text(row.outcome)}\t{_json(row.values)}\t"
        f"{_json(row.errors)}\t{_json(row.changes)}\t{target}\t{copy_text(row.note)}\n"
    )


class _Writer:
    """Writes the batches of staged rows in order, on a thread of its own with its own connection, so
    that PostgreSQL takes in one batch (on another core) while the next is checked.

    Inside a transaction (a test's), batches are written in this thread instead: another connection
    could not see the job the rows belong to."""

    def __init__(self, job: ImportJob):
        self.job = job
        self.threaded = not connection.in_atomic_block
        self.batches: queue.Queue = queue.Queue(maxsize=2)  # at most a few batches held in memory
        self.error: BaseException | None = None

    def __enter__(self):
        if self.threaded:
            self.thread = threading.Thread(target=self._run, name=f"import-{self.job.pk}-stage", daemon=True)
            self.thread.start()
        return self

    def __call__(self, batch: list[str], done: int | None = None) -> None:
        if not self.threaded:
            _write(self.job, batch, done)
            return
        if self.error is not None:
            raise self.error
        self.batches.put((batch, done))

    def _run(self) -> None:
        try:
            while (item := self.batches.get()) is not None:
                if self.error is None:
                    try:
                        _write(self.job, *item)
                    except BaseException as error:  # handed to the reading thread, which re-raises it
                        self.error = error
        finally:
            connection.close()  # this thread's own

    def __exit__(self, kind, error, traceback) -> None:
        if self.threaded:
            self.batches.put(None)
            self.thread.join()
            if self.error is not None and error is None:
                raise self.error


def _write(job: ImportJob, batch: list[str], done: int | None = None) -> None:
    """A batch of staged rows and the progress it makes, in one transaction."""
    with transaction.atomic(), connection.cursor() as cursor:
        # Staged rows can be checked again from the file, so a batch does not wait for the disk: the
        # job's last update, which does, makes every batch before it durable with it.
        cursor.execute("SET LOCAL synchronous_commit = off")
        copy_lines(cursor, ImportRow._meta.db_table, STAGE_COLUMNS, batch)
        if done is not None:
            ImportJob.objects.filter(pk=job.pk).update(rows_done=done)


class CommitRefused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def commit(job_id: int, actor_id: int) -> None:
    """Everything or nothing of it lands: one transaction, the job row locked while it runs."""
    from accounts.models import User

    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status != ImportStatus.COMMITTING:
            return  # already committed (a second delivery), discarded, or never asked for
        actor = User.objects.get(pk=actor_id)
        kind = get_kind(job.kind)
        try:
            with transaction.atomic():
                written = kind.commit(job=job, actor=actor)
        except (IntegrityError, DataError, psycopg2.IntegrityError, psycopg2.DataError):
            # The registry changed since the check (an ID registered meanwhile, a person moved): nothing
            # was written; the clerk checks the file again against the registry as it is now.
            log.exception("import %s could not be saved", job.pk)
            job.status = ImportStatus.REFUSED
            job.message = kind.refused_message()
            job.save(update_fields=["status", "message"])
            return
        job.status = ImportStatus.COMMITTED
        job.committed_by, job.committed_at = actor, timezone.now()
        job.counts = {**job.counts, **{f"written_{k}": v for k, v in written.items()}}
        job.message = kind.commit_message(written)
        job.save(update_fields=["status", "committed_by", "committed_at", "counts", "message"])
        # The county's progress figures follow once this commits (debounced, and caught up by the schedule
        # should Redis be out of reach).
        from reporting.tasks import queue_rollup

        queue_rollup(county_code=job.county_code)
