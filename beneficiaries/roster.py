"""The roster sheet kind: what a row of a township roster means for the registry, and how a checked
upload is written (people and their households, in the caller's transaction)."""

import functools
import re
import unicodedata
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

import pghistory
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from areas.models import Area, AreaLevel
from imports.kinds import StagedRow, register
from imports.models import ImportRow

from .models import Household, HouseholdStatus, LifeStatus, Person, PovertyStatus
from .roster_columns import (
    CATEGORY_WORDS,
    LEVEL_WORDS,
    NO_WORDS,
    POVERTY_WORDS,
    RELATION_WORDS,
    ROSTER_COLUMNS,
    YES_WORDS,
)
from .roster_workbooks import error_workbook, roster_template
from .validation import IdValidationError, parse_certificate_number, parse_id_number

BATCH = 2000
NAME_LENGTH = 50  # the registry's name columns
PERSON_FIELDS = (
    "name", "certificate_number", "disability_category", "disability_level", "township_code", "village_code",
    "phone",
)  # fmt: skip
LABELS = {c.key: c.label for c in ROSTER_COLUMNS}
CATEGORY_NUMBERS = {**CATEGORY_WORDS, **{str(v): v for v in range(1, 8)}}
LEVEL_NUMBERS = {**LEVEL_WORDS, **{str(v): v for v in range(1, 5)}, "一": 1, "二": 2, "三": 3, "四": 4}
_PHONE = re.compile(r"1\d{10}|0\d{2,3}-?\d{7,8}")


_INVISIBLE = re.compile(r"[\s\x00-\x1f\x7f]+")


