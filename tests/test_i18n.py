"""The interface is Simplified Chinese: every msgid translated, and the committed .mo matches the .po."""

import ast
import gettext
from pathlib import Path

from django.conf import settings
from django.utils import translation

PO = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def read_po(path: Path) -> dict[str, tuple[str, bool, str | None]]:
    """msgid -> (msgstr, fuzzy); for a plural entry, its msgstr[0] (Chinese has one form)."""
    entries, current, key, fuzzy = {}, {}, None, False

    def flush():
        nonlocal current, fuzzy
        if "msgid" in current and current["msgid"]:
            entries[current["msgid"]] = (current.get("msgstr", ""), fuzzy, current.get("msgid_plural"))
        current, fuzzy = {}, False

    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            flush()
        elif line.startswith("#,") and "fuzzy" in line:
            fuzzy = True
        elif line.startswith(("msgid ", "msgstr ", "msgid_plural ", "msgstr[0] ")):
            key, _, value = line.partition(" ")
            key = "msgstr" if key == "msgstr[0]" else key
            current[key] = ast.literal_eval(value)
        elif line.startswith('"') and key:
            current[key] += ast.literal_eval(line)
    flush()
    return entries


def test_every_message_is_translated():
    entries = read_po(PO)
    assert len(entries) > 50
    untranslated = [msgid for msgid, (msgstr, fuzzy, _plural) in entries.items() if not msgstr or fuzzy]
    assert untranslated == []


def test_compiled_catalog_matches_the_po_file():
    with PO.with_suffix(".mo").open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)
    stale = [
        msgid
        for msgid, (msgstr, _fuzzy, plural) in read_po(PO).items()
        if (catalog.ngettext(msgid, plural, 1) if plural else catalog.gettext(msgid)) != msgstr
    ]
    assert stale == [], "run `manage.py compilemessages` after editing django.po"


def test_the_interface_speaks_chinese():
    assert settings.LANGUAGE_CODE == "zh-hans"
    with translation.override("zh-hans"):
        assert translation.gettext("Log in") == "登录"
        assert translation.gettext("County clerk") == "县级经办"
