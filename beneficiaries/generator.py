"""A made-up but realistic registry, for demos and benchmarks: households and people in the real townships
and villages of the chosen counties, with valid ID and certificate numbers.

Rows are written with PostgreSQL COPY, one transaction per batch, and with the audit triggers switched
off: generated rows are not in the audit trail (django-pghistory). The same seed gives the same people.
"""

import random
from bisect import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import accumulate
from typing import NamedTuple

import pgtrigger
from django.db import connection, transaction
from django.utils import timezone

from areas.models import Area, AreaLevel
from poverty_relief.db import copy_rows, next_ids

from .models import Household, HouseholdStatus, Person, PovertyCause, PovertyStatus, Relation
from .validation import make_id_number

AUDIT_TRIGGERS = ("beneficiaries.Person:insert_insert", "beneficiaries.Household:insert_insert")

# Ages and statuses are as of the end of the 2014-2020 campaign, not today, so that a seed always gives
# the same registry.
REFERENCE_DATE = date(2020, 1, 1)

# Weighted toward the names most common in Jiangxi (刘 李 王 张 陈 黄 胡 ..., and 钟 and 曾 in the south).
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
    "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_JIANGXI_COMMON = {
    **dict.fromkeys("刘李王张陈黄胡", 5),
    **dict.fromkeys("杨吴罗曾钟徐谢邓邹熊彭朱万余肖付廖周郭", 3),
}
SURNAME_WEIGHTS = tuple(_JIANGXI_COMMON.get(s, 1) for s in SURNAMES)
MALE_NAME_CHARACTERS = "伟强军平明华建国文辉林勇斌海峰龙春金生德福根发荣贵兵水长清志新永庆光红秋良才仁祥"
FEMALE_NAME_CHARACTERS = "秀英兰芳梅华玲珍凤琴桂红丽娟霞燕萍莲娥香云花敏静菊莉美春小金翠月冬艳淑慧婷玉招娣"
PHONE_PREFIXES = (
    "138 139 159 158 150 151 152 135 136 137 187 188 130 131 132 155 156 186 133 153 180 189 177 199".split()
)

# Physical disability is by far the most common, then visual, multiple, intellectual, hearing, mental,
# speech; registered poor households lean to the severe levels.
CATEGORY_WEIGHTS = {4: 42, 1: 14, 7: 12, 5: 10, 2: 9, 6: 8, 3: 5}
LEVEL_WEIGHTS = {1: 18, 2: 32, 3: 28, 4: 22}
MEMBERS_WEIGHTS = {1: 82, 2: 14, 3: 4}  # registered disabled people in one household
SIZE_WEIGHTS = {1: 12, 2: 22, 3: 22, 4: 20, 5: 14, 6: 10}
STATUS_WEIGHTS = {
    PovertyStatus.OUT: 60,
    PovertyStatus.NOT_OUT: 30,
    PovertyStatus.NOT_REGISTERED: 8,
    PovertyStatus.RETURNED: 2,
}
EXIT_YEAR_WEIGHTS = {2014: 8, 2015: 12, 2016: 18, 2017: 22, 2018: 25, 2019: 15}
CAUSE_WEIGHTS = {
    PovertyCause.DISABILITY: 70,
    PovertyCause.ILLNESS: 12,
    PovertyCause.LABOUR: 5,
    PovertyCause.EDUCATION: 3,
    PovertyCause.SKILLS: 3,
    PovertyCause.CAPITAL: 3,
    PovertyCause.DISASTER: 1,
    PovertyCause.TRANSPORT: 1,
    PovertyCause.OTHER: 2,
}
RELATION_WEIGHTS = {
    Relation.SPOUSE: 30,
    Relation.CHILD: 35,
    Relation.PARENT: 15,
    Relation.GRANDCHILD: 6,
    Relation.SIBLING: 5,
    Relation.CHILD_IN_LAW: 3,
    Relation.GRANDPARENT: 2,
    Relation.OTHER: 4,
}
HEAD_AGE_WEIGHTS = {(18, 30): 5, (30, 45): 15, (45, 60): 30, (60, 75): 32, (75, 95): 18}
# A member's age against the head's, in years.
RELATION_AGE_OFFSET = {
    Relation.SPOUSE: (-6, 4),
    Relation.CHILD: (-40, -18),
    Relation.PARENT: (20, 32),
    Relation.GRANDCHILD: (-65, -40),
    Relation.SIBLING: (-12, 12),
    Relation.CHILD_IN_LAW: (-40, -18),
    Relation.GRANDPARENT: (40, 55),
    Relation.OTHER: (-30, 30),
}
MAX_AGE = 98
SHARES_SURNAME = {
    Relation.CHILD,
    Relation.PARENT,
    Relation.GRANDCHILD,
    Relation.SIBLING,
    Relation.GRANDPARENT,
}

