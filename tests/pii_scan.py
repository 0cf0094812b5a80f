"""Whole ID numbers in what the application writes out, over the whole test run.

Every test's captured stdout and stderr (where the application's log handlers write, through the masking
filter, as in production) and the log file of every Celery worker the suite starts are searched for a
whole resident ID number: 17 digits of a real province code and a valid check character. Any found fails
the run, naming the test (or worker log) and the number masked. Test code's own captured log records
(pytest's "Captured log" sections, taken before the handlers' filter) are not what the application
writes, and are left out.
"""

import re
from pathlib import Path

import pytest

CANDIDATE = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dX])(?![0-9A-Za-z])")
SECTIONS = ("Captured stdout", "Captured stderr")
_found: list[tuple[str, str]] = []
_worker_logs: list[Path] = []


def whole_id_numbers(text: str) -> list[str]:
    from beneficiaries.validation import PROVINCE_CODES, id_check_character

    return [
        number
        for number in CANDIDATE.findall(text)
        if int(number[:2]) in PROVINCE_CODES and id_check_character(number[:17]) == number[17]
    ]


def masked(number: str) -> str:
    return f"{number[:6]}********{number[14:]}"


def watch_worker_log(path: Path) -> None:
    _worker_logs.append(path)


def pytest_runtest_logreport(report):
    # Each phase's report carries the sections of the phases before it: each section is read once.
    for title, content in report.sections:
        where = f"{report.nodeid} ({title})"
        if title.startswith(SECTIONS) and not any(seen == where for seen, _ in _found):
            _found.extend((where, masked(n)) for n in whole_id_numbers(content))


def pytest_sessionfinish(session):
    for path in _worker_logs:
        if path.exists():
            text = path.read_text(errors="replace")
            _found.extend((f"worker log {path.name}", masked(n)) for n in whole_id_numbers(text))
    if _found and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    if _found:
        terminalreporter.section("whole ID numbers in the application's output", red=True)
        for where, number in _found:
            terminalreporter.line(f"{where}: {number}")
