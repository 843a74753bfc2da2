"""TNM (AJCC/UICC 8th edition) for the sampled sites: parsing, M category, stage groups.

This is the rule engine; the categories each site may be sampled with live in the knowledge
base (generation/data/guidelines/). Stage groups follow the AJCC Cancer Staging Manual, 8th
edition (2017), written as one ordered table per site (`STAGE_TABLES`, first matching row
wins) for the T/N/M categories the sampler uses. Prostate groups use PSA and Grade Group
(prognostic stage groups); oropharynx groups use p16. One deliberate simplification: ypTNM
of the stomach is grouped with the pathological table.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# "cT2aN1bM1c", "pT2N0M0", "ypT3N1M0"; the M category may be written without prefix.
_TNM = re.compile(
    r"^(?P<prefix>c|p|yp|yc)?T(?P<t>is|x|[0-4][a-d]?)\s*"
    r"N(?P<n>x|[0-3][a-c]?)\s*M(?P<m>0|1[a-d]?)$"
)
PREFIXES = ("c", "p", "yp")
ROMAN = {"0": 0, "I": 1, "II": 2, "III": 3, "IV": 4}


class TNMInvalid(ValueError):
    pass


@dataclass(frozen=True)
class TNM:
    prefix: str
    t: str  # "T2a"
    n: str  # "N1b"
    m: str  # "M0", "M1c"

    def __str__(self) -> str:
        return f"{self.prefix}{self.t}{self.n}{self.m}"

    @property
    def metastatic(self) -> bool:
        return self.m.startswith("M1")


def tnm_parse(text: str) -> TNM:
    match = _TNM.match(text.strip())
    if not match:
        raise TNMInvalid(f"{text!r} is not a TNM code such as cT2aN1M0")
    return TNM(
        prefix=match.group("prefix") or "c",
        t="T" + match.group("t"),
        n="N" + match.group("n"),
        m="M" + match.group("m"),
    )


# Prognostic factors written after the categories in a knowledge-base entry
# ("T2bN0M0 PSA<10 GG1"): serum PSA in ng/mL and ISUP Grade Group (AJCC 8th prostate).
PSA_VALUES = ("<10", "10-19", "≥20")
GRADE_GROUPS = ("1", "2", "3", "4", "5")


def tnm_entry_parse(text: str) -> tuple[TNM, dict[str, str]]:
    """Categories and prognostic factors of one entry of a site's TNM table."""
    head, *tokens = text.split()
    parsed = tnm_parse(head)
    factors: dict[str, str] = {}
    for token in tokens:
        if token.startswith("PSA") and token[3:] in PSA_VALUES:
            factors["PSA"] = token[3:]
        elif token.startswith("GG") and token[2:] in GRADE_GROUPS:
            factors["Grade Group"] = token[2:]
        else:
            raise TNMInvalid(
                f"{token!r} in {text!r} is no prognostic factor (PSA<10, PSA10-19, PSA≥20, GG1-GG5)"
            )
    return parsed, factors


def stage_group(stage: str) -> str:
    """'IIIB' -> 'III', 'IVA' -> 'IV', BCLC letters unchanged."""
    match = re.match(r"^(IV|III|II|I|0)", stage)
    return match.group(1) if match else stage


def m_category(
    *, site_letters: dict[str, str], multiple: tuple[str, str] | None, sites: Iterable[str]
) -> str:
    """M category from the metastatic sites: the highest letter, escalated for several organs.

    AJCC 8th: lung M1b (one extrathoracic organ, a single metastasis) becomes M1c with
    several extrathoracic organs; colorectum M1a (one organ) becomes M1b with two or more.
    """
    sites = sorted(set(sites))
    if not sites:
        return "M0"
    letters = [site_letters[s] for s in sites]
    best = max(letters)
    if multiple is not None:
        base, escalated = multiple
        if sum(1 for letter in letters if letter == base) >= 2 and best <= escalated:
            best = escalated
    return best