# Counties created or merged since 2019: most of their people still carry the code of the one before.
PREDECESSOR_CODES = {"360783": "360727", "361104": "361121", "360113": "360112", "360112": "360105"}
HISTORICAL_CODES = ("360105", "360727", "361121")  # in the 2018 list, withdrawn since


class GeneratorError(Exception):
    """The registry cannot be generated as asked; the message says why."""


@dataclass(frozen=True)
class County:
    code: str
    villages: tuple[tuple[str, str], ...]  # (township code, village code)


class HouseholdRow(NamedTuple):
    county_code: str
    township_code: str
    village_code: str
    head_name: str
    size: int
    poverty_status: str
    exit_year: int | None
    is_dibao: bool
    is_tekun: bool
    main_cause: str
    status_date: date


class PersonRow(NamedTuple):
    name: str
    id_number: str
    certificate_number: str | None
    gender: str
    birth_date: date
    category: int
    level: int
    relation: str
    phone: str


@dataclass(frozen=True)
class GenerateResult:
    people: int
    households: int
    counties: int


class Weighted:
    """A fixed weighted choice, faster than random.choices for millions of draws."""

    def __init__(self, weights: dict):
        self.values = list(weights)
        self.cumulative = list(accumulate(weights.values()))

    def pick(self, rng: random.Random):
        return self.values[bisect(self.cumulative, rng.random() * self.cumulative[-1])]


_SURNAME = Weighted(dict(zip(SURNAMES, SURNAME_WEIGHTS, strict=True)))
_CATEGORY = Weighted(CATEGORY_WEIGHTS)
_LEVEL = Weighted(LEVEL_WEIGHTS)
_MEMBERS = Weighted(MEMBERS_WEIGHTS)
_SIZE = Weighted(SIZE_WEIGHTS)
_STATUS = Weighted(STATUS_WEIGHTS)
_EXIT_YEAR = Weighted(EXIT_YEAR_WEIGHTS)
_CAUSE = Weighted(CAUSE_WEIGHTS)
_RELATION = Weighted(RELATION_WEIGHTS)
_HEAD_AGE = Weighted(HEAD_AGE_WEIGHTS)


class IdNumbers:
    """Unique ID numbers by construction: for each address code and birth date, women take even sequence
    numbers and men odd ones upward from a random even start; a full day moves on to the day before."""

    def __init__(self, rng: random.Random, taken: dict[str, int] | None = None):
        self.rng = rng
        # first 14 characters -> [first sequence, women issued, men issued]
        self.slots: dict[str, list[int]] = {
            prefix: [highest + 1 + (highest + 1) % 2, 0, 0] for prefix, highest in (taken or {}).items()
        }

    def issue(self, address_code: str, birth_date: date, male: bool) -> tuple[str, date]:
        while True:
            prefix = f"{address_code}{birth_date:%Y%m%d}"
            slot = self.slots.get(prefix)
            if slot is None:
                slot = self.slots[prefix] = [2 * self.rng.randrange(300), 0, 0]
            sequence = slot[0] + 2 * slot[1 + male] + male
            if sequence <= 999:
                slot[1 + male] += 1
                return make_id_number(address_code, birth_date, sequence), birth_date
            birth_date = date.fromordinal(birth_date.toordinal() - 1)


