"""Structured log lines that never carry a full ID number."""

import json
import logging
import re
from datetime import UTC, datetime

# 18-character resident ID numbers (17 digits and a check character), and 20-character certificate
# numbers that start with one. Masked to the form shown in lists: 360781********0071.
ID_NUMBER_RE = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(\d{2})?(?![0-9A-Za-z])")


def mask_id_numbers(text: str) -> str:
    return ID_NUMBER_RE.sub(lambda m: f"{m.group(1)}********{m.group(2)}{'**' if m.group(3) else ''}", text)


class MaskIdNumbersFilter(logging.Filter):
    """Renders the message once, masks it, and drops the arguments so no handler sees the raw value."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask_id_numbers(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_id_numbers(record.exc_text)
        record.exc_info = None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": mask_id_numbers(record.getMessage()),
        }
        if record.exc_info:
            entry["exception"] = mask_id_numbers(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["exception"] = record.exc_text
        for key in ("status_code", "request_id", "task_id", "user_id"):
            if hasattr(record, key):
                entry[key] = getattr(record, key)
        return json.dumps(entry, ensure_ascii=False, default=str)
