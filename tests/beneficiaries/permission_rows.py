"""Permission-matrix rows for the registry's pages and API (joined in tests/test_permissions.py)."""

from beneficiaries.services import household_register, person_register

from .api_rows import REGISTRY_API
from .factories import household_data, person_data
from .page_rows import REGISTRY_PAGES

__all__ = ["REGISTRY_API", "REGISTRY_PAGES", "registry_objects"]


def registry_objects(cast) -> dict[str, int]:
    """Records the rows' URLs name: one person and one household in 瑞金市 and in 宁都县."""
    return {
        "ruijin_person": person_register(actor=cast["ruijin_clerk"], data=person_data("360781")).pk,
        "ningdu_person": person_register(actor=cast["ningdu_clerk"], data=person_data("360730")).pk,
        "ruijin_household": household_register(actor=cast["ruijin_clerk"], data=household_data("360781")).pk,
        "ningdu_household": household_register(actor=cast["ningdu_clerk"], data=household_data("360730")).pk,
    }
