"""Realistic administrative details drawn with Faker: the one surrogate generator.

Real reports arrive pseudonymized with placeholders ([NOM], <HOPITAL>, [DATE]…) that the
import replaces with surrogates from here; the generation pipeline draws its synthetic
patients, physicians, hospitals and dates from here too. Both arms of a study therefore
carry names and places of the same kind and style, and neither gives itself away.
"""

import datetime as dt
import random
from dataclasses import dataclass

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
        return Person(first_name=first, last_name=self.faker.last_name(), sex=sex)

    def physician(self) -> str:
        person = self.person()
        return f"Dr {person.first_name} {person.last_name}"

    def city(self) -> str:
        return self.faker.city()

    def hospital(self) -> str:
        pattern = self.random.choice(HOSPITAL_PATTERNS[self.language])
        return pattern.format(
            city=self.faker.city(), last=self.faker.last_name(), first=self.faker.first_name()
        )

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

    def last_name(self) -> str:
        return self.faker.last_name()

    def postcode(self) -> str:
        return self.faker.postcode()

    def email(self) -> str:
        return self.faker.free_email()

    def identifier(self, *, digits: int = 8) -> str:
        return "".join(str(self.random.randint(0, 9)) for _ in range(digits))

    def date_anchor(self) -> dt.date:
        """A plausible hospital-stay date for a report whose dates are all placeholders."""
        return self.date_between(dt.date(2015, 1, 1), dt.date(2024, 12, 31))

    def birth_date(self, *, reference: dt.date) -> dt.date:
        age_days = self.random.randint(35 * 365, 88 * 365)
        return reference - dt.timedelta(days=age_days)
