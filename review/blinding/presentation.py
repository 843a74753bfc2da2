"""One presentation for every report, whatever its source.

Reviewers see real and synthetic reports through this single normaliser: the same
whitespace, the same treatment of Markdown artifacts, the same section headings, and no
model chatter. Anything that differs between sources after this step is the writing itself.

`report_blocks` gives the structure the rating page renders (headings, paragraphs, lists);
`normalise_text` is the same structure as plain text (what the API returns), so both
channels show one canonical form. Every rule applies to both sources alike: a real report
typed with capitalised headings and hard-wrapped lines and a synthetic one written in
Markdown with bold headings end up in the same shape.
"""

import re
import unicodedata
from dataclasses import dataclass, field

from review.blinding.house_style import (
    continues,
    fold,
    line_house_style,
    list_item_house_style,
)
from review.conventions import NO_CONVENTIONS, Conventions

# Section titles of a French compte rendu d'hospitalisation and their English counterparts,
# recognised with or without a trailing colon, in any case.
KNOWN_SECTIONS = frozenset(
    (
        # Document titles: headed in capitals by some writers, not by others.
        "compte rendu d'hospitalisation",
        "compte-rendu d'hospitalisation",
        "compte rendu de consultation",
        "lettre de sortie",
        "courrier de sortie",
        "discharge summary",
        "motif d'hospitalisation",
        "motif d'admission",
        "motif de consultation",
        "motif",
        "antécédents",
        "antécédents médicaux",
        "antécédents chirurgicaux",
        "antécédents médico-chirurgicaux",
        "antécédents familiaux",
        "antécédents personnels",
        "allergies",
        "mode de vie",
        "traitement habituel",
        "traitements habituels",
        "traitement à l'entrée",
        "histoire de la maladie",
        "histoire de la maladie actuelle",
        "examen clinique",
        "examen clinique d'entrée",
        "examen clinique à l'entrée",
        "examens complémentaires",
        "examens biologiques",
        "biologie",
        "imagerie",
        "anatomopathologie",
        "diagnostic",
        "évolution",
        "évolution pendant l'hospitalisation",
        "évolution dans le service",
        "synthèse",
        "au total",
        "conclusion",
        "traitement",
        "traitement de sortie",
        "traitement à la sortie",
        "ordonnance de sortie",
        "conduite à tenir",
        "suivi",
        "devenir",
        "projet thérapeutique",
        "reason for admission",
        "presenting complaint",
        "past medical history",
        "medical history",
        "family history",
        "social history",
        "allergies",
        "medications on admission",
        "history of present illness",
        "physical examination",
        "examination",
        "investigations",
        "laboratory results",
        "imaging",
        "pathology",
        "diagnosis",
        "hospital course",
        "summary",
        "conclusion",
        "discharge medications",
        "discharge treatment",
        "follow-up",
        "plan",
    )
)

# Known headings by their folded form: "ANTECEDENTS" and "Antecedents" (exports that drop
# accents) are shown as "Antécédents", exactly as a report that kept them.
_KNOWN_BY_FOLD = {fold(section): section for section in KNOWN_SECTIONS}

RIGHT_QUOTE = "\u2019"
_APOSTROPHE = "['\u2019]"
CHATTER_PATTERNS = (
    re.compile(
        r"^(bien sûr|voici|ci-dessous)\b.*"
        r"(compte[- ]rendu|rapport|courrier|lettre|document|cr)\b.*$",
        re.IGNORECASE,
    ),
    re.compile(r"^here(" + _APOSTROPHE + r"s| is)\b.*\b(report|letter|summary)\b.*$", re.I),
    re.compile(r"^(bien sûr|certainly|sure|of course|absolument)\b[^.]{0,80}[.!:]?$", re.I),
    re.compile(
        r"^(n" + _APOSTROPHE + r"hésitez pas|je reste à (votre )?disposition pour (le |la |les )?"
        r"(modifier|adapter|compléter|ajuster)|souhaitez-vous|voulez-vous|let me know|"
        r"i hope this|feel free|would you like|do you want)\b.*$",
        re.IGNORECASE,
    ),
    re.compile(
        r"^(\(?(note|remarque|nb|n\.b\.|disclaimer|avertissement)\b).*"
        r"(fictif|fictiv|synthéti|synthetic|fictional|fictitious|inventé|généré|generated).*$",
        re.IGNORECASE,
    ),
    re.compile(
        r"^(ce|cet|this)\b.*\b(compte[- ]rendu|rapport|report|document)\b.*"
        r"\b(fictif|fictive|fictional|fictitious|synthétique|synthetic|généré|generated)\b.*$",
        re.IGNORECASE,
    ),
    re.compile(
        r"^(note|remarque)\s*:.*\b(fictif|fictive|synthétique|synthetic|fictional)\b.*$",
        re.IGNORECASE,
    ),
)