def _number(category: str) -> int:
    """'T2a' -> 2, 'N1b' -> 1, 'M1c' -> 1; -1 for Tis, Tx, Nx."""
    return int(category[1]) if category[1:2].isdigit() else -1


# Category conditions of a row: an int matches the category number (T2 covers T2a/T2b,
# -1 stands for Tis/Tx/Nx), a string matches that exact category.
Condition = tuple[int | str, ...]
ANY_T_UP_TO_1: Condition = (-1, 0, 1)
ANY_T_UP_TO_2: Condition = (-1, 0, 1, 2)


@dataclass(frozen=True)
class Row:
    """One line of a stage table: every stated condition must hold (empty: any)."""

    stage: str
    t: Condition = ()
    n: Condition = ()
    m: Condition = ()
    # Non-anatomic prognostic factors (p16, PSA, Grade Group): name -> accepted values.
    factors: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def matches(self, tnm: TNM, factors: dict[str, str]) -> bool:
        return (
            _category_in(tnm.t, self.t)
            and _category_in(tnm.n, self.n)
            and _category_in(tnm.m, self.m)
            and all(factors.get(name) in values for name, values in self.factors)
        )


def _category_in(category: str, allowed: Condition) -> bool:
    if not allowed:
        return True
    number = _number(category)
    return any(a == number if isinstance(a, int) else a == category for a in allowed)


M1: Condition = (1,)
P16_POSITIVE = (("p16", ("positive",)),)
GRADE = "Grade Group"


def _grid(t_ranks: dict[str, int], n_ranks: dict[str, int], grid) -> tuple[Row, ...]:
    """A T-by-N grid (rows: T rank, columns: N rank) as table rows."""
    return tuple(
        Row(grid[t_rank][n_rank], t=(t,), n=(n,), m=(0,))
        for t, t_rank in t_ranks.items()
        for n, n_rank in n_ranks.items()
    )


