"""`python -m kehu.core.schemacheck`: fail (with a diff) if the API no longer matches docs/openapi.yaml.

The committed schema is the API's contract; regenerate it on purpose with `make schema`.
"""

from __future__ import annotations

import difflib
import os
import sys
from pathlib import Path

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"


def generate() -> str:
    from drf_spectacular.renderers import OpenApiYamlRenderer
    from drf_spectacular.settings import spectacular_settings

    # The same generator (always English) and renderer as `kehu spectacular --file docs/openapi.yaml`.
    schema = spectacular_settings.DEFAULT_GENERATOR_CLASS().get_schema(request=None, public=True)
    return OpenApiYamlRenderer().render(schema, renderer_context={}).decode()


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehu.settings")
    import django

    django.setup()
    current = generate()
    committed = COMMITTED.read_text(encoding="utf-8") if COMMITTED.exists() else ""
    if current == committed:
        print("OpenAPI schema matches docs/openapi.yaml.")
        return 0
    diff = difflib.unified_diff(
        committed.splitlines(keepends=True),
        current.splitlines(keepends=True),
        fromfile="docs/openapi.yaml (committed)",
        tofile="docs/openapi.yaml (generated)",
    )
    sys.stdout.writelines(diff)
    print("\nThe API changed: if on purpose, run `make schema` and commit docs/openapi.yaml.", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
