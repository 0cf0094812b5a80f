#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "poverty_relief.settings")
    if not os.environ.get("DATABASE_URL"):
        # A checkout with nothing configured: the command runs on the local stack, as `make` commands do
        # (its PostgreSQL and Redis reused, or started for the command and stopped after it).
        from poverty_relief.devstack import main

        sys.exit(main(["manage", *sys.argv[1:]]))
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
