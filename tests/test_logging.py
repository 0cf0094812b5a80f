import json
import logging

from hypothesis import given
from hypothesis import strategies as st

from poverty_relief.logging import JsonFormatter, MaskIdNumbersFilter, mask_id_numbers


def test_id_and_certificate_numbers_are_masked():
    assert mask_id_numbers("查询 360426199101010071 完成") == "查询 360426********0071 完成"
    assert mask_id_numbers("11010519491231002X") == "110105********002X"
    assert mask_id_numbers("11010519491231002x;") == "110105********002x;"
    assert (
        mask_id_numbers("证号 3604261991010100714 2") == "证号 3604261991010100714 2"
    )  # 19 digits: not an ID
    assert mask_id_numbers("36042619910101007142") == "360426********0071**"  # certificate: ID + 2 digits


def test_other_numbers_are_left_alone():
    for text in ("电话 13907970000", "代码 360781100201", "金额 1234567890.50", "3604261991"):
        assert mask_id_numbers(text) == text


@given(
    st.from_regex(r"\A[1-6]\d{5}(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d)\d{3}[\dX]\Z"), st.text(max_size=20)
)
def test_no_id_number_survives_masking(id_number, noise):
    masked = mask_id_numbers(f"{noise} {id_number} {noise}")
    assert id_number not in masked


def test_log_lines_are_json_without_the_full_number():
    record = logging.LogRecord(
        "registry", logging.WARNING, __file__, 1, "duplicate %s in %s", ("360426199101010071", "瑞金市"), None
    )
    MaskIdNumbersFilter().filter(record)
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert entry["message"] == "duplicate 360426********0071 in 瑞金市"
    assert entry["level"] == "WARNING"
    assert "360426199101010071" not in line


def test_tracebacks_are_masked_too():
    try:
        raise ValueError("bad id 360426199101010071")
    except ValueError:
        import sys

        record = logging.LogRecord("registry", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    MaskIdNumbersFilter().filter(record)
    line = JsonFormatter().format(record)
    assert "360426199101010071" not in line
    assert "360426********0071" in json.loads(line)["exception"]
