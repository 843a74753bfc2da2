"""One presentation for every report, whatever its source.

Reviewers see real and synthetic reports through this single normaliser: the same
whitespace, the same treatment of Markdown artifacts, the same section headings, and no
model chatter. Anything that differs between sources after this step is the writing itself.
"""

import re
import unicodedata
from dataclasses import dataclass, field

# Section titles of a French compte rendu d'hospitalisation and their English counterparts,
# recognised with or without a trailing colon, in any case.
KNOWN_SECTIONS = (
    "motif d'hospitalisation",
    "motif d’hospitalisation",
    "motif",
    "antécédents",
    "antécédents médicaux",
    "antécédents chirurgicaux",
    "antécédents familiaux",
    "allergies",
    "mode de vie",
    "histoire de la maladie",
    "examen clinique",
    "examen clinique d'entrée",
    "examens complémentaires",
    "évolution",
    "évolution pendant l'hospitalisation",
    "évolution dans le service",
    "conclusion",
    "traitement de sortie",
    "traitement à la sortie",
    "suivi",
    "projet thérapeutique",
    "reason for admission",
    "past medical history",
    "medical history",
    "social history",
    "history of present illness",
    "physical examination",
    "investigations",
    "hospital course",
    "conclusion",
    "discharge medications",
    "discharge treatment",
    "follow-up",
    "plan",
)

CHATTER_PATTERNS = (
    re.compile(r"^(voici|ci-dessous)\b.*(compte[- ]rendu|rapport|courrier).*$", re.IGNORECASE),
    re.compile(r"^here('s| is)\b.*\b(report|letter|summary)\b.*$", re.IGNORECASE),
    re.compile(r"^(bien sûr|certainly|sure)\b.*$", re.IGNORECASE),
    re.compile(
        r"^(n'hésitez pas|je reste à (votre )?disposition pour (modifier|adapter)|"
        r"let me know|i hope this|feel free)\b.*$",
        re.IGNORECASE,
    ),
    re.compile(
        r"^(note|remarque)\s*:.*\b(fictif|fictive|synthétique|synthetic|fictional)\b.*$",
        re.IGNORECASE,
    ),
)

_FENCE = re.compile(r"^\s*```[\w-]*\s*$")
_HEADING_MD = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^\s*(?:[-*•·]|\d+[.)])\s+(.*)$")
_BOLD = re.compile(r"(\*\*|__)(.+?)\1")
_ITALIC = re.compile(r"(?<![\w*])([*_])(?!\s)(.+?)(?<!\s)\1(?![\w*])")
_HR = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$")
_SPACES = re.compile(r"[ \t\u00a0\u202f]+")


@dataclass
class Block:
    kind: str  # "heading", "paragraph" or "list"
    text: str = ""
    items: list[str] = field(default_factory=list)


def normalise_text(text: str) -> str:
    """Canonical plain text: NFC, Unix line endings, single spaces, no Markdown, no chatter."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\ufeff", "").replace("\t", " ")
    lines = []
    for raw in text.split("\n"):
        if _FENCE.match(raw) or _HR.match(raw):
            continue
        line = _SPACES.sub(" ", raw).strip()
        heading = _HEADING_MD.match(line)
        if heading:
            line = heading.group(1).strip()
        line = _BOLD.sub(r"\2", line)
        line = _ITALIC.sub(r"\2", line)
        lines.append(line)
    lines = _strip_chatter(lines)
    # Collapse runs of blank lines to one.
    out: list[str] = []
    for line in lines:
        if line == "" and (not out or out[-1] == ""):
            continue
        out.append(line)
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out)


def _strip_chatter(lines: list[str]) -> list[str]:
    def is_chatter(line: str) -> bool:
        return any(pattern.match(line) for pattern in CHATTER_PATTERNS)

    start, end = 0, len(lines)
    while start < end and (lines[start] == "" or is_chatter(lines[start])):
        start += 1
    while end > start and (lines[end - 1] == "" or is_chatter(lines[end - 1])):
        end -= 1
    return lines[start:end]


def _heading_text(line: str) -> str | None:
    """The heading's title if `line` is a section heading, else None."""
    candidate = line.rstrip(" :").strip()
    if not candidate or len(candidate) > 60:
        return None
    lowered = candidate.lower()
    if lowered in KNOWN_SECTIONS:
        return candidate[0].upper() + candidate[1:].lower()
    letters = [c for c in candidate if c.isalpha()]
    if len(letters) >= 4 and all(c.isupper() for c in letters) and len(candidate.split()) <= 6:
        return candidate[0].upper() + candidate[1:].lower()
    return None


def _split_inline_heading(line: str) -> tuple[str, str] | None:
    """'Conclusion : texte…' → ('Conclusion', 'texte…') when the prefix is a known section."""
    if ":" not in line:
        return None
    head, _sep, rest = line.partition(":")
    title = _heading_text(head)
    if title and head.strip().lower() in KNOWN_SECTIONS and rest.strip():
        return title, rest.strip()
    return None


def report_blocks(text: str) -> list[Block]:
    """The normalised report as headings, paragraphs and lists, for the one template."""
    blocks: list[Block] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append(Block(kind="paragraph", text=" ".join(paragraph)))
            paragraph.clear()

    for line in normalise_text(text).split("\n"):
        if line == "":
            flush()
            continue
        bullet = _BULLET.match(line)
        if bullet:
            flush()
            if blocks and blocks[-1].kind == "list":
                blocks[-1].items.append(bullet.group(1))
            else:
                blocks.append(Block(kind="list", items=[bullet.group(1)]))
            continue
        title = _heading_text(line)
        if title:
            flush()
            blocks.append(Block(kind="heading", text=title))
            continue
        inline = _split_inline_heading(line)
        if inline:
            flush()
            blocks.append(Block(kind="heading", text=inline[0]))
            paragraph.append(inline[1])
            continue
        # A line in a report is usually a sentence or a field ("Poids : 62 kg"); keep the
        # author's line breaks as separate paragraphs rather than reflowing them.
        flush()
        paragraph.append(line)
    flush()
    return blocks