def fold(value: Any) -> str:
    """The text of a cell as compared: full-width folded, spaces and control characters dropped."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _INVISIBLE.sub("", unicodedata.normalize("NFKC", str(value)))


def _number(text: str) -> int | None:
    return int(text) if re.fullmatch(r"[0-9]{1,4}", text) else None


def _word(value: Any, words: dict, suffixes: tuple[str, ...] = ()) -> Any:
    text = fold(value).upper()
    for suffix in suffixes:
        text = text.removesuffix(suffix)
    return words.get(text)


class Places:
    """Township and village names of one county, as clerks write them (or their codes)."""

    def __init__(self, county_code: str):
        self.townships: dict[str, str] = {}
        self.villages: dict[tuple[str, str], str] = {}
        for area in Area.objects.filter(
            code__startswith=county_code, level__in=[AreaLevel.TOWNSHIP, AreaLevel.VILLAGE]
        ):
            if area.level == AreaLevel.TOWNSHIP:
                self.townships[fold(area.name)] = self.townships[area.code] = area.code
            else:
                for key in (fold(area.name), _short_village(area.name), area.code):
                    self.villages.setdefault((area.parent_id, key), area.code)

    def township(self, value: Any) -> str | None:
        return self.townships.get(fold(value))

    def village(self, township_code: str, value: Any) -> str | None:
        text = fold(value)
        return self.villages.get((township_code, text)) or self.villages.get(
            (township_code, _short_village(text))
        )


def _short_village(name: str) -> str:
    # 石水村民委员会 and 解放路居委会 are written 石水村 and 解放路社区 on most rosters.
    name = fold(name)
    for long, short in (("村民委员会", "村"), ("居民委员会", "社区"), ("居委会", "社区"), ("村委会", "村")):
        if name.endswith(long):
            return name[: -len(long)] + short
    return name


CACHE_SIZE = 4096  # distinct values remembered per column: a roster repeats a few words on every row


def _cached(function):
    """`function` of cell values, remembered by value and by type (1, 1.0 and True are different cells).

    Most columns of a roster hold a handful of distinct values (townships, villages, categories, levels,
    statuses): each is checked once, and its result, error messages included, is reused."""
    return functools.lru_cache(maxsize=CACHE_SIZE, typed=True)(function)


class RowChecker:
    """Turns one roster row into registry values, or into the errors of its cells."""

    def __init__(self, county_code: str):
        self.county_code = county_code
        self.places = Places(county_code)
        self.today = timezone.localdate()
        self._place_of = _cached(self._place)
        self._category_of = _cached(self._category)
        self._level_of = _cached(self._level)
        self._gender_error = _cached(self._gender)
        self._relation_of = _cached(self._relation)
        self._household_of = _cached(self._household_facts)

    def check(self, cells: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        values: dict[str, Any] = {"county_code": self.county_code}
        errors: dict[str, str] = {}

        name = values["name"] = fold(cells.get("name"))
        if not name:
            errors["name"] = _("%(field)s: this field is empty.") % {"field": LABELS["name"]}
        elif len(name) > NAME_LENGTH:
            errors["name"] = _("%(field)s: at most %(count)s characters.") % {
                "field": LABELS["name"],
                "count": NAME_LENGTH,
            }
        values["township_code"], values["village_code"], failed = self._place_of(
            cells.get("township"), cells.get("village")
        )
        category, category_error = self._category_of(cells.get("disability_category"))
        level, level_error = self._level_of(cells.get("disability_level"))
        for key, message in (*failed, category_error, level_error):
            if key:
                errors.setdefault(key, message)
        values["disability_category"], values["disability_level"] = category, level
        try:
            identity = parse_id_number(
                cells.get("id_number"), field_label=LABELS["id_number"], today=self.today
            )
        except IdValidationError as error:
            errors.setdefault("id_number", str(error))
            identity = None
        else:
            values["id_number"], values["gender"] = identity.number, identity.gender
            values["birth_date"] = identity.birth_date.isoformat()
            if message := self._gender_error(cells.get("gender"), identity.gender):
                errors.setdefault("gender", message)
        values["certificate_number"] = None
        certificate = cells.get("certificate_number")
        if (
            identity is not None
            and type(certificate) is str
            and len(certificate) == 20
            and certificate.startswith(identity.number)
            and certificate[18:] == f"{category}{level}"
        ):
            values["certificate_number"] = certificate  # what the full check below would return
        elif fold(certificate) or isinstance(certificate, int | float):
            try:
                values["certificate_number"] = parse_certificate_number(
                    certificate,
                    id_number=identity.number if identity else None,
                    category=category,
                    level=level,
                    field_label=LABELS["certificate_number"],
                    today=self.today,
                    known=identity,
                ).number
            except IdValidationError as error:
                errors.setdefault("certificate_number", str(error))
        self._household(cells, values, errors)
        phone = values["phone"] = fold(cells.get("phone"))
        if phone and not _PHONE.fullmatch(phone):
            errors.setdefault(
                "phone",
                _("%(field)s: write an 11-digit mobile number or a landline with its area code.")
                % {"field": LABELS["phone"]},
            )
        return values, errors

    def _place(self, township_cell: Any, village_cell: Any) -> tuple[str | None, str | None, tuple]:
        """(township code, village code, ((column, message), ...))."""
        township = self.places.township(township_cell)
        if township is None:
            message = _("%(field)s: “%(value)s” is not a township of this county.") % {
                "field": LABELS["township"],
                "value": fold(township_cell),
            }
            return None, None, (("township", message),)
        village = self.places.village(township, village_cell)
        if village is None:
            message = _("%(field)s: “%(value)s” is not a village of that township.") % {
                "field": LABELS["village"],
                "value": fold(village_cell),
            }
            return township, None, (("village", message),)
        return township, village, ()

    def _category(self, cell: Any) -> tuple[int | None, tuple]:
        category = _word(cell, CATEGORY_NUMBERS, ("残疾", "类"))
        if category is None:
            message = _("%(field)s: write one of 视力, 听力, 言语, 肢体, 智力, 精神, 多重.") % {
                "field": LABELS["disability_category"]
            }
            return None, ("disability_category", message)
        return category, (None, None)

    def _level(self, cell: Any) -> tuple[int | None, tuple]:
        level = _word(cell, LEVEL_NUMBERS, ("级",))
        if level is None:
            message = _("%(field)s: write one of 一级, 二级, 三级, 四级.") % {
                "field": LABELS["disability_level"]
            }
            return None, ("disability_level", message)
        return level, (None, None)

    def _gender(self, cell: Any, derived_gender: str) -> str | None:
        gender = fold(cell)
        if gender and gender not in ("男", "女"):
            return _("%(field)s: write 男 or 女.") % {"field": _("Gender")}
        if gender and {"男": "M", "女": "F"}[gender] != derived_gender:
            derived = "男" if derived_gender == "M" else "女"
            message = _("%(field)s: does not match the ID number, which gives %(derived)s.")
            return message % {"field": _("Gender"), "derived": derived}
        return None

    def _relation(self, cell: Any) -> tuple[str | None, str | None]:
        relation = _word(cell, RELATION_WORDS)
        if fold(cell) and relation is None:
            message = _(
                "%(field)s: write 户主, 配偶, 子女, 父母, 兄弟姐妹, 祖父母, 孙子女, 儿媳, 女婿 or 其他."
            ) % {"field": LABELS["relation_to_head"]}
            return None, message
        return relation, None

    def _household(self, cells, values, errors) -> None:
        head = fold(cells.get("head_name"))
        relation, relation_error = self._relation_of(cells.get("relation_to_head"))
        if relation_error:
            errors.setdefault("relation_to_head", relation_error)
        if relation == "head" and not head:
            head = values.get("name", "")
        if len(head) > NAME_LENGTH:
            errors.setdefault(
                "head_name",
                _("%(field)s: at most %(count)s characters.")
                % {"field": LABELS["head_name"], "count": NAME_LENGTH},
            )
            head = ""
        if head and not relation:
            errors.setdefault(
                "relation_to_head",
                _("%(field)s: say how this person is related to the head of the household.")
                % {"field": LABELS["relation_to_head"]},
            )
        values["head_name"], values["relation_to_head"] = head, relation or ""
        if not head:
            return  # a person without a household: registered alone, attached later
        facts, failed = self._household_of(
            cells.get("household_size"),
            cells.get("poverty_status"),
            cells.get("exit_year"),
            cells.get("is_dibao"),
        )
        values.update(facts)
        for key, message in failed:
            errors.setdefault(key, message)

    def _household_facts(self, size_cell, status_cell, year_cell, dibao_cell) -> tuple[dict[str, Any], tuple]:
        """The household's values from its four cells, and ((column, message), ...)."""
        values: dict[str, Any] = {}
        failed = []

        def fail(key: str, message: str) -> None:
            failed.append((key, message))

        size = fold(size_cell)
        values["size"] = number if (number := _number(size)) is not None and 1 <= number <= 30 else None
        if size and values["size"] is None:
            fail(
                "household_size",
                _("%(field)s: write a whole number from 1 to 30.") % {"field": LABELS["household_size"]},
            )
        status = POVERTY_WORDS.get(fold(status_cell))
        if fold(status_cell) and status is None:
            fail(
                "poverty_status",
                _("%(field)s: write 未脱贫, 已脱贫, 返贫 or 非建档立卡.")
                % {"field": LABELS["poverty_status"]},
            )
        # A blank cell leaves what is stored alone; a new household starts as 未脱贫 (see COMMIT_SQL).
        values["poverty_status"] = status
        year = fold(year_cell).removesuffix("年")
        values["exit_year"] = _number(year)
        if year and (values["exit_year"] is None or not 2014 <= values["exit_year"] <= self.today.year):
            fail(
                "exit_year",
                _("%(field)s: write a year from 2014 to this year.") % {"field": LABELS["exit_year"]},
            )
        elif values["poverty_status"] == PovertyStatus.OUT and values["exit_year"] is None:
            fail(
                "exit_year",
                _("%(field)s: a household out of poverty needs the year it got out.")
                % {"field": LABELS["exit_year"]},
            )
        elif values["poverty_status"] is None and values["exit_year"]:
            fail(
                "exit_year",
                _("%(field)s: a year out of poverty needs 已脱贫 or 返贫 in the poverty status of the row.")
                % {"field": LABELS["exit_year"]},
            )
        elif (
            values["poverty_status"] in (PovertyStatus.NOT_OUT, PovertyStatus.NOT_REGISTERED)
            and values["exit_year"]
        ):
            fail(
                "exit_year",
                _("%(field)s: leave it empty unless the household is out of poverty.")
                % {"field": LABELS["exit_year"]},
            )
        dibao = fold(dibao_cell).upper()
        if dibao not in YES_WORDS | NO_WORDS:
            fail("is_dibao", _("%(field)s: write 是 or 否.") % {"field": LABELS["is_dibao"]})
        values["is_dibao"] = None if not dibao else dibao in YES_WORDS
        return values, tuple(failed)


