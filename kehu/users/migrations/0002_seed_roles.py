from django.db import migrations


def seed(apps, schema_editor):
    from kehu.users.roles import seed_roles

    seed_roles(apps.get_model("users", "Role"), apps.get_model("users", "RolePermission"))


class Migration(migrations.Migration):
    dependencies = [("users", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
