"""Valid registry data for tests: real Jiangxi townships and villages, IDs with the right check digit."""

from datetime import date

from areas.models import Area, AreaLevel
from beneficiaries.validation import make_id_number


def first_village(county_code: str) -> Area:
    return Area.objects.filter(code__startswith=county_code, level=AreaLevel.VILLAGE).order_by("code").first()


def location(county_code: str) -> dict[str, str]:
    village = first_village(county_code)
    return {"county_code": county_code, "township_code": village.parent_id, "village_code": village.code}


def person_data(
    county_code: str = "360781", *, sequence: int = 7, category: int = 4, level: int = 2, **extra
):
    id_number = make_id_number(county_code, date(1975, 3, 14), sequence)
    return {
        "name": "钟秀英",
        "id_number": id_number,
        "certificate_number": f"{id_number}{category}{level}",
        "disability_category": category,
        "disability_level": level,
        "phone": "13907970001",
        **location(county_code),
        **extra,
    }


def household_data(county_code: str = "360781", **extra):
    return {
        "head_name": "钟长生",
        "size": 4,
        "poverty_status": "not_out",
        "exit_year": None,
        "is_dibao": True,
        "is_tekun": False,
        "main_cause": "disability",
        **location(county_code),
        **extra,
    }