# Blank cells of these columns leave what is stored alone (a roster may simply lack them).
KEEP_WHEN_BLANK = ("certificate_number", "phone")


def _given(values: dict[str, Any]) -> dict[str, Any]:
    return {
        name: values[name]
        for name in PERSON_FIELDS
        if name in values and not (name in KEEP_WHEN_BLANK and not values[name])
    }


def _person_changes(person: Person, values: dict[str, Any]) -> dict[str, list]:
    changes = {
        name: [getattr(person, name), value]
        for name, value in _given(values).items()
        if value != getattr(person, name)
    }
    household = person.household
    if values.get("head_name") and (household is None or household.head_name != values["head_name"]):
        changes["head_name"] = [household.head_name if household else "", values["head_name"]]
    elif household is not None and values.get("head_name"):
        for name, value in _household_changes(household, values).items():
            changes[name] = [getattr(household, name), value]
    return changes


class RosterKind:
    key = "roster"
    label = "花名册"
    description = gettext_lazy(
        "The township roster: poor disabled people and their households, registered or brought up to date."
    )
    columns = ROSTER_COLUMNS
    # Rows as uploaded (the error workbook) and changes of certificate numbers are for those who may
    # see whole ID numbers; others see them masked.
    whole_numbers_permission = "beneficiaries.view_full_id_number"
    upload_permission = "beneficiaries.add_person"
    outcomes = (
        ("new", gettext_lazy("New people"), "ok"),
        ("update", gettext_lazy("Changed"), ""),
        ("unchanged", gettext_lazy("Unchanged"), ""),
        ("rejected", gettext_lazy("Rejected rows"), "bad"),
        ("transfer", gettext_lazy("Held by another county"), "warn"),
    )
    save_note = gettext_lazy(
        "The good rows are saved in one go; rejected rows and people held by another county are left out. "
        "Uploading the same file again changes nothing."
    )

    def commit_message(self, written: dict[str, int]) -> str:
        message = _("Saved: %(created)s new, %(updated)s changed.") % written
        if written.get("stale"):
            message += (
                " "
                + _("%(stale)s rows were left out: their people were edited or moved after the check.")
                % written
            )
        if written.get("kept_households"):
            message += (
                " "
                + _(
                    "%(kept_households)s households kept what they hold: they were edited after the check, "
                    "so the file's household cells were not written over them."
                )
                % written
            )
        return message

    def refused_message(self) -> str:
        return _(
            "Nothing was saved: the registry changed after this file was checked (someone registered "
            "or moved one of its people meanwhile). Upload the file again to check it anew."
        )

    def template(self, county_code: str) -> bytes:
        return roster_template(county_code)

    def error_workbook(self, **rows_and_errors) -> bytes:
        return error_workbook(**rows_and_errors)

    def check_rows(self, *, job, rows: Iterable[tuple[int, dict[str, Any]]]) -> Iterator[StagedRow]:
        checker = RowChecker(job.county_code)
        seen: dict[str, int] = {}
        rows = iter(rows)
        while batch := list(islice(rows, BATCH)):
            checked = [(number, *checker.check(cells)) for number, cells in batch]
            held = _held([v["id_number"] for _, v, e in checked if "id_number" in v])
            names = _county_names({p.county_code for p in held.values()})
            for number, values, errors in checked:
                yield self._classify(number, values, errors, held, seen, job.county_code, names)

    def _classify(self, number, values, errors, held, seen, county_code, names) -> StagedRow:
        id_number = values.get("id_number")
        if id_number and id_number in seen:
            errors.setdefault(
                "id_number",
                _("%(field)s: the same person is already on row %(row)s of this file.")
                % {"field": LABELS["id_number"], "row": seen[id_number]},
            )
        elif id_number:
            seen[id_number] = number
        if errors:
            return StagedRow(number, "rejected", values=values, errors=errors)
        person = held.get(id_number)
        if person is None:
            return StagedRow(number, "new", values=values)
        if person.county_code != county_code:
            county = names.get(person.county_code, person.county_code)
            return StagedRow(number, "transfer", values=values, target_id=person.pk, note=county)
        changes = _person_changes(person, values)
        outcome = "update" if changes else "unchanged"
        # The version checked against: a clerk's edit between this check and the commit wins.
        values = {**values, "checked_version": person.version}
        return StagedRow(number, outcome, values=values, changes=changes, target_id=person.pk)

    def commit(self, *, job, actor) -> dict[str, int]:
        with pghistory.context(user=actor.pk, import_job=job.pk), connection.cursor() as cursor:
            cursor.execute("SET LOCAL application_name = 'poverty-relief import'")
            created, updated, stale, kept = _write(cursor, job, actor, timezone.now())
        return {"created": created, "updated": updated, "stale": stale, "kept_households": kept}


