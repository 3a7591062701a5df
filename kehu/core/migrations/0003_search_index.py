"""The search index: GIN over the token array on PostgreSQL, an FTS5 table kept by triggers on SQLite.

Both index the same space-separated tokens (kehu.core.search), so both return the same hits.
"""

from django.db import migrations

PG_FORWARD = [
    "CREATE INDEX searchentry_tokens_gin ON core_searchentry "
    "USING gin (array_to_tsvector(string_to_array(document, ' ')))",
    "CREATE INDEX searchentry_gate_idx ON core_searchentry (content_type_id, owner_id, team_id)",
]
PG_BACKWARD = ["DROP INDEX IF EXISTS searchentry_tokens_gin", "DROP INDEX IF EXISTS searchentry_gate_idx"]

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE core_searchentry_fts USING fts5("
    "document, content='core_searchentry', content_rowid='id', tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER core_searchentry_ai AFTER INSERT ON core_searchentry BEGIN "
    "INSERT INTO core_searchentry_fts(rowid, document) VALUES (new.id, new.document); END",
    "CREATE TRIGGER core_searchentry_ad AFTER DELETE ON core_searchentry BEGIN "
    "INSERT INTO core_searchentry_fts(core_searchentry_fts, rowid, document) VALUES ('delete', old.id, old.document); "
    "END",
    "CREATE TRIGGER core_searchentry_au AFTER UPDATE ON core_searchentry BEGIN "
    "INSERT INTO core_searchentry_fts(core_searchentry_fts, rowid, document) VALUES ('delete', old.id, old.document); "
    "INSERT INTO core_searchentry_fts(rowid, document) VALUES (new.id, new.document); END",
    "CREATE INDEX searchentry_gate_idx ON core_searchentry (content_type_id, owner_id, team_id)",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS core_searchentry_ai",
    "DROP TRIGGER IF EXISTS core_searchentry_ad",
    "DROP TRIGGER IF EXISTS core_searchentry_au",
    "DROP TABLE IF EXISTS core_searchentry_fts",
    "DROP INDEX IF EXISTS searchentry_gate_idx",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("core", "0002_initial")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": PG_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": PG_BACKWARD, "sqlite": SQLITE_BACKWARD}),
        )
    ]