# AJCC Cancer Staging Manual, 8th edition (2017): the first matching row gives the stage.
STAGE_TABLES: dict[str, tuple[Row, ...]] = {
    # Breast, anatomic stage groups.
    "breast": (
        Row("IV", m=M1),
        Row("IIIC", n=(3,)),
        Row("IIIB", t=(4,)),
        Row("IIIA", n=(2,)),
        Row("IIIA", t=(3,), n=(1,)),
        Row("IIB", t=(2,), n=(1,)),
        Row("IIB", t=(3,), n=(0,)),
        Row("IIA", t=ANY_T_UP_TO_1, n=(1,)),
        Row("IIA", t=(2,), n=(0,)),
        Row("IA"),
    ),
    # Lung.
    "lung": (
        Row("IVA", m=("M1a", "M1b")),
        Row("IVB", m=M1),
        Row("IIIB", t=ANY_T_UP_TO_2, n=(3,)),
        Row("IIIC", n=(3,)),
        Row("IIIA", t=ANY_T_UP_TO_2, n=(2,)),
        Row("IIIB", n=(2,)),
        Row("IIB", t=ANY_T_UP_TO_2, n=(1,)),
        Row("IIIA", n=(1,)),
        Row("IIIA", t=(4,)),
        Row("IIB", t=(3,)),
        Row("IIA", t=("T2b",)),
        Row("IB", t=("T2", "T2a")),
        Row("IA1", t=("T1a",)),
        Row("IA2", t=("T1b",)),
        Row("IA3", t=("T1c",)),
        Row("IA"),
    ),
    # Colon and rectum.
    "colorectal": (
        Row("IVA", m=("M1a",)),
        Row("IVB", m=("M1b",)),
        Row("IVC", m=("M1c",)),
        Row("IV", m=M1),
        Row("I", t=ANY_T_UP_TO_2, n=(0,)),
        Row("IIB", t=("T4a",), n=(0,)),
        Row("IIC", t=("T4b",), n=(0,)),
        Row("IIA", n=(0,)),
        Row("IIIC", t=("T4b",)),
        Row("IIIC", t=(3, 4), n=("N2b",)),
        Row("IIIC", t=("T4a",), n=("N2a",)),
        Row("IIIA", t=ANY_T_UP_TO_2, n=(1,)),
        Row("IIIA", t=(1,), n=("N2a",)),
        Row("IIIB"),
    ),
    # Exocrine pancreas.
    "pancreas": (
        Row("IV", m=M1),
        Row("III", t=(4,)),
        Row("III", n=(2,)),
        Row("IIB", n=(1,)),
        Row("IA", t=(1,)),
        Row("IB", t=(2,)),
        Row("IIA", t=(3,)),
    ),
    # Oropharynx: HPV-mediated (p16+) clinical table first, then p16-negative (shared with
    # the oral cavity and larynx groups).
    "head_and_neck": (
        Row("IV", m=M1, factors=P16_POSITIVE),
        Row("III", t=(4,), factors=P16_POSITIVE),
        Row("III", n=(3,), factors=P16_POSITIVE),
        Row("II", n=(2,), factors=P16_POSITIVE),
        Row("II", t=(3,), factors=P16_POSITIVE),
        Row("I", factors=P16_POSITIVE),
        Row("IVC", m=M1),
        Row("IVB", t=("T4b",)),
        Row("IVB", n=(3,)),
        Row("IVA", t=(4,)),
        Row("IVA", n=(2,)),
        Row("III", t=(3,)),
        Row("III", n=(1,)),
        Row("II", t=(2,)),
        Row("I"),
    ),
    # Cutaneous melanoma, pathological stage.
    "melanoma": (
        Row("IV", m=M1),
        Row("III", n=(1, 2, 3)),
        Row("IA", t=("T1a", "T1b")),
        Row("IB", t=("T2a",)),
        Row("IIA", t=("T2b", "T3a")),
        Row("IIB", t=("T3b", "T4a")),
        Row("IIC", t=("T4b",)),
        Row("I"),
    ),
    # Kidney.
    "kidney": (
        Row("IV", m=M1),
        Row("IV", t=(4,)),
        Row("III", t=(3,)),
        Row("III", n=(1,)),
        Row("II", t=(2,)),
        Row("I"),
    ),
    # Urinary bladder.
    "bladder": (
        Row("IVB", m=("M1b",)),
        Row("IVA", m=M1),
        Row("IVA", t=("T4b",)),
        Row("IIIB", n=(2, 3)),
        Row("IIIA", n=(1,)),
        Row("IIIA", t=(3, 4)),
        Row("II", t=(2,)),
        Row("I"),
    ),
    # Prostate, prognostic stage groups: T/N/M with PSA (ng/mL) and ISUP Grade Group. The same
    # table serves clinical (cT1-cT2a-c) and pathological (pT2, not subdivided) categories.
    "prostate": (
        Row("IVB", m=M1),
        Row("IVA", n=(1,)),
        Row("IIIC", factors=((GRADE, ("5",)),)),
        Row("IIIB", t=(3, 4)),
        Row("IIIA", factors=(("PSA", ("≥20",)),)),
        Row("IIC", factors=((GRADE, ("3", "4")),)),
        Row("IIB", factors=((GRADE, ("2",)),)),
        Row("IIA", t=("T2b", "T2c")),
        Row("IIA", factors=(("PSA", ("10-19",)),)),
        Row("I"),
    ),
    # Stomach, clinical (cTNM) groups.
    "stomach": (
        Row("IVB", m=M1),
        Row("IVA", t=("T4b",)),
        Row("I", t=ANY_T_UP_TO_2, n=(0,)),
        Row("IIA", t=ANY_T_UP_TO_2),
        Row("IIB", n=(0,)),
        Row("III"),
    ),
    # Stomach, pathological (pTNM) groups; also used for ypTNM (simplification).
    "stomach/pathological": (
        Row("IV", m=M1),
        *_grid(
            {"T1": 0, "T1a": 0, "T1b": 0, "T2": 1, "T3": 2, "T4": 3, "T4a": 3, "T4b": 4},
            {"N0": 0, "N1": 1, "N2": 2, "N3": 3, "N3a": 3, "N3b": 4},
            (  # T1, T2, T3, T4a, T4b by N0, N1, N2, N3a, N3b
                ("IA", "IB", "IIA", "IIB", "IIIB"),
                ("IB", "IIA", "IIB", "IIIA", "IIIB"),
                ("IIA", "IIB", "IIIA", "IIIB", "IIIC"),
                ("IIB", "IIIA", "IIIA", "IIIB", "IIIC"),
                ("IIIA", "IIIB", "IIIB", "IIIC", "IIIC"),
            ),
        ),
    ),
}
# Sites whose pathological (p, yp) categories have a table of their own.
PATHOLOGICAL_TABLES = {"stomach": "stomach/pathological"}
# Prognostic factors without which a site's stage cannot be grouped (AJCC 8th).
REQUIRED_FACTORS = {"prostate": ("PSA", GRADE)}


