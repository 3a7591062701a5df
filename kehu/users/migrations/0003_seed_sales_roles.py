from django.db import migrations


def seed(apps, schema_editor):
    """Grants on the sales, activity and document types for roles seeded before those types existed; an
    administrator's own changes to existing grants are kept."""
    from kehu.users.roles import seed_roles

    seed_roles(apps.get_model("users", "Role"), apps.get_model("users", "RolePermission"))


class Migration(migrations.Migration):
    dependencies = [("users", "0002_seed_roles")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
