from .households import (
    household_create,
    household_deactivate_page,
    household_detail,
    household_edit,
    household_history,
    household_list,
)
from .people import (
    area_options,
    person_create,
    person_detail,
    person_edit,
    person_history,
    person_list,
    person_live_check,
    person_status,
    person_transfer,
    registry_export,
    registry_home,
)
from .transfers import transfer_answer, transfer_list

__all__ = [
    "area_options", "household_create", "household_deactivate_page", "household_detail", "household_edit",
    "household_history", "household_list", "person_create", "person_detail", "person_edit",
    "person_history", "person_list", "person_live_check", "person_status", "person_transfer",
    "registry_export", "registry_home", "transfer_answer", "transfer_list",
]  # fmt: skip