# p16-negative N categories to the HPV-mediated (p16+) clinical N (AJCC 8th): ipsilateral
# nodes <= 6 cm are cN1, contralateral/bilateral cN2, > 6 cm cN3.
P16_POSITIVE_N = {"N0": "N0", "N1": "N1", "N2a": "N1", "N2b": "N1", "N2c": "N2", "N3": "N3"}
P16_POSITIVE_N |= {"N3a": "N3", "N3b": "N3"}


def p16_positive_categories(t: str, n: str) -> tuple[str, str]:
    """Restage p16-negative categories with the HPV-mediated table (T4a/T4b -> T4)."""
    return ("T4" if t.startswith("T4") else t), P16_POSITIVE_N[n]


def stage_from_tnm(*, site: str, tnm: TNM, biomarkers: dict[str, str] | None = None) -> str:
    """The AJCC 8th stage (with sub-group) of these categories for this site."""
    key = site
    if tnm.prefix in ("p", "yp"):
        key = PATHOLOGICAL_TABLES.get(site, site)
    table = STAGE_TABLES.get(key)
    if table is None:
        raise TNMInvalid(f"no TNM stage table for site {site!r}")
    factors = biomarkers or {}
    missing = [f for f in REQUIRED_FACTORS.get(site, ()) if f not in factors]
    if missing:
        raise TNMInvalid(f"the {site} stage needs {' and '.join(missing)} (AJCC 8th)")
    for row in table:
        if row.matches(tnm, factors):
            return row.stage
    raise TNMInvalid(f"{tnm} has no stage group for the {site} (AJCC 8th)")


# Categories that do not exist with a given prefix (AJCC 8th): there is no pT1 for the
# prostate (pathological staging starts at pT2, not subdivided).
INVALID_PATHOLOGICAL_T = {"prostate": ("T1", "T2a", "T2b", "T2c")}


def pathological_t(*, site: str, t: str) -> str:
    """The T category as written after surgery (prostate: pT2 for any organ-confined tumour)."""
    if site == "prostate" and (t.startswith("T1") or t.startswith("T2")):
        return "T2"
    return t


def tnm_category_errors(*, site: str, tnm: TNM) -> list[str]:
    errors = []
    if tnm.prefix in ("p", "yp") and tnm.t.startswith(INVALID_PATHOLOGICAL_T.get(site, ())):
        errors.append(f"{tnm.prefix}{tnm.t} does not exist for the {site} (AJCC 8th)")
    if tnm.prefix == "c" and site == "prostate" and tnm.t == "T2":
        errors.append("cT2 of the prostate is subdivided (cT2a/b/c) in the AJCC 8th edition")
    return errors
