"""The run-wide scan (tests/pii_scan.py) finds whole ID numbers in captured output and nothing else."""

from datetime import date
from types import SimpleNamespace

from beneficiaries.validation import make_id_number
from tests import pii_scan

NUMBER = make_id_number("360781", date(1961, 5, 4), 71)


def test_a_whole_number_in_a_log_line_is_found_and_reported_masked():
    line = f'{{"level": "INFO", "message": "registered {NUMBER}"}}'
    assert pii_scan.whole_id_numbers(line) == [NUMBER]
    assert pii_scan.masked(NUMBER) == f"360781********{NUMBER[14:]}"


def test_masked_numbers_wrong_check_characters_and_longer_digit_runs_are_not():
    wrong = NUMBER[:17] + ("0" if NUMBER[17] != "0" else "1")
    text = f"360781********{NUMBER[14:]} {wrong} 9{NUMBER} {NUMBER}42 order 123456789012345678"
    assert pii_scan.whole_id_numbers(text) == []


def test_captured_output_of_a_test_is_scanned_but_its_own_log_records_are_not(monkeypatch):
    found = []
    monkeypatch.setattr(pii_scan, "_found", found)
    report = SimpleNamespace(
        nodeid="tests/x.py::test_y",
        sections=[("Captured stdout call", f"leaked {NUMBER}"), ("Captured log call", f"raw {NUMBER}")],
    )
    pii_scan.pytest_runtest_logreport(report)
    assert found == [("tests/x.py::test_y (Captured stdout call)", pii_scan.masked(NUMBER))]
