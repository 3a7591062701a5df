"""Made-up people, companies, e-mail addresses and phone numbers, drawn from a seeded random generator.

Every phone number is valid for `phonenumbers` (so the contact service would accept it) and every e-mail
address passes Django's validator.
"""

from __future__ import annotations

import itertools
import random
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers

from kehu.core.demo import names as N

FEMALE_CHARS = set("芳娜敏静丽艳娟霞婷颖琳雪倩欢涵怡琪萱英兰红萍洁芬燕玲瑶彤诗雅欣思雨紫若可心玉秀春")
FEMALE_LATIN = {
    "Mary",
    "Patricia",
    "Jennifer",
    "Linda",
    "Elizabeth",
    "Susan",
    "Jessica",
    "Sarah",
    "Karen",
    "Nancy",
    "Lisa",
    "Emily",
    "Emma",
    "Olivia",
    "Sophia",
    "Anna",
    "Laura",
    "Hannah",
    "Lena",
    "Marie",
    "Camille",
    "Chloé",
    "Léa",
    "Lucía",
    "Sofía",
    "Giulia",
    "Francesca",
    "Yuki",
    "Aiko",
    "Seoyeon",
    "Priya",
    "Ananya",
    "Fatima",
    "Layla",
    "Linh",
    "Siriporn",
    "Sari",
    "Beatriz",
    "Olga",
    "Ingrid",
}
# Mobile prefixes of mainland China's carriers; numbers are checked with phonenumbers before use.
CN_MOBILE_PREFIXES = [
    "130",
    "131",
    "132",
    "133",
    "134",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "176",
    "177",
    "178",
    "180",
    "181",
    "182",
    "183",
    "184",
    "185",
    "186",
    "187",
    "188",
    "189",
    "191",
    "193",
    "195",
    "196",
    "198",
    "199",
]
DOMAIN_TLD = {
    "US": "com",
    "GB": "co.uk",
    "DE": "de",
    "FR": "fr",
    "NL": "nl",
    "IT": "it",
    "ES": "es",
    "JP": "co.jp",
    "KR": "co.kr",
    "SG": "com.sg",
    "MY": "com.my",
    "TH": "co.th",
    "VN": "vn",
    "ID": "co.id",
    "IN": "in",
    "AE": "ae",
    "AU": "com.au",
    "CA": "ca",
    "BR": "com.br",
    "MX": "com.mx",
}
NON_ALNUM = re.compile(r"[^a-z0-9]+")


def _cum(weights: list[int]) -> list[int]:
    return list(itertools.accumulate(weights))


SURNAMES = [s for s, _w in N.SURNAMES]
SURNAME_CUM = _cum([w for _s, w in N.SURNAMES])
GIVEN = [g for g, _w in N.GIVEN_SINGLE]
GIVEN_CUM = _cum([w for _g, w in N.GIVEN_SINGLE])
SUFFIXES = [s for s, _w in N.CN_COMPANY_SUFFIXES]
SUFFIX_CUM = _cum([w for _s, w in N.CN_COMPANY_SUFFIXES])
PROVINCES = N.CN_REGIONS
PROVINCE_CUM = _cum([w for *_r, w in N.CN_REGIONS])
FOREIGN = N.FOREIGN_REGIONS
FOREIGN_CUM = _cum([w for *_r, w in N.FOREIGN_REGIONS])


def pick(rng: random.Random, items: list, cum: list[int]):  # noqa: ANN201 - returns an item of `items`
    return rng.choices(items, cum_weights=cum, k=1)[0]


@lru_cache(maxsize=100_000)
def pinyin(text: str) -> str:
    """Tone-less pinyin run together (张伟 → zhangwei); Latin text is folded to ASCII."""
    from pypinyin import lazy_pinyin

    joined = "".join(lazy_pinyin(text))
    return ascii_fold(joined)


