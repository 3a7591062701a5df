# Users are listed (and offered as owners) by their shown name in pinyin order (kehu.core.collation).

from django.db import migrations

from kehu.core.collation import backfill, key_field


def fill_keys(apps, schema_editor):
    backfill(apps.get_model("users", "User"), ("display_name", "username"))  # as str(user) shows them


class Migration(migrations.Migration):
    dependencies = [
        ("users", "0004_sales_manager_targets_team_scope"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="name_sort",
            field=key_field("sort key"),
        ),
        migrations.RunPython(fill_keys, migrations.RunPython.noop, elidable=True),
        migrations.AlterModelOptions(
            name="user",
            options={"ordering": ["name_sort", "id"], "verbose_name": "user", "verbose_name_plural": "users"},
        ),
    ]
