"""Event.txid: the writing transaction's id on PostgreSQL, so the change feed never skips an event whose
transaction commits after a later one's (kehu.core.events.feed).

Adding a nullable column without a default rewrites nothing; the default is then set on its own, so only new
rows get a transaction id (older rows keep NULL, read as 0: they are all committed). The feed's index is built
CONCURRENTLY, which is why this migration is not atomic. SQLite gets the plain column and no default.
"""

from django.db import migrations, models

import kehu.core.models

DEFAULT = "ALTER TABLE core_event ALTER COLUMN txid SET DEFAULT (pg_current_xact_id()::text::bigint)"
INDEX = "CREATE INDEX CONCURRENTLY IF NOT EXISTS event_feed_idx ON core_event ((COALESCE(txid, 0)), id)"
DROP_INDEX = "DROP INDEX CONCURRENTLY IF EXISTS event_feed_idx"
DROP_DEFAULT = "ALTER TABLE core_event ALTER COLUMN txid DROP DEFAULT"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DEFAULT)
        schema_editor.execute(INDEX)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_INDEX)
        schema_editor.execute(DROP_DEFAULT)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("core", "0008_seed_loss_reasons"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AddField(
                    model_name="event",
                    name="txid",
                    field=models.BigIntegerField(blank=True, editable=False, null=True),
                ),
            ],
            state_operations=[
                migrations.AddField(
                    model_name="event",
                    name="txid",
                    field=models.BigIntegerField(
                        blank=True, db_default=kehu.core.models.CurrentTxid(), editable=False, null=True
                    ),
                ),
            ],
        ),
        migrations.RunPython(forwards, backwards),
    ]