class RegistryGenerator:
    def __init__(self, rng: random.Random, counties: Sequence[County], taken: dict[str, int] | None = None):
        self.rng = rng
        # Roughly even, but not identical, so that one county is the most populous.
        self.counties = Weighted({county: rng.uniform(0.8, 1.2) for county in counties})
        self.county_codes = [county.code for county in counties]
        self.ids = IdNumbers(rng, taken)

    def households(self, people: int) -> list[tuple[HouseholdRow, list[PersonRow]]]:
        """Whole households holding exactly `people` registered people."""
        batch: list[tuple[HouseholdRow, list[PersonRow]]] = []
        while people > 0:
            household, members = self.household(limit=people)
            batch.append((household, members))
            people -= len(members)
        return batch

    def household(self, limit: int) -> tuple[HouseholdRow, list[PersonRow]]:
        rng = self.rng
        county: County = self.counties.pick(rng)
        township_code, village_code = rng.choice(county.villages)
        count = min(_MEMBERS.pick(rng), limit)
        size = max(count, _SIZE.pick(rng))
        surname = _SURNAME.pick(rng)
        head_male = rng.random() < 0.8
        head_name = self.name(surname, head_male)
        head_age = self.head_age()
        head_registered = rng.random() < 0.6
        relations = self.relations(count, head_registered, head_age)
        members = [self.person(county.code, surname, head_name, head_male, head_age, r) for r in relations]
        return self.household_row(county.code, township_code, village_code, head_name, size), members

    def household_row(
        self, county_code: str, township_code: str, village_code: str, head_name: str, size: int
    ) -> HouseholdRow:
        rng = self.rng
        status = _STATUS.pick(rng)
        exit_year = _EXIT_YEAR.pick(rng) if status in (PovertyStatus.OUT, PovertyStatus.RETURNED) else None
        if status == PovertyStatus.RETURNED:
            exit_year = min(exit_year, 2018)
            status_date = date(exit_year + 1, rng.randint(1, 12), rng.randint(1, 28))
        elif status == PovertyStatus.OUT:
            # Exits are confirmed over the second half of the year (one draw: the stream stays as it was).
            day = rng.randint(1, 28)
            status_date = date(exit_year, 7 + day % 6, day)
        else:
            status_date = date(2014, rng.randint(4, 12), rng.randint(1, 28))
        # 特困 support is for people living alone with no one to provide for them; 低保 excludes it.
        is_tekun = rng.random() < (0.35 if size == 1 else 0.02)
        is_dibao = not is_tekun and rng.random() < 0.35
        return HouseholdRow(
            county_code,
            township_code,
            village_code,
            head_name,
            size,
            status,
            exit_year,
            is_dibao,
            is_tekun,
            _CAUSE.pick(rng),
            status_date,
        )

    def relations(self, count: int, head_registered: bool, head_age: float) -> list[str]:
        """One spouse at most, and no one whose age against the head's would fall outside 0-98."""
        relations = [Relation.HEAD] if head_registered else []
        while len(relations) < count:
            relation = _RELATION.pick(self.rng)
            low, high = RELATION_AGE_OFFSET[relation]
            possible = head_age + low <= MAX_AGE and head_age + high > 0
            if possible and not (relation == Relation.SPOUSE and relation in relations):
                relations.append(relation)
        return relations

    def person(
        self, county_code: str, surname: str, head_name: str, head_male: bool, head_age: float, relation: str
    ) -> PersonRow:
        rng = self.rng
        if relation == Relation.HEAD:
            male, name, age = head_male, head_name, head_age
        else:
            male = (not head_male) if relation == Relation.SPOUSE else rng.random() < 0.57
            name = self.name(surname if relation in SHARES_SURNAME else _SURNAME.pick(rng), male)
            low, high = RELATION_AGE_OFFSET[relation]
            age = head_age + rng.uniform(max(low, 0.1 - head_age), min(high, MAX_AGE - head_age))
        birth = date.fromordinal(REFERENCE_DATE.toordinal() - int(age * 365.25) - 1)
        id_number, birth = self.ids.issue(self.address_code(county_code), birth, male)
        category, level = _CATEGORY.pick(rng), _LEVEL.pick(rng)
        certificate = f"{id_number}{category}{level}" if rng.random() < 0.97 else None
        phone = f"{rng.choice(PHONE_PREFIXES)}{rng.randrange(10**8):08d}" if rng.random() < 0.85 else ""
        gender = "M" if male else "F"
        return PersonRow(name, id_number, certificate, gender, birth, category, level, relation, phone)

    def name(self, surname: str, male: bool) -> str:
        characters = MALE_NAME_CHARACTERS if male else FEMALE_NAME_CHARACTERS
        length = 2 if self.rng.random() < 0.72 else 1
        return surname + "".join(self.rng.choice(characters) for _ in range(length))

    def head_age(self) -> float:
        low, high = _HEAD_AGE.pick(self.rng)
        return self.rng.uniform(low, high)

    def address_code(self, county_code: str) -> str:
        """Where the ID was first issued: usually the county itself, sometimes another one or an old code."""
        draw = self.rng.random()
        if predecessor := PREDECESSOR_CODES.get(county_code):
            return predecessor if draw < 0.7 else county_code
        if draw < 0.90:
            return county_code
        if draw < 0.97:
            return self.rng.choice(self.county_codes)
        return self.rng.choice(HISTORICAL_CODES)


# --------------------------------------------------------------------------------------------------
# Writing


