"""Hostile workbooks through the whole import path: the upload page, the queue, a real Celery worker.

Each file must be refused with a Chinese message within 10 s of the upload, the worker's peak memory must
stay under 512 MB while it reads it, and nothing may be left in the temporary directories. The worker is
this module's own (its own queue, temporary directory and media root), so its peak memory and its files
are those of these uploads alone. The figures are written to test-artifacts/security/hostile_uploads.json.

The reader's refusals one by one, in English, are in tests/imports/test_reading.py; the files that once
got past them are checked at that level in test_reading_regressions.py.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.test import override_settings

from accounts.models import Role
from accounts.services import user_create
from imports.models import ImportJob, ImportStatus
from tests.conftest import ROOT, worker_env
from tests.imports import hostile as h
from tests.imports.rosters import person_row, upload, workbook

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

MB = 1024 * 1024
TIME_LIMIT = 10.0
MEMORY_LIMIT = 512 * MB
ARTIFACTS = ROOT / "test-artifacts" / "security"

# name -> (builder, words the Chinese refusal must hold)
HOSTILE = {
    "billion-laughs": (lambda p: h.entity_sheet(p, h.BILLION_LAUGHS, reference="&lol9;"), "实体"),
    "external-entity": (lambda p: h.entity_sheet(p, h.EXTERNAL_ENTITY, reference="&xxe;"), "实体"),
    "laughs-in-shared-strings": (h.laughs_in_shared_strings, "xl/sharedStrings.xml"),
    "zip-bomb-1gb": (h.gigabyte_bomb, "1024 MB"),
    "zip-bomb-ratio": (lambda p: h.gigabyte_bomb(p, 100 * MB), "压缩炸弹"),
    "million-rows-lying-dimension": (h.many_rows, "200000 行"),
    "lying-zip-sizes": (lambda p: h.lying_size(p, real_size=2 * MB, declared=1000), "大小与其声明的不符"),
    "xlsm-renamed": (h.xlsm, "宏"),
    "xlsm-content-type": (lambda p: h.xlsm(p, vba_part=False), "宏"),
    "excel4-macro-sheet": (h.macrosheet, "宏"),
    "external-links": (h.external_links, "外部链接"),
    "pdf-renamed": (h.pdf_file, "不是 Excel 工作簿"),
    "encrypted": (h.encrypted, "密码"),
    "empty-string-at-XFD1048576": (lambda p: h.far_cell(p, h.EMPTY_STRING_AT_THE_LAST_CELL), "1048576 行"),
    "seven-letter-column": (lambda p: h.far_cell(p, h.SEVEN_LETTER_COLUMN), "列"),
    "sparse-12-million-cell-grid": (h.sparse_grid, "行"),
    "hidden-sheet-of-the-same-name": (h.hidden_twin, "xl/workbook.xml"),
    "case-folded-shadow-part": (h.shadow_entry, "XL/worksheets/sheet1.xml"),
    "backslash-shadow-part": (lambda p: h.shadow_entry(p, "xl\\worksheets\\sheet1.xml"), "已损坏"),
}
ENGLISH = re.compile(r"\b(the|is|was|file|and|of|to|part|workbook|rows?)\b", re.IGNORECASE)


def in_chinese(message: str) -> bool:
    words = re.sub(r"[\w\\/\[\]]*[./\\][\w\\/\[\].]*", " ", message)  # part names: xl/workbook.xml
    return bool(re.search(r"[\u4e00-\u9fff]{4}", message)) and not ENGLISH.search(words)


def memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (the peak since the last reset) of a process, in bytes."""
    status = Path(f"/proc/{pid}/status").read_text()
    return {key: int(re.search(rf"{key}:\s+(\d+) kB", status)[1]) * 1024 for key in ("VmRSS", "VmHWM")}


def reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # Linux: VmHWM starts again from VmRSS


def listing(directory: Path) -> set[str]:
    return {str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file()}


@pytest.fixture
def private_dirs(tmp_path):
    dirs = {name: tmp_path / name for name in ("worker-tmp", "upload-tmp", "media", "files")}
    for directory in dirs.values():
        directory.mkdir()
    return dirs


