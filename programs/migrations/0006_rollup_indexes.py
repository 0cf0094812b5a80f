"""The index the roll-up's per-village counts read alone (`reporting.services`), built without holding up
the writes to the enrolments meanwhile."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("programs", "0005_standard_history"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="enrollment",
            index=models.Index(
                fields=["village_code", "year", "benefit_type"],
                include=("status", "recipient_unit", "amount"),
                name="enrollment_rollup_idx",
            ),
        ),
    ]
