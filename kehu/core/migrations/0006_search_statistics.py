"""PostgreSQL: a large statistics target on the search column.

With the default target the planner guesses thousands of hits for any token outside the few hundred most
common ones (a phone's last four digits, say), walks the primary key looking for them and takes seconds.
Tracking ten thousand elements lets it see that a rare token has a hundred hits and use the GIN index.
"""

from django.db import migrations


def _run(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("core", "0005_search_tsvector_column")]
    operations = [
        migrations.RunPython(
            _run("ALTER TABLE core_searchentry ALTER COLUMN tsv SET STATISTICS 10000"),
            _run("ALTER TABLE core_searchentry ALTER COLUMN tsv SET STATISTICS -1"),
        )
    ]
