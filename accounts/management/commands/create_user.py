import getpass

from django.core.management.base import BaseCommand, CommandError

from accounts.models import Role
from accounts.services import AccountError, user_create


class Command(BaseCommand):
    help = "Create a user with a role and an area (the password is asked for unless --password is given)."

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument(
            "--area", required=True, help="Area code, e.g. 360781 for 瑞金市, 360000 for the province."
        )
        parser.add_argument("--name", default="", help="Full name shown in the interface.")
        parser.add_argument("--password", help="Leave out to be asked (keeps it out of shell history).")

    def handle(self, *args, username, role, area, name, password, **options):
        if password is None:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("The two passwords differ.")
        try:
            user = user_create(
                username=username, password=password, role=Role(role), area_code=area, full_name=name
            )
        except AccountError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Created {user.username}: {user.get_role_display()}, {user.area.name} ({user.area.code})."
        )
