import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext

from areas.models import Area, AreaLevel, ancestor_code, level_of, prefix_of
from areas.selectors import area_children_with_counts
from areas.services import areas_load

pytestmark = pytest.mark.django_db


def test_the_whole_tree_is_loaded():
    counts = {row["level"]: row["n"] for row in Area.objects.values("level").annotate(n=Count("code"))}
    assert counts == {"province": 1, "city": 11, "county": 100, "township": 1767, "village": 22080}
    assert Area.objects.get(code="360000").name == "江西省"


def test_every_area_but_the_province_hangs_under_its_prefix():
    orphans = [
        a.code
        for a in Area.objects.exclude(level=AreaLevel.PROVINCE).select_related("parent")
        if a.parent is None or not a.code.startswith(a.parent.prefix)
    ]
    assert orphans == []


def test_cities_are_the_eleven_of_jiangxi():
    names = list(Area.objects.filter(level=AreaLevel.CITY).values_list("name", flat=True))
    assert names == [
        "南昌市",
        "景德镇市",
        "萍乡市",
        "九江市",
        "新余市",
        "鹰潭市",
        "赣州市",
        "吉安市",
        "宜春市",
        "抚州市",
        "上饶市",
    ]


def test_province_managed_counties_are_flagged():
    flagged = set(Area.objects.filter(is_province_managed=True).values_list("name", flat=True))
    assert flagged == {"共青城市", "瑞金市", "丰城市", "樟树市", "鄱阳县", "安福县", "南城县"}
    # a flag, not a different parent: 瑞金 stays under 赣州
    assert Area.objects.get(code="360781").parent_id == "360700"


def test_townships_400_to_599_are_non_administrative():
    flagged = Area.objects.filter(is_non_administrative=True)
    assert flagged.count() == 187
    assert all(400 <= int(code[6:9]) <= 599 for code in flagged.values_list("code", flat=True))
    assert not Area.objects.filter(
        level=AreaLevel.TOWNSHIP, is_non_administrative=False, code__regex=r"^\d{6}[45]\d\d$"
    ).exists()
    assert not Area.objects.exclude(level=AreaLevel.TOWNSHIP).filter(is_non_administrative=True).exists()


def test_everything_under_an_area_is_a_prefix_query():
    ganzhou = Area.objects.get(code="360700")
    with CaptureQueriesContext(connection) as queries:
        subtree = set(Area.objects.subtree(ganzhou).values_list("code", flat=True))
    assert len(queries) == 1
    assert "LIKE" in queries[0]["sql"]
    assert {"360700", "360781", "360730"} <= subtree
    assert "360121" not in subtree
    assert all(code.startswith("3607") for code in subtree)
    ruijin_villages = Area.objects.subtree(Area.objects.get(code="360781")).filter(level=AreaLevel.VILLAGE)
    assert ruijin_villages.exists()
    assert all(v.startswith("360781") for v in ruijin_villages.values_list("code", flat=True))


def test_prefix_lookup_uses_the_pattern_index():
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("EXPLAIN SELECT code FROM areas_area WHERE code LIKE '360781%%'")
        plan = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute("RESET enable_seqscan")
    assert "area_code_prefix_idx" in plan


def test_loading_again_changes_nothing():
    before = list(
        Area.objects.order_by("code").values_list(
            "code", "name", "parent_id", "prefix", "is_province_managed"
        )
    )
    result = areas_load()
    after = list(
        Area.objects.order_by("code").values_list(
            "code", "name", "parent_id", "prefix", "is_province_managed"
        )
    )
    assert result.total == 23959
    assert before == after


@pytest.mark.parametrize(
    ("code", "level", "prefix"),
    [
        ("360000", AreaLevel.PROVINCE, "36"),
        ("360700", AreaLevel.CITY, "3607"),
        ("360781", AreaLevel.COUNTY, "360781"),
        ("360781100", AreaLevel.TOWNSHIP, "360781100"),
        ("360781100201", AreaLevel.VILLAGE, "360781100201"),
    ],
)
def test_level_and_prefix_of_codes(code, level, prefix):
    assert level_of(code) == level
    assert prefix_of(code) == prefix


def test_ancestor_codes():
    assert ancestor_code("360781100201", AreaLevel.PROVINCE) == "360000"
    assert ancestor_code("360781100201", AreaLevel.CITY) == "360700"
    assert ancestor_code("360781100201", AreaLevel.COUNTY) == "360781"
    assert ancestor_code("360781100201", AreaLevel.TOWNSHIP) == "360781100"
    village = Area.objects.filter(code__startswith="360781", level=AreaLevel.VILLAGE).first()
    assert [a.level for a in village.ancestors()] == ["province", "city", "county", "township"]


def test_level_of_refuses_other_lengths():
    with pytest.raises(ValueError):
        level_of("3607")


def test_children_with_counts_matches_direct_counts():
    ganzhou = Area.objects.get(code="360700")
    with CaptureQueriesContext(connection) as queries:
        rows = area_children_with_counts(ganzhou)
    assert len(queries) == 2
    for county, counts in rows:
        assert counts.get("township", 0) == Area.objects.filter(parent=county).count()
        assert counts.get("village", 0) == Area.objects.filter(parent__parent=county).count()