def _held(id_numbers: list[str]) -> dict[str, Person]:
    """The people of the registry (any county) among these ID numbers, with their households."""
    if not id_numbers:
        return {}
    with connection.cursor() as cursor:
        # One array parameter: an IN list of thousands of parameters costs more to build than to run.
        table = Person._meta.db_table
        cursor.execute(f"SELECT id FROM {table} WHERE id_number = ANY(%s)", [id_numbers])  # noqa: S608
        ids = [pk for (pk,) in cursor.fetchall()]
    if not ids:
        return {}
    return {p.id_number: p for p in Person.objects.filter(pk__in=ids).select_related("household")}


# The rows to write, typed, in a table of this transaction with statistics of its own: the planner then
# knows how many there are (staged rows written moments ago have no statistics yet, and would be taken
# for a handful and joined row by row).
ROWS_SQL = """
DROP TABLE IF EXISTS pg_temp.roster_commit;
CREATE TEMPORARY TABLE roster_commit ON COMMIT DROP AS
SELECT row_number, outcome, target_id, v->>'county_code' AS county_code,
    v->>'township_code' AS township_code, v->>'village_code' AS village_code, v->>'name' AS name,
    v->>'id_number' AS id_number, v->>'certificate_number' AS certificate_number, v->>'gender' AS gender,
    (v->>'birth_date')::date AS birth_date, (v->>'disability_category')::smallint AS disability_category,
    (v->>'disability_level')::smallint AS disability_level, v->>'head_name' AS head_name,
    v->>'relation_to_head' AS relation_to_head, v->>'phone' AS phone, (v->>'size')::smallint AS size,
    v->>'poverty_status' AS poverty_status, (v->>'exit_year')::smallint AS exit_year,
    (v->>'is_dibao')::boolean AS is_dibao, (v->>'checked_version')::integer AS checked_version
FROM (SELECT row_number, outcome, target_id, "values" AS v FROM {rows}
      WHERE job_id = %(job)s AND outcome IN ('new', 'update')) staged;
ANALYZE roster_commit;
"""