_FENCE = re.compile(r"^\s*(```|~~~)[\w-]*\s*$")
_HEADING_MD = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_WHOLE_BOLD = re.compile(r"^(\*\*|__)(.+?)\1\s*:?\s*$")
_BULLET = re.compile(
    "^\\s*(?:[-*+\u2022\u00b7\u2013\u2014\u25aa\u25e6\u27a2]|" r"\d{1,2}[.)])\s+(.*)$"
)
_NUMBERED_TITLE = re.compile(r"^\s*(?:\d{1,2}|[IVX]{1,4})[.)]\s+(.*)$")
_BOLD = re.compile(r"(\*\*|__)(.+?)\1")
_ITALIC = re.compile(r"(?<![\w*])([*_])(?!\s)(.+?)(?<!\s)\1(?![\w*])")
_CODE = re.compile(r"`([^`]+)`")
_LINK = re.compile(r"\[([^\]\n]+)\]\((?:https?://|/|#)[^)\s]*\)")
_QUOTE = re.compile(r"^\s*>\s?")
_HR = re.compile(r"^\s*([-*_=])(\s*\1){2,}\s*$")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_SPACES = re.compile(r"[ \t\u00a0\u202f\u2007]+")
_OTHER_SPACES = ("\t", "\u00a0", "\u202f", "\u2007")
# Words that open a sentence rather than a section title ("Il présente :").
_LEAD_INS = frozenset(
    (
        *("le", "la", "les", "l'", "un", "une", "des", "il", "elle", "ils", "elles", "on"),
        *("nous", "je", "au", "aux", "du", "de", "patient", "patiente", "monsieur", "madame"),
        *("mme", "m.", "the", "a", "an", "he", "she", "they", "we", "it", "his", "her"),
        *("mr", "mrs"),
    )
)
_SENTENCE_END = re.compile(r"[.:;!?)»\"]$")


@dataclass
class Block:
    kind: str  # "heading", "paragraph" or "list"
    text: str = ""
    items: list[str] = field(default_factory=list)


@dataclass
class _Line:
    text: str
    marked_heading: bool = False  # a Markdown heading or a line in bold alone


def _clean_lines(text: str) -> list[_Line]:
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\ufeff", "").replace("\u200b", "").replace("\t", " ")
    lines: list[_Line] = []
    for raw in text.split("\n"):
        if _FENCE.match(raw) or _HR.match(raw) or _TABLE_RULE.match(raw):
            lines.append(_Line(""))
            continue
        line = _spaces_single(_QUOTE.sub("", raw) if ">" in raw else raw).strip()
        marked = False
        heading = _HEADING_MD.match(line)
        if heading:
            line, marked = heading.group(1).strip(), True
        whole_bold = _WHOLE_BOLD.match(line)
        if whole_bold and len(whole_bold.group(2)) <= 60:
            marked = True
        if line.startswith("|") and line.endswith("|") and line.count("|") >= 2:
            # A Markdown table row: keep the cells as a field line.
            line = " ; ".join(cell.strip() for cell in line.strip("|").split("|") if cell.strip())
        # Each Markdown pattern only where its marks are: a scan of a report's line costs
        # more than the test, and most reports have none.
        if "](" in line:
            line = _LINK.sub(r"\1", line)
        if "`" in line:
            line = _CODE.sub(r"\1", line)
        if "*" in line or "_" in line:
            line = _BOLD.sub(r"\2", line)
            line = _ITALIC.sub(r"\2", line)
        line = line.replace("\\*", "*").replace("\\_", "_").replace("\\#", "#")
        lines.append(_Line(_spaces_single(line).strip(), marked))
    return _strip_chatter(lines)


def _spaces_single(line: str) -> str:
    """`_SPACES.sub(" ", line)`, without the scan when it would change nothing: no two
    spaces in a row and no other character of `_SPACES` (each space is a match)."""
    if "  " not in line and not any(other in line for other in _OTHER_SPACES):
        return line
    return _SPACES.sub(" ", line)


def _is_chatter(line: str) -> bool:
    return any(pattern.match(line) for pattern in CHATTER_PATTERNS)


def _strip_chatter(lines: list[_Line]) -> list[_Line]:
    start, end = 0, len(lines)
    while start < end and (lines[start].text == "" or _is_chatter(lines[start].text)):
        start += 1
    while end > start and (lines[end - 1].text == "" or _is_chatter(lines[end - 1].text)):
        end -= 1
    return lines[start:end]


def _title(candidate: str) -> str:
    return candidate[0].upper() + candidate[1:].lower()


