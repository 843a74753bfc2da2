"""Realistic administrative details drawn with Faker: the one surrogate generator.

Real reports arrive pseudonymized with placeholders ([NOM], <HOPITAL>, [DATE]…) that the
import replaces with surrogates from here; the generation pipeline draws its synthetic
patients, physicians, hospitals and dates from here too. Both arms of a study therefore
carry names and places of the same kind and style, and neither gives itself away.
"""

import datetime as dt
import json
import random
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from faker import Faker

LOCALES = {"fr": "fr_FR", "en": "en_US"}

# Hospital name patterns per language; Faker has no hospital provider.
HOSPITAL_PATTERNS = {
    "fr": (
        "Centre hospitalier de {city}",
        "CHU de {city}",
        "Hôpital {last}",
        "Clinique {last}",
        "Centre de lutte contre le cancer de {city}",
    ),
    "en": (
        "{city} General Hospital",
        "{last} Memorial Hospital",
        "{city} University Hospital",
        "St {first}'s Hospital",
        "{city} Cancer Centre",
    ),
}
DEPARTMENTS = {
    "fr": (
        "Service d'oncologie médicale",
        "Service d'oncologie thoracique",
        "Service d'hépato-gastro-entérologie et d'oncologie digestive",
        "Service de sénologie",
        "Service d'hématologie clinique",
        "Service d'urologie",
        "Service d'oncologie radiothérapie",
    ),
    "en": (
        "Department of Medical Oncology",
        "Thoracic Oncology Unit",
        "Gastrointestinal Oncology Unit",
        "Breast Unit",
        "Department of Clinical Haematology",
        "Department of Urology",
        "Radiation Oncology Department",
    ),
}


PLACES_FILE = Path(__file__).parent / "data" / "places.json"


@lru_cache(maxsize=1)
def real_places() -> dict[str, tuple[str, ...]]:
    """Real town names per language. Faker's fr_FR `city()` invents names ("NavarroBourg",
    "Saint DorothéeBourg") that no French physician has ever written: they told the
    source of an imported report at a glance, so places come from a shipped list instead."""
    data = json.loads(PLACES_FILE.read_text(encoding="utf-8"))
    return {language: tuple(entry["name"] for entry in data[language]) for language in LOCALES}


def _elide(preposition: str, name: str) -> str:
    """French elision before a vowel: "de Angers" → "d'Angers"."""
    if preposition.lower() == "de" and name[:1].lower() in "aeiouyéèêâîôh":
        return f"{preposition[0]}'{name}"
    return f"{preposition} {name}"


@dataclass(frozen=True)
class Person:
    first_name: str
    last_name: str
    sex: str  # "F" or "M"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class SurrogateGenerator:
    """Seeded Faker-backed surrogates for one language (fr or en)."""

    def __init__(self, *, language: str = "fr", seed: int | None = None) -> None:
        self.language = language if language in LOCALES else "fr"
        self.faker = Faker(LOCALES[self.language])
        self.random = random.Random(seed)
        if seed is not None:
            self.faker.seed_instance(seed)

    def reseed(self, seed: int) -> None:
        """Restart both random sequences from `seed`: reusing one generator this way is far
        cheaper than building a new Faker for every scenario."""
        self.random.seed(seed)
        self.faker.seed_instance(seed)

    def person(self, *, sex: str | None = None) -> Person:
        sex = sex or self.random.choice("FM")
        first = self.faker.first_name_female() if sex == "F" else self.faker.first_name_male()
        return Person(first_name=first, last_name=self.last_name(avoid=first), sex=sex)

    def physician(self) -> str:
        person = self.person()
        return f"Dr {person.first_name} {person.last_name}"

    def city(self) -> str:
        return self.random.choice(real_places()[self.language])

    def hospital(self) -> str:
        pattern = self.random.choice(HOSPITAL_PATTERNS[self.language])
        city = self.city()
        if self.language == "fr" and "de {city}" in pattern:
            pattern = pattern.replace("de {city}", _elide("de", city))
        return pattern.format(city=city, last=self.faker.last_name(), first=self.faker.first_name())

    def hospital_completion(self, *, prefix: str) -> str:
        """What follows an institution type already written in the text: "CENTRE
        HOSPITALIER <HOPITAL>" needs a town ("CENTRE HOSPITALIER DE BOURGES"), not a second
        hospital name. `prefix` is the text just before the placeholder."""
        city = self.city()
        words = prefix.rstrip().split()
        last = words[-1] if words else ""
        letters = "".join(ch for ch in prefix if ch.isalpha())
        upper = len(letters) > 1 and letters == letters.upper()
        if self.language != "fr":
            value = city
        elif last.lower() in ("de", "du", "d'"):
            value = city  # the preposition is already written
        else:
            value = _elide("de", city)
        return value.upper() if upper else value

    def department(self) -> str:
        return self.random.choice(DEPARTMENTS[self.language])

    def phone(self) -> str:
        return self.faker.phone_number()

    def address(self) -> str:
        return self.faker.street_address()

    def date_between(self, start: dt.date, end: dt.date) -> dt.date:
        days = max((end - start).days, 0)
        return start + dt.timedelta(days=self.random.randint(0, days))

    def date_shift_days(self, *, max_days: int = 365) -> int:
        """A non-zero shift applied to every date of one report (intervals stay true)."""
        shift = 0
        while shift == 0:
            shift = self.random.randint(-max_days, max_days)
        return shift

    def format_date(self, value: dt.date) -> str:
        return value.strftime("%d/%m/%Y" if self.language == "fr" else "%m/%d/%Y")

    # --- used by the import of real reports (placeholders → surrogates) -------------------

    def first_name(self, *, sex: str | None = None) -> str:
        sex = sex or self.random.choice("FM")
        return self.faker.first_name_female() if sex == "F" else self.faker.first_name_male()

    def last_name(self, *, avoid: str = "") -> str:
        """A family name; never `avoid` (Faker has names that are both, and "Dr Gilbert
        Gilbert" reads as a surrogate slip)."""
        name = self.faker.last_name()
        while name.lower() == avoid.lower():
            name = self.faker.last_name()
        return name

    def postcode(self) -> str:
        return self.faker.postcode()

    def email(self) -> str:
        return self.faker.free_email()

    def identifier(self, *, digits: int = 8) -> str:
        return "".join(str(self.random.randint(0, 9)) for _ in range(digits))

    def date_anchor(self) -> dt.date:
        """A plausible hospital-stay date for a report whose dates are all placeholders."""
        return self.date_between(dt.date(2015, 1, 1), dt.date(2024, 12, 31))

    def birth_date(self, *, reference: dt.date, age: int | None = None) -> dt.date:
        """A birth date before `reference`; with a stated `age`, one at which the patient is
        exactly that old on `reference` (a "[DDN]" must agree with "66 ans")."""
        if age is None:
            age_days = self.random.randint(35 * 365, 88 * 365)
            return reference - dt.timedelta(days=age_days)
        latest = years_before(reference, age)  # the birthday falling on the reference day
        earliest = years_before(reference, age + 1) + dt.timedelta(days=1)
        return self.date_between(earliest, latest)


def years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a non-leap year
        return day.replace(year=day.year - years, day=28)


def age_on(birth: dt.date, day: dt.date) -> int:
    """Completed years of age on `day`."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