# Then one statement: nothing goes through Python row by row, and the audit triggers (one per statement
# and table) see every row at once, with the history context set.
#
# - The households the rows name, by village and head (the first row naming one gives its facts): an
#   active household of the county with that village and head is brought up to date with what the row
#   says (blank cells say nothing), otherwise one is created; each one changed or created gets a dated
#   status row. Of two active households with the same village and head, the older is taken.
# - New rows become people, attached to their household.
# - Changed rows are written over the person only if it still has the version they were checked against
#   and is still of this county; the others are left out whole (their household cells too) and counted
#   as stale.
# - A household edited since the check began keeps what it holds (its edit is newer than the file): its
#   cells are not written, its people still join it, and it is counted.
COMMIT_SQL = """
WITH wanted AS (
    SELECT DISTINCT ON (village_code, head_name)
        township_code, village_code, head_name, size, poverty_status, exit_year, is_dibao, row_number
    FROM roster_commit r
    WHERE coalesce(head_name, '') <> '' AND coalesce(village_code, '') <> ''
        AND (outcome = 'new' OR EXISTS (
            SELECT FROM {people} p
            WHERE p.id = r.target_id AND p.county_code = %(county)s AND p.version = r.checked_version
        ))
    ORDER BY village_code, head_name, row_number
), existing AS (
    SELECT DISTINCT ON (h.village_code, h.head_name) h.id, h.village_code, h.head_name
    FROM {households} h JOIN wanted w ON (h.village_code, h.head_name) = (w.village_code, w.head_name)
    WHERE h.county_code = %(county)s AND h.is_active
    ORDER BY h.village_code, h.head_name, h.id
), changed AS (
    UPDATE {households} h SET
        size = coalesce(w.size, h.size),
        poverty_status = coalesce(w.poverty_status, h.poverty_status),
        exit_year = CASE WHEN w.poverty_status IS NULL THEN h.exit_year ELSE w.exit_year END,
        is_dibao = coalesce(w.is_dibao, h.is_dibao),
        version = h.version + 1,
        updated_at = %(now)s
    FROM existing e JOIN wanted w ON (w.village_code, w.head_name) = (e.village_code, e.head_name)
    WHERE h.id = e.id AND h.updated_at <= %(checked_from)s AND (
        w.size <> h.size
        OR w.poverty_status <> h.poverty_status
        OR (w.poverty_status IS NOT NULL AND w.exit_year IS DISTINCT FROM h.exit_year)
        OR w.is_dibao <> h.is_dibao
    )
    RETURNING h.id, h.poverty_status, h.exit_year, h.is_dibao, h.is_tekun
), kept AS (
    SELECT h.id
    FROM {households} h
    JOIN existing e ON e.id = h.id
    JOIN wanted w ON (w.village_code, w.head_name) = (e.village_code, e.head_name)
    WHERE h.updated_at > %(checked_from)s AND (
        w.size <> h.size
        OR w.poverty_status <> h.poverty_status
        OR (w.poverty_status IS NOT NULL AND w.exit_year IS DISTINCT FROM h.exit_year)
        OR w.is_dibao <> h.is_dibao
    )
), created AS (
    INSERT INTO {households} (
        county_code, township_code, village_code, head_name, size, poverty_status, exit_year, is_dibao,
        is_tekun, main_cause, is_active, deactivation_reason, version, created_at, updated_at
    )
    SELECT %(county)s, w.township_code, w.village_code, w.head_name, coalesce(w.size, 1),
        coalesce(w.poverty_status, %(not_out)s), w.exit_year, coalesce(w.is_dibao, false), false,
        'disability', true, '', 1, %(now)s, %(now)s
    FROM wanted w
    WHERE NOT EXISTS (
        SELECT FROM existing e WHERE (e.village_code, e.head_name) = (w.village_code, w.head_name)
    )
    ORDER BY w.row_number
    RETURNING id, village_code, head_name, poverty_status, exit_year, is_dibao, is_tekun
), statuses AS (
    INSERT INTO {statuses} (
        household_id, effective_date, poverty_status, exit_year, is_dibao, is_tekun, recorded_by_id,
        recorded_at, note
    )
    SELECT id, %(today)s, poverty_status, exit_year, is_dibao, is_tekun, %(actor)s, %(now)s, %(note)s
    FROM (
        SELECT * FROM changed
        UNION ALL SELECT id, poverty_status, exit_year, is_dibao, is_tekun FROM created
    ) written
), households AS (
    SELECT id, village_code, head_name FROM existing
    UNION ALL SELECT id, village_code, head_name FROM created
), inserted AS (
    INSERT INTO {people} (
        county_code, township_code, village_code, name, id_number, certificate_number, gender, birth_date,
        disability_category, disability_level, household_id, relation_to_head, phone, life_status,
        life_status_reason, version, created_at, updated_at
    )
    SELECT r.county_code, r.township_code, r.village_code, r.name, r.id_number, r.certificate_number,
        r.gender, r.birth_date, r.disability_category, r.disability_level, h.id,
        CASE WHEN h.id IS NULL THEN '' ELSE r.relation_to_head END, r.phone, %(active)s, '', 1, %(now)s,
        %(now)s
    FROM roster_commit r
    LEFT JOIN households h ON (h.village_code, h.head_name) = (r.village_code, r.head_name)
    WHERE r.outcome = 'new'
    ORDER BY r.row_number
    RETURNING 1
), updated AS (
    UPDATE {people} p SET
        name = r.name,
        certificate_number = coalesce(nullif(r.certificate_number, ''), p.certificate_number),
        disability_category = r.disability_category,
        disability_level = r.disability_level,
        township_code = r.township_code,
        village_code = r.village_code,
        phone = coalesce(nullif(r.phone, ''), p.phone),
        household_id = coalesce(h.id, p.household_id),
        relation_to_head = CASE WHEN h.id IS NULL THEN p.relation_to_head ELSE r.relation_to_head END,
        version = p.version + 1,
        updated_at = %(now)s
    FROM roster_commit r
    LEFT JOIN households h ON (h.village_code, h.head_name) = (r.village_code, r.head_name)
    WHERE r.outcome = 'update' AND p.id = r.target_id AND p.county_code = %(county)s
        AND p.version = r.checked_version
    RETURNING 1
)
SELECT (SELECT count(*) FROM inserted), (SELECT count(*) FROM updated),
    (SELECT count(*) FROM roster_commit WHERE outcome = 'update'), (SELECT count(*) FROM kept)
"""