def load_counties(codes: Iterable[str] | None = None) -> list[County]:
    """The chosen counties (all of them when None) with their villages, from the area tree."""
    counties = Area.objects.filter(level=AreaLevel.COUNTY)
    if codes is not None:
        codes = list(dict.fromkeys(codes))
        counties = counties.filter(code__in=codes)
    found = list(counties.order_by("code").values_list("code", flat=True))
    if codes is not None and (missing := sorted(set(codes) - set(found))):
        raise GeneratorError(f"not a county in the area tree: {', '.join(missing)} (run load_areas first?)")
    if not found:
        raise GeneratorError("the area tree has no counties: run `manage.py load_areas` first")
    villages: dict[str, list[tuple[str, str]]] = {code: [] for code in found}
    rows = Area.objects.filter(level=AreaLevel.VILLAGE).order_by("code").values_list("parent_id", "code")
    for township_code, village_code in rows.iterator(chunk_size=5000):
        if village_code[:6] in villages:
            villages[village_code[:6]].append((township_code, village_code))
    if empty := [code for code, found_villages in villages.items() if not found_villages]:
        raise GeneratorError(f"no villages under county {', '.join(empty)}")
    return [County(code, tuple(villages[code])) for code in found]


def counties_with_people(codes: Iterable[str]) -> list[str]:
    people = Person.objects.filter(county_code__in=list(codes))
    return sorted(people.values_list("county_code", flat=True).distinct())


def taken_sequences() -> dict[str, int]:
    """For --append: the highest sequence number already used for each address code and birth date."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT left(id_number, 14), max(substring(id_number FROM 15 FOR 3)::int) "  # noqa: S608
            f"FROM {Person._meta.db_table} WHERE id_number ~ '^[0-9]{{17}}' GROUP BY 1"
        )
        return dict(cursor.fetchall())


def generate_registry(
    *,
    people: int,
    county_codes: Sequence[str] | None = None,
    seed: int = 1,
    batch: int = 50_000,
    append: bool = False,
    progress=None,
) -> GenerateResult:
    """Generate `people` people into the counties (all when None); refuse counties that have people,
    unless `append`. `progress(done, total)` is called after each batch."""
    if people < 1 or batch < 1:
        raise GeneratorError("--people and --batch must be at least 1")
    counties = load_counties(county_codes)
    if not append and (busy := counties_with_people(c.code for c in counties)):
        raise GeneratorError(
            f"these counties already have people: {', '.join(busy)}; pass --append to add more to them"
        )
    generator = RegistryGenerator(random.Random(seed), counties, taken_sequences() if append else None)
    now = timezone.now()
    done = households = 0
    while done < people:
        rows = generator.households(min(batch, people - done))
        write_batch(rows, now)
        done += sum(len(members) for _, members in rows)
        households += len(rows)
        if progress is not None:
            progress(done, people)
    return GenerateResult(done, households, len(counties))


def write_batch(rows: Sequence[tuple[HouseholdRow, list[PersonRow]]], now: datetime) -> None:
    with transaction.atomic(), pgtrigger.ignore(*AUDIT_TRIGGERS), connection.cursor() as cursor:
        # This statement also carries pgtrigger's "ignore" setting, which lasts to the end of the
        # transaction: COPY bypasses Django's cursor and could not carry it itself.
        ids = next_ids(cursor, Household._meta.db_table, len(rows))
        households = [(i, h) for i, (h, _) in zip(ids, rows, strict=True)]
        people = [(i, h, p) for i, (h, members) in zip(ids, rows, strict=True) for p in members]
        copy_rows(cursor, Household._meta.db_table, HOUSEHOLD_COLUMNS, household_lines(households, now))
        copy_rows(cursor, HouseholdStatus._meta.db_table, STATUS_COLUMNS, status_lines(households, now))
        copy_rows(cursor, Person._meta.db_table, PERSON_COLUMNS, person_lines(people, now))


HOUSEHOLD_COLUMNS = (
    "id county_code township_code village_code head_name size poverty_status exit_year is_dibao is_tekun "
    "main_cause is_active deactivated_at deactivation_reason version created_at updated_at"
).split()
STATUS_COLUMNS = (
    "household_id effective_date poverty_status exit_year is_dibao is_tekun recorded_by_id recorded_at note"
).split()
PERSON_COLUMNS = (
    "county_code township_code village_code name id_number certificate_number gender birth_date "
    "disability_category disability_level relation_to_head phone household_id life_status life_status_date "
    "life_status_reason version created_at updated_at"
).split()


def household_lines(households: Iterable[tuple[int, HouseholdRow]], now: datetime) -> Iterable[tuple]:
    for i, h in households:
        yield (i, *h[:10], True, None, "", 1, now, now)  # all of HouseholdRow but status_date


def status_lines(households: Iterable[tuple[int, HouseholdRow]], now: datetime) -> Iterable[tuple]:
    for i, h in households:
        yield (i, h.status_date, h.poverty_status, h.exit_year, h.is_dibao, h.is_tekun, None, now, "")


def person_lines(people: Iterable[tuple[int, HouseholdRow, PersonRow]], now: datetime) -> Iterable[tuple]:
    for i, h, p in people:
        yield (*h[:3], *p, i, "active", None, "", 1, now, now)
