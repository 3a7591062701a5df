"""Global search: one normalised token document per record, the same hits on PostgreSQL and SQLite.

Each searchable model registers a builder that returns the record's title, subtitle and its tokens per
field. Tokens are made here, in Python, so both databases index exactly the same strings:

- Chinese text (traditional folded to simplified): every character, every adjacent pair, the whole run,
  its full pinyin (``zhangwei``), its syllables and its initials (``zw``);
- Latin text: each lower-cased word and all words joined;
- e-mail: the parts of the local part and domain, and the local part joined (``zhang.wei`` → ``zhangwei``);
- phone (E.164): ``n`` + national number, ``n`` + country code + number, and ``p`` + the last four digits.

PostgreSQL keeps ``array_to_tsvector(string_to_array(document, ' '))`` as a stored ``tsv`` column under a GIN
index (no text parser, so no locale can split a token differently); SQLite keeps an FTS5 table in step by
triggers. A query becomes AND-ed terms, each a few alternatives (exact or prefix), with the same meaning in
tsquery and FTS5. Results are filtered by the gate through owner and team columns copied onto the entry, and a record
found only through a field the user may not read is dropped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection, models
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL

from kehu.core import permissions, registry
from kehu.core.models import SearchEntry

CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
WORD = re.compile(r"[0-9a-z]+")
MAX_RESULTS = 20


@dataclass
class Document:
    title: str
    subtitle: str = ""
    fields: dict[str, set[str]] = field(default_factory=dict)  # field name → tokens

    def tokens(self, exclude: Iterable[str] = ()) -> set[str]:
        skip = set(exclude)
        out: set[str] = set()
        for name, toks in self.fields.items():
            if name not in skip:
                out |= toks
        return out


Builder = Callable[[Any], Document]
_BUILDERS: dict[str, Builder] = {}


def register(key: str, builder: Builder) -> None:
    _BUILDERS[key] = builder


# --------------------------------------------------------------------------- normalising


@lru_cache(maxsize=1)
def _t2s() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").lower()
    if CJK_RUN.search(text):
        text = _t2s().convert(text)
    return text


def _pinyin(run: str) -> tuple[list[str], list[list[str]]]:
    from pypinyin import Style, lazy_pinyin, pinyin

    syllables = [s for s in lazy_pinyin(run, errors="ignore") if s.isascii()]
    # Surnames have readings the phrase dictionary does not pick (曾 zeng, 单 shan): keep every reading of
    # the first character as an alternative.
    first = pinyin(run[0], style=Style.NORMAL, heteronym=True)[0] if run else []
    return syllables, [first]


def text_tokens(text: str) -> set[str]:
    text = normalise(text)
    out: set[str] = set()
    for run in CJK_RUN.findall(text):
        out.add(run)
        out.update(run)
        out.update(run[i : i + 2] for i in range(len(run) - 1))
        syllables, (first_readings,) = _pinyin(run)
        if syllables:
            out.update(syllables)
            out.add("".join(syllables))
            out.add("".join(s[0] for s in syllables))
            for reading in first_readings:
                if reading.isascii() and reading != syllables[0]:
                    alt = [reading, *syllables[1:]]
                    out.add("".join(alt))
                    out.add(reading)
                    out.add("".join(s[0] for s in alt))
    words = WORD.findall(CJK_RUN.sub(" ", text))
    out.update(words)
    if len(words) > 1:
        out.add("".join(words))
    return out


def email_tokens(email: str) -> set[str]:
    email = normalise(email)
    local, _, domain = email.partition("@")
    parts = WORD.findall(local)
    out = set(parts) | set(WORD.findall(domain))
    if parts:
        out.add("".join(parts))
    return out


def phone_tokens(e164: str) -> set[str]:
    digits = re.sub(r"\D", "", e164 or "")
    if not digits:
        return set()
    out = {"n" + digits, "p" + digits[-4:]}
    try:
        import phonenumbers

        num = phonenumbers.parse("+" + digits)
        out.add("n" + str(num.national_number))
    except Exception:  # noqa: BLE001,S110 - a number we cannot parse still has its digits indexed
        pass
    return out


# --------------------------------------------------------------------------- queries


@dataclass(frozen=True)
class Alt:
    token: str
    prefix: bool


PHONE_LIKE = re.compile(r"\+?\d[\d\s\-().]{5,}\d")  # a number as people write it: "+86 138 1234 5678"


def _digits_only(m: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", m.group())
    return f" {digits} " if len(digits) >= 7 else m.group()


def parse(query: str) -> list[list[Alt]]:
    """AND-ed terms, each a list of OR-ed alternatives."""
    text = PHONE_LIKE.sub(_digits_only, normalise(query)[:200])
    terms: list[list[Alt]] = []
    for run in CJK_RUN.findall(text):
        if len(run) == 1:
            terms.append([Alt(run, False)])
        else:
            terms.extend([Alt(run[i : i + 2], False)] for i in range(len(run) - 1))
    for word in WORD.findall(CJK_RUN.sub(" ", text)):
        if word.isdigit():
            # Digits are a phone's last four (exact) or the start of a number (prefix, from five digits on):
            # short prefixes match most of the index and make PostgreSQL abandon it.
            alts = [Alt(word, False)]
            if len(word) == 4:
                alts.append(Alt("p" + word, False))
            elif len(word) >= 5:
                alts.append(Alt("n" + word, True))
            terms.append(alts)
        else:
            terms.append([Alt(word, True)])
    return terms[:12]


def matches(terms: list[list[Alt]], tokens: set[str]) -> bool:
    """The Python reading of a parsed query, used to drop hits that came from a hidden field."""
    for alts in terms:
        if not any((any(t.startswith(a.token) for t in tokens) if a.prefix else a.token in tokens) for a in alts):
            return False
    return True


def _tsquery(terms: list[list[Alt]]) -> str:
    def lexeme(a: Alt) -> str:
        quoted = "'" + a.token.replace("\\", "\\\\").replace("'", "''") + "'"
        return quoted + (":*" if a.prefix else "")

    return " & ".join("(" + " | ".join(lexeme(a) for a in alts) + ")" for alts in terms)


def _fts5(terms: list[list[Alt]]) -> str:
    def phrase(a: Alt) -> str:
        return '"' + a.token.replace('"', '""') + '"' + ("*" if a.prefix else "")

    return " AND ".join("(" + " OR ".join(phrase(a) for a in alts) + ")" for alts in terms)


def match_filter(terms: list[list[Alt]]) -> RawSQL:
    """A WHERE condition on core_searchentry; the SQL text is fixed, the query is a bound parameter."""
    if connection.vendor == "postgresql":
        return RawSQL(
            "core_searchentry.tsv @@ %s::tsquery",
            [_tsquery(terms)],
            output_field=BooleanField(),
        )
    return RawSQL(
        "core_searchentry.id IN (SELECT rowid FROM core_searchentry_fts WHERE core_searchentry_fts MATCH %s)",
        [_fts5(terms)],
        output_field=BooleanField(),
    )


@dataclass
class Hit:
    object_type: registry.ObjectType
    object_id: int
    title: str
    subtitle: str

    @property
    def url(self) -> str:
        from django.urls import reverse

        return reverse(self.object_type.url_name, args=[self.object_id])


def search(user: Any, query: str, *, types: Iterable[str] | None = None, limit: int = MAX_RESULTS) -> list[Hit]:
    terms = parse(query)
    if not terms:
        return []
    wanted = [t for t in registry.all_types() if t.key in _BUILDERS and (types is None or t.key in types)]
    gate = Q(pk__in=[])
    verify: dict[int, registry.ObjectType] = {}
    ct_of: dict[int, registry.ObjectType] = {}
    for ot in wanted:
        pol = permissions.policy(user, ot.key)
        if not pol.can("view"):
            continue
        ct = ContentType.objects.get_for_model(ot.model)
        ct_of[ct.pk] = ot
        gate |= Q(content_type_id=ct.pk) & pol.scope_q("owner", "team")
        if any(not pol.can_read(f) for f in ot.search_fields) or any(f.startswith("cf_") for f in pol.hidden):
            verify[ct.pk] = ot
    if not ct_of:
        return []
    qs = SearchEntry.objects.filter(match_filter(terms)).filter(gate).order_by("-id")
    rows = list(qs.values_list("content_type_id", "object_id", "title", "subtitle")[: limit * 5 if verify else limit])
    if verify:
        rows = _drop_hidden_matches(user, terms, rows, verify)
    return [Hit(ct_of[ct], oid, title, subtitle) for ct, oid, title, subtitle in rows[:limit]]


def _drop_hidden_matches(user: Any, terms: list[list[Alt]], rows: list[tuple], verify: dict) -> list[tuple]:
    keep: set[tuple[int, int]] = set()
    for ct_id, ot in verify.items():
        ids = [oid for ct, oid, *_ in rows if ct == ct_id]
        if not ids:
            continue
        pol = permissions.policy(user, ot.key)
        hidden = [f for f in ot.search_fields if not pol.can_read(f)] + [f for f in pol.hidden if f.startswith("cf_")]
        defs = text_definitions(ot.key)
        for obj in ot.model._default_manager.filter(pk__in=ids):
            if matches(terms, document(obj, defs).tokens(exclude=hidden)):
                keep.add((ct_id, obj.pk))
    return [r for r in rows if r[0] not in verify or (r[0], r[1]) in keep]


# --------------------------------------------------------------------------- indexing


def text_definitions(key: str) -> list[Any]:
    """Custom text fields of a type: their values are searchable too (as fields cf_<name>)."""
    from kehu.core.models import CustomFieldDefinition

    return list(CustomFieldDefinition.objects.filter(object_type=key, type__in=["text", "longtext"]))


def document(obj: models.Model, text_defs: list[Any] | None = None) -> Document:
    key = registry.get(obj).key
    doc = _BUILDERS[key](obj)
    custom = getattr(obj, "custom", None) or {}
    for d in text_defs if text_defs is not None else text_definitions(key):
        value = custom.get(d.name)
        if value:
            doc.fields[d.field_key] = text_tokens(str(value)[:500])
    return doc


def entry_for(obj: models.Model, text_defs: list[Any] | None = None) -> SearchEntry:
    doc = document(obj, text_defs)
    return SearchEntry(
        content_type=ContentType.objects.get_for_model(type(obj)),
        object_id=obj.pk,
        owner_id=getattr(obj, "owner_id", None),
        team_id=getattr(obj, "team_id", None),
        title=doc.title[:200],
        subtitle=doc.subtitle[:300],
        document=" ".join(sorted(doc.tokens())),
    )


def index(obj: models.Model) -> None:
    """Write or refresh the search entry of one record; call inside the service's transaction."""
    e = entry_for(obj)
    SearchEntry.objects.update_or_create(
        content_type=e.content_type,
        object_id=e.object_id,
        defaults={
            "owner_id": e.owner_id,
            "team_id": e.team_id,
            "title": e.title,
            "subtitle": e.subtitle,
            "document": e.document,
        },
    )


def bulk_index(objs: Iterable[models.Model], batch_size: int = 2000) -> int:
    """Insert entries for records that have none yet (the bulk path used by imports and demo data)."""
    objs = list(objs)
    defs = text_definitions(registry.get(objs[0]).key) if objs else []
    entries = [entry_for(o, defs) for o in objs]
    SearchEntry.objects.bulk_create(entries, batch_size=batch_size, ignore_conflicts=True)
    return len(entries)


def unindex(obj: models.Model) -> None:
    SearchEntry.objects.filter(content_type=ContentType.objects.get_for_model(type(obj)), object_id=obj.pk).delete()