# pg_advisory_xact_lock(ROSTER_LOCK, county): one roster commit of a county at a time. Two at once would
# each look for the households they name before the other's were committed, and create them twice.
ROSTER_LOCK = 0x726F7374  # "rost" in ASCII


def _write(cursor, job, actor, now) -> tuple[int, int, int, int]:
    """(people created, people updated, rows left out as stale, households kept as edited since)."""
    # Taken before the statements below, each of which then sees what an earlier commit of the county wrote.
    cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [ROSTER_LOCK, int(job.county_code)])
    tables = {
        "rows": ImportRow._meta.db_table,
        "households": Household._meta.db_table,
        "statuses": HouseholdStatus._meta.db_table,
        "people": Person._meta.db_table,
    }
    cursor.execute(ROWS_SQL.format(**tables), {"job": job.pk})
    cursor.execute(
        COMMIT_SQL.format(**tables),
        {
            "county": job.county_code,
            "actor": actor.pk,
            "now": now,
            "today": timezone.localdate(),
            "note": f"import {job.pk}",
            "not_out": PovertyStatus.NOT_OUT.value,
            "active": LifeStatus.ACTIVE.value,
            "checked_from": job.started_at or now,
        },
    )
    created, updated, checked, kept = cursor.fetchone()
    return created, updated, checked - updated, kept


def _household_changes(household: Household, values: dict[str, Any]) -> dict[str, Any]:
    """What the roster says differently of a stored household; blank cells say nothing."""
    given = {
        name: values.get(name)
        for name in ("size", "poverty_status", "is_dibao")
        if values.get(name) is not None
    }
    if "poverty_status" in given:
        given["exit_year"] = values.get("exit_year")  # the year goes with the status, empty included
    return {name: value for name, value in given.items() if getattr(household, name) != value}


def _county_names(codes: set[str]) -> dict[str, str]:
    return dict(Area.objects.filter(code__in=codes).values_list("code", "name")) if codes else {}


ROSTER = register(RosterKind())