def _heading_text(line: str, *, marked: bool = False) -> str | None:
    """The heading's title if `line` is a section heading, else None."""
    candidate = line.rstrip(" :").strip()
    if not candidate or len(candidate) > 60:
        return None
    numbered = _NUMBERED_TITLE.match(candidate)
    if numbered and fold(numbered.group(1).rstrip(" :")) in _KNOWN_BY_FOLD:
        candidate = numbered.group(1).rstrip(" :")
    known = _KNOWN_BY_FOLD.get(fold(candidate))
    if known is not None:
        return _title(known)
    letters = [c for c in candidate if c.isalpha()]
    # An unknown line in capitals ("CENTRE HOSPITALIER DE BOURGES") is not taken for a
    # heading: set in sentence case it would not be one on a second pass, and the
    # normaliser must be idempotent. It is shown as a paragraph in sentence case.
    # "**Examens biologiques**", "## Bilan", "Examens biologiques :" alone on a line.
    words = candidate.split()
    short = len(words) <= 6 and candidate[0].isupper() and candidate[-1] not in ".;!?,"
    if short and len(letters) >= 3:
        if marked:
            return _title(candidate)
        # "Examens biologiques :" alone on a line, but not "Le patient présente :".
        if line.rstrip().endswith(":") and len(words) <= 4 and words[0].lower() not in _LEAD_INS:
            return _title(candidate)
    return None


def _split_inline_heading(line: str) -> tuple[str, str] | None:
    """'Conclusion : texte…' → ('Conclusion', 'texte…') when the prefix is a known section."""
    if ":" not in line:
        return None
    head, _sep, rest = line.partition(":")
    rest = rest.strip()
    known = _KNOWN_BY_FOLD.get(fold(head.strip()))
    if known is not None and rest:
        return _title(known), rest[0].upper() + rest[1:]
    return None


def _continues(previous: str, line: str) -> bool:
    """A hard-wrapped line (exports from hospital systems often wrap at 70 to 80
    characters): see `review.blinding.house_style.continues`, which also joins a continuation that
    starts with a capital ("traité par\nTamoxifène")."""
    return continues(previous, line)


def report_blocks(
    text: str, *, language: str = "fr", conventions: Conventions = NO_CONVENTIONS
) -> list[Block]:
    """The normalised report as headings, paragraphs and lists, for the one template, in
    the house style of `language` (`review.blinding.house_style`) with the study's
    `conventions` (its corpus's accents and abbreviation forms)."""
    return [_styled(block, language, conventions) for block in _structure(text)]


def _styled(block: Block, language: str, conventions: Conventions) -> Block:
    if block.kind == "paragraph":
        return Block(
            kind="paragraph",
            text=line_house_style(block.text, language=language, conventions=conventions),
        )
    if block.kind == "list":
        items = [
            list_item_house_style(
                line_house_style(item, language=language, conventions=conventions)
            )
            for item in block.items
        ]
        return Block(kind="list", items=items)
    return block


def _structure(text: str) -> list[Block]:
    blocks: list[Block] = []
    after_blank = True
    for entry in _clean_lines(text):
        line = entry.text
        if line == "":
            after_blank = True
            continue
        previous = blocks[-1] if blocks else None
        title = _heading_text(line, marked=entry.marked_heading)
        bullet = _BULLET.match(line)
        if title and (entry.marked_heading or not bullet or title.lower() in KNOWN_SECTIONS):
            blocks.append(Block(kind="heading", text=title))
        elif bullet:
            if previous is not None and previous.kind == "list":
                previous.items.append(bullet.group(1))
            else:
                blocks.append(Block(kind="list", items=[bullet.group(1)]))
        elif (
            not after_blank
            and previous is not None
            and previous.kind == "list"
            and _continues(previous.items[-1], line)
        ):
            previous.items[-1] += " " + line
        elif (
            not after_blank
            and previous is not None
            and previous.kind == "paragraph"
            and _continues(previous.text, line)
        ):
            previous.text += " " + line
        else:
            inline = _split_inline_heading(line)
            if inline:
                blocks.append(Block(kind="heading", text=inline[0]))
                blocks.append(Block(kind="paragraph", text=inline[1]))
            else:
                # A line in a report is usually a sentence or a field ("Poids : 62 kg");
                # keep the author's line breaks rather than reflowing whole paragraphs.
                blocks.append(Block(kind="paragraph", text=line))
        after_blank = False
    return blocks


def blocks_text(blocks: list[Block]) -> str:
    """Plain text of the blocks: a blank line before each heading, bullets as '- '."""
    out: list[str] = []
    for block in blocks:
        if block.kind == "heading":
            if out:
                out.append("")
            out.append(block.text)
        elif block.kind == "list":
            out.extend(f"- {item}" for item in block.items)
        else:
            out.append(block.text)
    return "\n".join(out)


def normalise_text(
    text: str, *, language: str = "fr", conventions: Conventions = NO_CONVENTIONS
) -> str:
    """Canonical plain text: NFC, Unix line endings, single spaces, no Markdown, no chatter,
    headings on their own line, the house style of `language` and the study's
    `conventions`; the same structure the rating page shows."""
    return blocks_text(report_blocks(text, language=language, conventions=conventions))


def section_count(text: str) -> int:
    return sum(1 for block in report_blocks(text) if block.kind == "heading")