def ascii_fold(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return NON_ALNUM.sub("", plain)


@dataclass(frozen=True)
class Person:
    name: str
    latin: bool
    surname_py: str  # ASCII: pinyin for Chinese names, folded surname for Latin ones
    given_py: str
    gender: str  # "f", "m"


def make_person(rng: random.Random, *, latin: bool = False) -> Person:
    if latin:
        first, last = rng.choice(N.LATIN_FIRST_NAMES), rng.choice(N.LATIN_LAST_NAMES)
        return Person(
            f"{first} {last}", True, ascii_fold(last), ascii_fold(first), "f" if first in FEMALE_LATIN else "m"
        )
    surname = pick(rng, SURNAMES, SURNAME_CUM)
    if rng.random() < 0.45:
        given = pick(rng, GIVEN, GIVEN_CUM)
    else:
        given = rng.choice(N.GIVEN_FIRST) + rng.choice(N.GIVEN_SECOND)
    female = given[-1] in FEMALE_CHARS or (len(given) > 1 and given[0] in FEMALE_CHARS and rng.random() < 0.5)
    return Person(surname + given, False, pinyin(surname), pinyin(given), "f" if female else "m")


def email_local(rng: random.Random, p: Person) -> str:
    r = rng.random()
    if p.latin:
        if r < 0.6:
            return f"{p.given_py}.{p.surname_py}"
        if r < 0.85:
            return f"{p.given_py[:1]}{p.surname_py}"
        return f"{p.given_py}{rng.randint(1, 99)}"
    if r < 0.3:
        return f"{p.surname_py}.{p.given_py}"
    if r < 0.55:
        return f"{p.surname_py}{p.given_py}"
    if r < 0.75:
        return f"{p.given_py}.{p.surname_py}"
    if r < 0.9:
        return f"{p.surname_py}{p.given_py[:1]}{rng.randint(1, 99)}"
    return f"{p.surname_py}_{p.given_py}{rng.randint(70, 99)}"


def personal_email(rng: random.Random, p: Person, *, foreign: bool) -> str:
    if not foreign and not p.latin and rng.random() < 0.35:
        return f"{rng.randint(10_000_000, 2_999_999_999)}@qq.com"
    domains = N.PERSONAL_MAIL_INTL if foreign or p.latin else N.PERSONAL_MAIL_CN
    return f"{email_local(rng, p)}{rng.randint(1, 999) if rng.random() < 0.5 else ''}@{rng.choice(domains)}"


_VALID_PREFIX7: dict[str, bool] = {}


def cn_mobile(rng: random.Random) -> tuple[str, str]:
    """A mobile number of mainland China: (as a person would type it, E.164)."""
    while True:
        digits = rng.choice(CN_MOBILE_PREFIXES) + f"{rng.randrange(100_000_000):08d}"
        key = digits[:7]  # validity depends on the number block, never on the last four digits
        ok = _VALID_PREFIX7.get(key)
        if ok is None:
            ok = _VALID_PREFIX7[key] = phonenumbers.is_valid_number(phonenumbers.parse(digits, "CN"))
        if ok:
            break
    style = rng.random()
    if style < 0.5:
        typed = digits
    elif style < 0.85:
        typed = f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    else:
        typed = f"+86 {digits[:3]}-{digits[3:7]}-{digits[7:]}"
    return typed, "+86" + digits


@lru_cache(maxsize=64)
def _example_mobile(region: str) -> phonenumbers.PhoneNumber | None:
    return phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)


def foreign_mobile(rng: random.Random, region: str) -> tuple[str, str] | None:
    """A valid mobile number of `region` (international format, E.164), or None if none was found."""
    example = _example_mobile(region)
    if example is None:
        return None
    national = str(example.national_number)
    for _attempt in range(8):
        candidate = national[:-4] + f"{rng.randrange(10_000):04d}"
        num = phonenumbers.parse(f"+{example.country_code}{candidate}")
        if phonenumbers.is_valid_number(num):
            return (
                phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.INTERNATIONAL),
                phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164),
            )
    return None


def cn_region(rng: random.Random) -> tuple[str, str]:
    province, cities, _w = pick(rng, PROVINCES, PROVINCE_CUM)
    return province, rng.choice(cities)


def foreign_region(rng: random.Random) -> tuple[str, str, str]:
    country, state, city, _w = pick(rng, FOREIGN, FOREIGN_CUM)
    return country, state, city


@dataclass(frozen=True)
class Company:
    name: str
    domain: str


def cn_company(rng: random.Random, industry: str, city: str) -> Company:
    brand = rng.choice(N.BRAND_FIRST) + rng.choice(N.BRAND_SECOND)
    word = rng.choice(N.INDUSTRY_WORDS.get(industry) or N.INDUSTRY_WORDS["other"])[0]
    suffix = pick(rng, SUFFIXES, SUFFIX_CUM)
    r = rng.random()
    if r < 0.55:
        name = f"{city}{brand}{word}{suffix}"
    elif r < 0.8:
        name = f"{brand}{word}（{city}）{suffix}"
    else:
        name = f"{brand}{word}{suffix}"
    tail = rng.choice(["", "", "group", "tech", str(rng.randint(1, 99))])
    domain = f"{pinyin(brand)}{tail}.{rng.choice(['com', 'com', 'com.cn', 'cn', 'net'])}"
    return Company(name, domain)


def foreign_company(rng: random.Random, industry: str, country: str) -> Company:
    brand = rng.choice(N.LATIN_BRANDS)
    word = rng.choice(N.INDUSTRY_WORDS.get(industry) or N.INDUSTRY_WORDS["other"])[1]
    suffix = rng.choice(N.COMPANY_SUFFIX_BY_COUNTRY.get(country, ["Ltd."]))
    name = f"{suffix} {brand} {word}" if suffix == "PT" else f"{brand} {word} {suffix}"
    domain = f"{ascii_fold(brand)}{ascii_fold(word)[:8]}.{DOMAIN_TLD.get(country, 'com')}"
    return Company(name, domain)
