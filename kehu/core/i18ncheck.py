"""Translation completeness check: `python -m kehu.core.i18ncheck` (part of `make check`).

Extracts every translatable string of the code into a temporary copy of the locale tree (the committed
kehu/locale is never touched) and fails when a string has no Chinese translation yet or only a fuzzy one,
listing each. Needs GNU gettext (xgettext, msgmerge), as Django's makemessages does.
"""

from __future__ import annotations

import ast
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

LANGUAGE = "zh_Hans"
IGNORE = [".venv", "tests", "benchmarks", "node_modules", "locale", "var", "docs", "*.egg-info", ".*"]


@dataclass
class Entry:
    msgid: str
    msgid_plural: str
    msgctxt: str | None
    msgstr: list[str]
    fuzzy: bool
    line: int

    @property
    def label(self) -> str:
        text = self.msgid if self.msgctxt is None else f"{self.msgctxt} | {self.msgid}"
        return text.replace("\n", "\\n")

    @property
    def missing(self) -> bool:
        return not self.msgstr or any(not s for s in self.msgstr)


def _unquote(text: str) -> str:
    value = ast.literal_eval(text.strip())
    return value if isinstance(value, str) else ""


def parse_po(text: str) -> list[Entry]:
    """The entries of a .po file, without the header and without obsolete (#~) entries."""
    entries: list[Entry] = []
    fields: dict[str, str] = {}
    flags: set[str] = set()
    current = ""
    start = 0

    def flush() -> None:
        if "msgid" in fields:
            msgstr = [v for k, v in sorted(fields.items()) if k == "msgstr" or k.startswith("msgstr[")]
            entries.append(
                Entry(
                    fields["msgid"],
                    fields.get("msgid_plural", ""),
                    fields.get("msgctxt"),
                    msgstr,
                    "fuzzy" in flags,
                    start,
                )
            )
        fields.clear()
        flags.clear()

    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        in_msgstr = current.startswith("msgstr")
        if not line:
            continue
        if line.startswith("#~"):  # an obsolete entry: its flags are not the next entry's
            if not fields:
                flags.clear()
            continue
        if line.startswith("#"):
            if in_msgstr:  # comments after a translation begin the next entry
                flush()
                current = ""
            if line.startswith("#,"):
                flags.update(f.strip() for f in line[2:].split(","))
            continue
        if line.startswith('"'):
            if current:
                fields[current] += _unquote(line)
            continue
        key, _sep, rest = line.partition(" ")
        if key in ("msgctxt", "msgid") and in_msgstr:
            flush()
        if not fields:
            start = number
        current = key
        fields[key] = _unquote(rest)
    flush()
    return [e for e in entries if e.msgid]


def problems(po_text: str) -> list[str]:
    out = []
    for e in parse_po(po_text):
        if e.fuzzy:
            out.append(f"fuzzy: {e.label}")
        elif e.missing:
            out.append(f"untranslated: {e.label}")
    return out


@contextmanager
def _cwd(path: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def extract(project_dir: Path, locale_dir: Path, language: str = LANGUAGE, ignore: Sequence[str] = IGNORE) -> str:
    """Run makemessages over `project_dir` into a temporary copy of `locale_dir`; return the merged .po text."""
    from django.core.management import call_command
    from django.test.utils import override_settings

    with tempfile.TemporaryDirectory(prefix="kehu-i18n-") as tmp:
        copy = Path(tmp) / "locale"
        shutil.copytree(locale_dir, copy)
        with override_settings(LOCALE_PATHS=[str(copy)]), _cwd(project_dir):
            call_command(
                "makemessages",
                locale=[language],
                ignore_patterns=list(ignore),
                use_default_ignore_patterns=True,
                verbosity=0,
            )
        return (copy / language / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")


def check(project_dir: Path, locale_dir: Path, language: str = LANGUAGE, ignore: Sequence[str] = IGNORE) -> list[str]:
    """Every problem found: a missing .po file, then each untranslated or fuzzy string."""
    po = locale_dir / language / "LC_MESSAGES" / "django.po"
    if not po.is_file():
        return [f"missing: {po}"]
    if shutil.which("xgettext") is None or shutil.which("msgmerge") is None:
        return ["GNU gettext is not installed (apt-get install gettext): cannot extract the strings"]
    return problems(extract(project_dir, locale_dir, language, ignore))


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehu.settings")
    import django

    django.setup()
    from django.conf import settings

    base = Path(settings.BASE_DIR)
    found = check(base.parent, base / "locale")
    if found:
        print(f"{len(found)} translation problem(s) in {LANGUAGE}:", file=sys.stderr)
        for line in found:
            print(f"  {line}", file=sys.stderr)
        print("Run `make messages`, translate the entries, and remove their fuzzy flags.", file=sys.stderr)
        return 1
    print(f"{LANGUAGE}: every string is translated.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
