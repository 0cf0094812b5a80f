"""The roster sheet kind: what a row of a township roster means for the registry, and how a checked
upload is written (people and their households, in the caller's transaction)."""

import re
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import date
from itertools import islice
from typing import Any

import pghistory
from django.db import connection
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from areas.models import Area, AreaLevel
from imports.kinds import StagedRow, register
from poverty_relief.db import copy_rows, next_ids

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


class RowChecker:
    """Turns one roster row into registry values, or into the errors of its cells."""

    def __init__(self, county_code: str):
        self.county_code = county_code
        self.places = Places(county_code)
        self.today = timezone.localdate()

    def check(self, cells: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
        values: dict[str, Any] = {"county_code": self.county_code}
        errors: dict[str, str] = {}

        def fail(key: str, message: str) -> None:
            errors.setdefault(key, message)

        values["name"] = fold(cells.get("name"))
        if not values["name"]:
            fail("name", _("%(field)s: this field is empty.") % {"field": LABELS["name"]})
        elif len(values["name"]) > NAME_LENGTH:
            fail(
                "name",
                _("%(field)s: at most %(count)s characters.")
                % {"field": LABELS["name"], "count": NAME_LENGTH},
            )
        self._place(cells, values, fail)
        category = _word(
            cells.get("disability_category"),
            {**CATEGORY_WORDS, **{str(v): v for v in range(1, 8)}},
            ("残疾", "类"),
        )
        level = _word(
            cells.get("disability_level"),
            {**LEVEL_WORDS, **{str(v): v for v in range(1, 5)}, "一": 1, "二": 2, "三": 3, "四": 4},
            ("级",),
        )
        if category is None:
            fail(
                "disability_category",
                _("%(field)s: write one of 视力, 听力, 言语, 肢体, 智力, 精神, 多重.")
                % {"field": LABELS["disability_category"]},
            )
        if level is None:
            fail(
                "disability_level",
                _("%(field)s: write one of 一级, 二级, 三级, 四级.") % {"field": LABELS["disability_level"]},
            )
        values["disability_category"], values["disability_level"] = category, level
        try:
            identity = parse_id_number(
                cells.get("id_number"), field_label=LABELS["id_number"], today=self.today
            )
        except IdValidationError as error:
            fail("id_number", str(error))
            identity = None
        else:
            values.update(id_number=identity.number, gender=identity.gender, birth_date=identity.birth_date)
            gender = fold(cells.get("gender"))
            if gender and gender not in ("男", "女"):
                fail("gender", _("%(field)s: write 男 or 女.") % {"field": _("Gender")})
            elif gender and {"男": "M", "女": "F"}[gender] != identity.gender:
                derived = "男" if identity.gender == "M" else "女"
                message = _("%(field)s: does not match the ID number, which gives %(derived)s.")
                fail("gender", message % {"field": _("Gender"), "derived": derived})
        values["certificate_number"] = None
        if fold(cells.get("certificate_number")) or isinstance(cells.get("certificate_number"), int | float):
            try:
                values["certificate_number"] = parse_certificate_number(
                    cells.get("certificate_number"),
                    id_number=identity.number if identity else None,
                    category=category,
                    level=level,
                    field_label=LABELS["certificate_number"],
                    today=self.today,
                    known=identity,
                ).number
            except IdValidationError as error:
                fail("certificate_number", str(error))
        self._household(cells, values, fail)
        values["phone"] = fold(cells.get("phone"))
        if values["phone"] and not re.fullmatch(r"1\d{10}|0\d{2,3}-?\d{7,8}", values["phone"]):
            fail(
                "phone",
                _("%(field)s: write an 11-digit mobile number or a landline with its area code.")
                % {"field": LABELS["phone"]},
            )
        return values, errors

    def _place(self, cells, values, fail) -> None:
        township = self.places.township(cells.get("township"))
        if township is None:
            fail(
                "township",
                _("%(field)s: “%(value)s” is not a township of this county.")
                % {"field": LABELS["township"], "value": fold(cells.get("township"))},
            )
            values["township_code"] = values["village_code"] = None
            return
        village = self.places.village(township, cells.get("village"))
        if village is None:
            fail(
                "village",
                _("%(field)s: “%(value)s” is not a village of that township.")
                % {"field": LABELS["village"], "value": fold(cells.get("village"))},
            )
        values["township_code"], values["village_code"] = township, village

    def _household(self, cells, values, fail) -> None:
        head = fold(cells.get("head_name"))
        relation = _word(cells.get("relation_to_head"), RELATION_WORDS)
        if fold(cells.get("relation_to_head")) and relation is None:
            fail(
                "relation_to_head",
                _("%(field)s: write 户主, 配偶, 子女, 父母, 兄弟姐妹, 祖父母, 孙子女, 儿媳, 女婿 or 其他.")
                % {"field": LABELS["relation_to_head"]},
            )
        if relation == "head" and not head:
            head = values.get("name", "")
        if len(head) > NAME_LENGTH:
            fail(
                "head_name",
                _("%(field)s: at most %(count)s characters.")
                % {"field": LABELS["head_name"], "count": NAME_LENGTH},
            )
            head = ""
        if head and not relation:
            fail(
                "relation_to_head",
                _("%(field)s: say how this person is related to the head of the household.")
                % {"field": LABELS["relation_to_head"]},
            )
        values["head_name"], values["relation_to_head"] = head, relation or ""
        if not head:
            return  # a person without a household: registered alone, attached later
        size = fold(cells.get("household_size"))
        values["size"] = number if (number := _number(size)) is not None and 1 <= number <= 30 else None
        if size and values["size"] is None:
            fail(
                "household_size",
                _("%(field)s: write a whole number from 1 to 30.") % {"field": LABELS["household_size"]},
            )
        status = POVERTY_WORDS.get(fold(cells.get("poverty_status")))
        if fold(cells.get("poverty_status")) and status is None:
            fail(
                "poverty_status",
                _("%(field)s: write 未脱贫, 已脱贫, 返贫 or 非建档立卡.")
                % {"field": LABELS["poverty_status"]},
            )
        # A blank cell leaves what is stored alone; a new household starts as 未脱贫 (see _households_for).
        values["poverty_status"] = status
        year = fold(cells.get("exit_year")).removesuffix("年")
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
        dibao = fold(cells.get("is_dibao")).upper()
        if dibao not in YES_WORDS | NO_WORDS:
            fail("is_dibao", _("%(field)s: write 是 or 否.") % {"field": LABELS["is_dibao"]})
        values["is_dibao"] = None if not dibao else dibao in YES_WORDS


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
            numbers = [v["id_number"] for _, v, e in checked if "id_number" in v]
            held = {
                p.id_number: p
                for p in Person.objects.filter(id_number__in=numbers).select_related("household")
            }
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
            return StagedRow(number, "rejected", values=_jsonable(values), errors=errors)
        person = held.get(id_number)
        if person is None:
            return StagedRow(number, "new", values=_jsonable(values))
        if person.county_code != county_code:
            county = names.get(person.county_code, person.county_code)
            return StagedRow(number, "transfer", values=_jsonable(values), target_id=person.pk, note=county)
        changes = _person_changes(person, values)
        outcome = "update" if changes else "unchanged"
        # The version checked against: a clerk's edit between this check and the commit wins.
        values = {**values, "checked_version": person.version}
        return StagedRow(
            number, outcome, values=_jsonable(values), changes=_jsonable(changes), target_id=person.pk
        )

    def commit(self, *, job, actor) -> dict[str, int]:
        rows = job.rows.filter(outcome__in=["new", "update"]).order_by("row_number")
        now = timezone.now()
        with pghistory.context(user=actor.pk, import_job=job.pk), connection.cursor() as cursor:
            # COPY bypasses the statement wrapper that hands the history context (user, import job) to the
            # audit triggers; a statement through Django's cursor sets it for the rest of the transaction.
            cursor.execute("SET LOCAL application_name = 'poverty-relief import'")
            households = _households_for(job, rows, actor, cursor, now)
            new_people, updated, stale = [], 0, 0
            for row in rows.iterator(chunk_size=BATCH):
                household_id = households.get((row.values.get("village_code"), row.values.get("head_name")))
                if row.outcome == "new":
                    new_people.append(_person_line(row.values, household_id, now))
                elif _update_person(row.target_id, job.county_code, row.values, household_id):
                    updated += 1
                else:
                    stale += 1
            created = copy_rows(cursor, Person._meta.db_table, PERSON_COLUMNS, new_people)
        return {"created": created, "updated": updated, "stale": stale}


PERSON_COLUMNS = (
    "county_code township_code village_code name id_number certificate_number gender birth_date "
    "disability_category disability_level household_id relation_to_head phone life_status life_status_reason "
    "version created_at updated_at"
).split()
HOUSEHOLD_COLUMNS = (
    "id county_code township_code village_code head_name size poverty_status exit_year is_dibao is_tekun "
    "main_cause is_active deactivation_reason version created_at updated_at"
).split()
STATUS_COLUMNS = (
    "household_id effective_date poverty_status exit_year is_dibao is_tekun recorded_by_id recorded_at note"
).split()


def _person_line(values: dict[str, Any], household_id: int | None, now) -> tuple:
    return (
        values["county_code"], values["township_code"], values["village_code"], values["name"],
        values["id_number"], values["certificate_number"], values["gender"], values["birth_date"],
        values["disability_category"], values["disability_level"], household_id,
        values["relation_to_head"] if household_id else "", values["phone"], LifeStatus.ACTIVE, "", 1,
        now, now,
    )  # fmt: skip


def _update_person(pk: int, county_code: str, values: dict[str, Any], household_id: int | None) -> bool:
    """Write the row only over the version it was checked against, in the same county; False if the
    person was edited or moved since (the row is then left out and counted)."""
    fields = _given(values)
    if household_id is not None:
        fields.update(household_id=household_id, relation_to_head=values["relation_to_head"])
    return bool(
        Person.objects.filter(pk=pk, county_code=county_code, version=values["checked_version"]).update(
            **fields, version=F("version") + 1, updated_at=timezone.now()
        )
    )


def _households_for(job, rows, actor, cursor, now) -> dict[tuple[str, str], int]:
    """The households the rows name, by village and head: found, brought up to date, or created.
    Returns (village, head) -> household id."""
    wanted: dict[tuple[str, str], dict[str, Any]] = {}
    for values in rows.values_list("values", flat=True).iterator(chunk_size=BATCH):
        if values.get("head_name") and values.get("village_code"):
            wanted.setdefault((values["village_code"], values["head_name"]), values)
    existing = {
        (h.village_code, h.head_name): h
        for h in Household.objects.filter(
            county_code=job.county_code, is_active=True, village_code__in={k[0] for k in wanted}
        )
        if (h.village_code, h.head_name) in wanted
    }
    statuses = []  # (household id, the status it now has)
    for key, household in existing.items():
        if changed := _household_changes(household, wanted[key]):
            Household.objects.filter(pk=household.pk).update(
                **changed, version=F("version") + 1, updated_at=now
            )
            household.refresh_from_db()
            statuses.append(
                (
                    household.pk,
                    household.poverty_status,
                    household.exit_year,
                    household.is_dibao,
                    household.is_tekun,
                )
            )
    fresh = [(key, values) for key, values in wanted.items() if key not in existing]
    ids = next_ids(cursor, Household._meta.db_table, len(fresh))
    lines = []
    for household_id, (_key, values) in zip(ids, fresh, strict=True):
        status = values.get("poverty_status") or PovertyStatus.NOT_OUT
        dibao = bool(values.get("is_dibao"))
        lines.append((
            household_id, job.county_code, values["township_code"], values["village_code"],
            values["head_name"], values.get("size") or 1, status, values.get("exit_year"), dibao, False,
            "disability", True, "", 1, now, now,
        ))  # fmt: skip
        statuses.append((household_id, status, values.get("exit_year"), dibao, False))
    copy_rows(cursor, Household._meta.db_table, HOUSEHOLD_COLUMNS, lines)
    today, note = timezone.localdate(), f"import {job.pk}"
    copy_rows(
        cursor,
        HouseholdStatus._meta.db_table,
        STATUS_COLUMNS,
        (
            (pk, today, status, year, dibao, tekun, actor.pk, now, note)
            for pk, status, year, dibao, tekun in statuses
        ),
    )
    return {
        **{key: h.pk for key, h in existing.items()},
        **{key: i for i, (key, _) in zip(ids, fresh, strict=True)},
    }


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


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in values.items()}


ROSTER = register(RosterKind())
