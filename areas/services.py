import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction

from .models import PROVINCE_CODE, Area, AreaLevel, prefix_of

FIXTURE_DIR = Path(settings.BASE_DIR) / "fixtures" / "areas"

# Counties that report to the province directly: the 2014 pilot and 南城 after it (DOMAIN.md).
PROVINCE_MANAGED_COUNTIES = frozenset({"360482", "360781", "360981", "360982", "361128", "360829", "361021"})

# In a township code, 400-599 are development zones, farms and the like (NBS 类似乡级单位).
NON_ADMINISTRATIVE_TOWNSHIPS = range(400, 600)

BATCH_SIZE = 5000


@dataclass(frozen=True)
class AreaLoadResult:
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


def _area(code: str, name: str, level: AreaLevel, parent_code: str | None) -> Area:
    return Area(
        code=code,
        name=name,
        level=level,
        parent_id=parent_code,
        prefix=prefix_of(code),
        is_province_managed=level == AreaLevel.COUNTY and code in PROVINCE_MANAGED_COUNTIES,
        is_non_administrative=level == AreaLevel.TOWNSHIP and int(code[6:9]) in NON_ADMINISTRATIVE_TOWNSHIPS,
    )


def _read_tree(directory: Path) -> dict[AreaLevel, list[Area]]:
    counties = list(_rows(directory / "jiangxi_counties.csv"))
    cities = {row["city_code"]: row["city_name"] for row in counties}
    return {
        AreaLevel.PROVINCE: [_area(PROVINCE_CODE, "江西省", AreaLevel.PROVINCE, None)],
        AreaLevel.CITY: [
            _area(code, name, AreaLevel.CITY, PROVINCE_CODE) for code, name in sorted(cities.items())
        ],
        AreaLevel.COUNTY: [_area(r["code"], r["name"], AreaLevel.COUNTY, r["city_code"]) for r in counties],
        AreaLevel.TOWNSHIP: [
            _area(r["code"], r["name"], AreaLevel.TOWNSHIP, r["county_code"])
            for r in _rows(directory / "jiangxi_townships.csv")
        ],
        AreaLevel.VILLAGE: [
            _area(r["code"], r["name"], AreaLevel.VILLAGE, r["township_code"])
            for r in _rows(directory / "jiangxi_villages.csv")
        ],
    }


def _upsert(areas: Iterable[Area]) -> None:
    Area.objects.bulk_create(
        areas,
        batch_size=BATCH_SIZE,
        update_conflicts=True,
        unique_fields=["code"],
        update_fields=["name", "level", "parent", "prefix", "is_province_managed", "is_non_administrative"],
    )


def areas_load(*, directory: Path = FIXTURE_DIR) -> AreaLoadResult:
    """Load (or refresh) the Jiangxi tree in one transaction, parents before children.

    Idempotent: a second run rewrites the same rows. Areas that have left the lists are kept, since
    records and old ID numbers may still name them.
    """
    tree = _read_tree(directory)
    with transaction.atomic():
        for level in AreaLevel:
            _upsert(tree[level])
    return AreaLoadResult(counts={str(level): len(tree[level]) for level in AreaLevel})
