# The audit trail and the import jobs moved to the core app; their tables stay and core takes them over.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('units', '0002_importjob'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name='AuditEntry'),
                migrations.DeleteModel(name='ImportJob'),
            ],
            database_operations=[],
        ),
    ]