@pytest.fixture
def hostile_worker(private_dirs, area_tree):
    """A solo-pool worker (the task runs in the process whose memory is measured) on a queue of its own."""
    from poverty_relief.celery import app

    queue = f"hostile-{os.getpid()}"
    node = f"{queue}@{socket.gethostname()}"
    env = {
        **worker_env(),
        "TMPDIR": str(private_dirs["worker-tmp"]),
        "DJANGO_MEDIA_ROOT": str(private_dirs["media"]),
    }
    log_path = private_dirs["files"] / "worker.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "poverty_relief", "worker", "--loglevel=WARNING",
             "--without-gossip", "--without-mingle", "--pool=solo", "-Q", queue, "-n", node],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not app.control.ping(destination=[node], timeout=0.5):
            assert process.poll() is None, log_path.read_text()[-2000:]
            assert time.monotonic() < deadline, "the worker did not answer within 30 s"
        yield process, queue
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_until_read(job_id: int, timeout: float = 30) -> ImportJob:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = ImportJob.objects.get(pk=job_id)
        if job.status in (ImportStatus.REFUSED, ImportStatus.REVIEW):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still {job.status} after {timeout} s")


def test_every_hostile_workbook_is_refused_in_time_within_memory_leaving_nothing(
    client, hostile_worker, private_dirs, monkeypatch
):
    from imports.tasks import read_import

    process, queue = hostile_worker
    monkeypatch.setattr(read_import, "delay", lambda job_id: read_import.apply_async((job_id,), queue=queue))
    clerk = user_create(
        username="ruijin", password="x", role=Role.COUNTY_CLERK, area_code="360781", check_password=False
    )
    client.force_login(clerk)
    watched = {name: private_dirs[name] for name in ("worker-tmp", "upload-tmp", "media")}
    before = {name: listing(directory) for name, directory in watched.items()}

    def send(name: str, content: bytes) -> tuple[ImportJob, dict]:
        reset_peak(process.pid)
        resident = memory(process.pid)["VmRSS"]
        started = time.monotonic()
        with override_settings(
            MEDIA_ROOT=private_dirs["media"], FILE_UPLOAD_TEMP_DIR=private_dirs["upload-tmp"]
        ):
            response = client.post("/imports/", {"file": upload(content, name=f"{name}.xlsx")})
        assert response.status_code == 302, (name, response.status_code)
        job = wait_until_read(ImportJob.objects.latest("pk").pk)
        seconds = time.monotonic() - started
        peak = memory(process.pid)["VmHWM"]
        figures = {"bytes": len(content), "seconds": round(seconds, 2)}
        return job, figures | {"rss_before_mb": round(resident / MB), "peak_rss_mb": round(peak / MB)}

    # The same path takes a good roster: what follows is refused for what it is, not for going this way.
    good, _ = send("good", workbook([person_row(n) for n in range(3)]))
    assert good.status == ImportStatus.REVIEW, good.message

    figures, outcomes = {}, {}
    for name, (build, _words) in HOSTILE.items():
        path = build(private_dirs["files"] / f"{name}.xlsx")
        job, figures[name] = send(name, path.read_bytes())
        outcomes[name] = (job.status, job.message, job.rows.count())
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "hostile_uploads.json").write_text(json.dumps(figures, indent=2, ensure_ascii=False))

    for name, (_build, words) in HOSTILE.items():
        status, message, staged = outcomes[name]
        assert (status, staged) == (ImportStatus.REFUSED, 0), (name, status, message)
        assert in_chinese(message) and words in message, (name, message)
        assert figures[name]["seconds"] < TIME_LIMIT, (name, figures[name])
        assert figures[name]["peak_rss_mb"] * MB < MEMORY_LIMIT, (name, figures[name])

    assert process.poll() is None, "the worker died"
    after = {name: listing(directory) for name, directory in watched.items()}
    stored = {job.file.name for job in ImportJob.objects.all()}
    # The upload itself is the job's record; nothing else may appear, and the temporary directories of
    # the web process and of the worker end as they began.
    assert after["media"] - before["media"] == stored
    assert after["worker-tmp"] == before["worker-tmp"]
    assert after["upload-tmp"] == before["upload-tmp"]
