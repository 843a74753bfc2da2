"""TNM (AJCC/UICC 8th edition) for the sampled sites: parsing, M category, stage groups.

This is the rule engine; the categories each site may be sampled with live in the knowledge
base (generation/data/guidelines/). Stage groups follow the AJCC Cancer Staging Manual, 8th
edition (2017) anatomic tables, for the T/N/M categories the sampler uses. Two deliberate
simplifications, labelled where they apply: prostate groups ignore PSA and Grade Group
(AJCC 8th uses them), and ypTNM of the stomach is grouped with the pathological table.
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


def _t_num(t: str) -> int:
    return int(t[1]) if t[1:2].isdigit() else -1


def _n_num(n: str) -> int:
    return int(n[1]) if n[1:2].isdigit() else -1


def _breast(t: str, n: str, m: str) -> str:
    # AJCC 8th breast, anatomic stage groups.
    tn, nn = _t_num(t), _n_num(n)
    if m.startswith("M1"):
        return "IV"
    if nn == 3:
        return "IIIC"
    if tn == 4:
        return "IIIB"
    if nn == 2 or (tn == 3 and nn == 1):
        return "IIIA"
    if (tn == 2 and nn == 1) or (tn == 3 and nn == 0):
        return "IIB"
    if (tn <= 1 and nn == 1) or (tn == 2 and nn == 0):
        return "IIA"
    return "IA"


def _lung(t: str, n: str, m: str) -> str:
    # AJCC 8th lung.
    if m in ("M1a", "M1b"):
        return "IVA"
    if m.startswith("M1"):
        return "IVB"
    tn, nn = _t_num(t), _n_num(n)
    if nn == 3:
        return "IIIB" if tn <= 2 else "IIIC"
    if nn == 2:
        return "IIIA" if tn <= 2 else "IIIB"
    if nn == 1:
        return "IIB" if tn <= 2 else "IIIA"
    if tn == 4:
        return "IIIA"
    if tn == 3 or t == "T2b":
        return "IIB" if tn == 3 else "IIA"
    if t in ("T2", "T2a"):
        return "IB"
    return {"T1a": "IA1", "T1b": "IA2", "T1c": "IA3"}.get(t, "IA")


def _colorectal(t: str, n: str, m: str) -> str:
    # AJCC 8th colon and rectum.
    if m.startswith("M1"):
        return {"M1a": "IVA", "M1b": "IVB", "M1c": "IVC"}.get(m, "IV")
    tn, nn = _t_num(t), _n_num(n)
    if nn == 0:
        if tn <= 2:
            return "I"
        return {"T3": "IIA", "T4a": "IIB", "T4b": "IIC"}.get(t, "IIA")
    if t == "T4b" or (n == "N2b" and tn >= 3) or (n == "N2a" and t == "T4a"):
        return "IIIC"
    if (nn == 1 and tn <= 2) or (n == "N2a" and tn == 1):
        return "IIIA"
    return "IIIB"


def _pancreas(t: str, n: str, m: str) -> str:
    # AJCC 8th exocrine pancreas.
    if m.startswith("M1"):
        return "IV"
    tn, nn = _t_num(t), _n_num(n)
    if tn == 4 or nn == 2:
        return "III"
    if nn == 1:
        return "IIB"
    return {1: "IA", 2: "IB", 3: "IIA"}[tn]


def _oropharynx_p16_negative(t: str, n: str, m: str) -> str:
    # AJCC 8th oropharynx, p16-negative (shared with oral cavity/larynx groups).
    if m.startswith("M1"):
        return "IVC"
    tn, nn = _t_num(t), _n_num(n)
    if t == "T4b" or nn == 3:
        return "IVB"
    if tn == 4 or nn == 2:
        return "IVA"
    if tn == 3 or nn == 1:
        return "III"
    return "II" if tn == 2 else "I"


# p16-negative N categories to the HPV-mediated (p16+) clinical N (AJCC 8th): ipsilateral
# nodes <= 6 cm are cN1, contralateral/bilateral cN2, > 6 cm cN3.
P16_POSITIVE_N = {"N0": "N0", "N1": "N1", "N2a": "N1", "N2b": "N1", "N2c": "N2", "N3": "N3"}
P16_POSITIVE_N |= {"N3a": "N3", "N3b": "N3"}


def p16_positive_categories(t: str, n: str) -> tuple[str, str]:
    """Restage p16-negative categories with the HPV-mediated table (T4a/T4b -> T4)."""
    return ("T4" if t.startswith("T4") else t), P16_POSITIVE_N[n]


def _oropharynx_p16_positive(t: str, n: str, m: str) -> str:
    # AJCC 8th HPV-mediated (p16+) oropharyngeal cancer, clinical stage.
    if m.startswith("M1"):
        return "IV"
    tn, nn = _t_num(t), _n_num(n)
    if tn == 4 or nn == 3:
        return "III"
    if nn == 2 or tn == 3:
        return "II"
    return "I"


def _melanoma(t: str, n: str, m: str) -> str:
    # AJCC 8th cutaneous melanoma, pathological stage.
    if m.startswith("M1"):
        return "IV"
    if _n_num(n) >= 1:
        return "III"
    return {
        "T1a": "IA",
        "T1b": "IA",
        "T2a": "IB",
        "T2b": "IIA",
        "T3a": "IIA",
        "T3b": "IIB",
        "T4a": "IIB",
        "T4b": "IIC",
    }.get(t, "I")


def _kidney(t: str, n: str, m: str) -> str:
    # AJCC 8th kidney.
    tn, nn = _t_num(t), _n_num(n)
    if m.startswith("M1") or tn == 4:
        return "IV"
    if tn == 3 or nn == 1:
        return "III"
    return "II" if tn == 2 else "I"


def _bladder(t: str, n: str, m: str) -> str:
    # AJCC 8th urinary bladder.
    if m == "M1b":
        return "IVB"
    if m.startswith("M1") or t == "T4b":
        return "IVA"
    tn, nn = _t_num(t), _n_num(n)
    if nn >= 2:
        return "IIIB"
    if nn == 1 or tn >= 3:
        return "IIIA"
    return "II" if tn == 2 else "I"


def _prostate(t: str, n: str, m: str) -> str:
    # AJCC 8th prostate, simplified: groups also depend on PSA and Grade Group; here PSA < 20
    # and Grade Group <= 4 are assumed, so the group follows T/N/M (an assumption of this base).
    if m.startswith("M1"):
        return "IVB"
    if _n_num(n) == 1:
        return "IVA"
    if t.startswith(("T3", "T4")):
        return "IIIB"
    if t in ("T2b", "T2c"):
        return "II"
    if t == "T2":  # pathological pT2 (organ-confined, not subdivided in the 8th edition)
        return "II"
    return "I"


def _stomach_clinical(t: str, n: str, m: str) -> str:
    # AJCC 8th stomach, clinical (cTNM) groups.
    if m.startswith("M1"):
        return "IVB"
    tn, nn = _t_num(t), _n_num(n)
    if t == "T4b":
        return "IVA"
    if tn <= 2:
        return "I" if nn == 0 else "IIA"
    return "IIB" if nn == 0 else "III"


def _stomach_pathological(t: str, n: str, m: str) -> str:
    # AJCC 8th stomach, pathological (pTNM) groups; also used for ypTNM (simplification).
    if m.startswith("M1"):
        return "IV"
    t_rank = {"T1": 0, "T1a": 0, "T1b": 0, "T2": 1, "T3": 2, "T4": 3, "T4a": 3, "T4b": 4}[t]
    n_rank = {"N0": 0, "N1": 1, "N2": 2, "N3": 3, "N3a": 3, "N3b": 4}[n]
    rows = (  # T1, T2, T3, T4a, T4b by N0, N1, N2, N3a, N3b
        ("IA", "IB", "IIA", "IIB", "IIIB"),
        ("IB", "IIA", "IIB", "IIIA", "IIIB"),
        ("IIA", "IIB", "IIIA", "IIIB", "IIIC"),
        ("IIB", "IIIA", "IIIA", "IIIB", "IIIC"),
        ("IIIA", "IIIB", "IIIB", "IIIC", "IIIC"),
    )
    return rows[t_rank][n_rank]


def stage_from_tnm(*, site: str, tnm: TNM, biomarkers: dict[str, str] | None = None) -> str:
    """The AJCC 8th stage (with sub-group) of these categories for this site."""
    t, n, m = tnm.t, tnm.n, tnm.m
    if site == "breast":
        return _breast(t, n, m)
    if site == "lung":
        return _lung(t, n, m)
    if site == "colorectal":
        return _colorectal(t, n, m)
    if site == "pancreas":
        return _pancreas(t, n, m)
    if site == "head_and_neck":
        if (biomarkers or {}).get("p16") == "positive":
            return _oropharynx_p16_positive(t, n, m)
        return _oropharynx_p16_negative(t, n, m)
    if site == "melanoma":
        return _melanoma(t, n, m)
    if site == "kidney":
        return _kidney(t, n, m)
    if site == "bladder":
        return _bladder(t, n, m)
    if site == "prostate":
        return _prostate(t, n, m)
    if site == "stomach":
        if tnm.prefix in ("p", "yp"):
            return _stomach_pathological(t, n, m)
        return _stomach_clinical(t, n, m)
    raise TNMInvalid(f"no TNM stage table for site {site!r}")


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
