"""Domain errors of the registry. Each carries a message for the user (Chinese through the catalogue) and,
where it concerns one field, that field's name; views turn them into form errors, the API into 400/409."""


class RegistryError(Exception):
    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class RecordInvalid(RegistryError):
    """One or more fields are wrong: `errors` maps each field to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        first_field, messages = next(iter(errors.items()))
        super().__init__(messages[0], field=first_field)


class DuplicatePerson(RegistryError):
    """The ID number is already registered; `county_name` says where (and nothing more)."""

    def __init__(self, message: str, *, county_code: str, county_name: str, field: str = "id_number"):
        super().__init__(message, field=field)
        self.county_code = county_code
        self.county_name = county_name


class StaleRecord(RegistryError):
    """Someone else saved the record since it was opened; `changes` lists field -> (yours, theirs)."""

    def __init__(self, message: str, *, current_version: int, changes: dict[str, tuple[object, object]]):
        super().__init__(message)
        self.current_version = current_version
        self.changes = changes


class NotAllowed(RegistryError):
    """The actor may not do this to this record (outside their area, or not their role's to do)."""
