"""Reading uploaded bytes as text: the chosen encoding, or UTF-8 and the Windows-1252/Latin-1
family detected, never mojibake. Pure functions, apart from the parsers so that the rules
for what counts as readable text live in one place."""

from __future__ import annotations

import codecs
import contextlib
import re
from collections.abc import Iterable

from charset_normalizer import from_bytes
from django.utils.translation import gettext as _

# Encodings a coordinator may choose; detection picks among the same.
ENCODINGS = ("utf-8", "cp1252", "latin-1", "iso-8859-15")
DETECTION_CANDIDATES = ["cp1252", "latin_1", "iso8859_15"]
# UTF-8 text of typical French reports: Windows-1252 read as UTF-8 shows these pairs.
_MOJIBAKE = re.compile(
    "Ã[\u0080-\u00bf]|â€[\u0080-\u00bf™œ\u201c\u201d\u2018\u2019\u2013\u2014]|Å“"
)
_C1_CONTROLS = re.compile("[\u0080-\u009f]")
# The C0 controls but tab, line feed and carriage return, and DEL: as bytes, for counting
# them in the upload's bytes, where every accepted encoding has them as in ASCII (one byte
# each; in UTF-8 no byte below 0x80 is part of another character). Counted in the decoded
# text by `re`, they took ~40 ms of a 5 MB upload; `bytes.translate` deletes the others in ~3.
_OTHER_CONTROLS = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_NOT_OTHER_CONTROLS = bytes(byte for byte in range(256) if byte not in _OTHER_CONTROLS)


class TextDecodeError(ValueError):
    """Bytes that are not readable text in any accepted encoding."""


def encoding_check(encoding: str) -> str:
    """The canonical name of a chosen encoding ('' for detection); ValueError otherwise."""
    if not encoding or encoding == "auto":
        return ""
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise ValueError(_("unknown encoding %(encoding)r") % {"encoding": encoding}) from None
    accepted = {codecs.lookup(e).name: e for e in ENCODINGS}
    if name not in accepted:
        raise ValueError(
            _("encoding %(encoding)r is not supported (use %(choices)s)")
            % {"encoding": encoding, "choices": ", ".join(ENCODINGS)}
        )
    return accepted[name]


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def text_decode(data: bytes, *, encoding: str = "") -> tuple[str, str]:
    """Decode `data` as the chosen encoding or, if none, as UTF-8 (with or without BOM) or
    the Windows-1252/Latin-1 family detected with charset-normalizer. Returns (text, name).
    Never returns mojibake: text that decodes but reads as double-encoded is refused."""
    if encoding:
        codec = "utf-8-sig" if encoding == "utf-8" else encoding
        try:
            text = data.decode(codec)
        except UnicodeDecodeError as exc:
            raise TextDecodeError(
                _("not valid %(encoding)s (byte %(byte)d, line %(line)d)")
                % {"encoding": encoding, "byte": exc.start, "line": _line_of(data, exc.start)}
            ) from None
        used = "utf-8-sig" if encoding == "utf-8" and data.startswith(codecs.BOM_UTF8) else encoding
    elif data.startswith(codecs.BOM_UTF8):
        try:
            text, used = data.decode("utf-8-sig"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise TextDecodeError(
                _("starts with a UTF-8 mark but is not valid UTF-8 (line %(line)d)")
                % {"line": _line_of(data, exc.start)}
            ) from None
    else:
        try:
            text, used = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            best = from_bytes(data, cp_isolation=DETECTION_CANDIDATES).best()
            if best is None:
                raise TextDecodeError(
                    _("unreadable encoding: neither UTF-8 nor Windows-1252/Latin-1 text")
                ) from None
            used = codecs.lookup(best.encoding).name
            text = data.decode(used)
            # Bytes 0x80-0x9F are curly quotes and dashes in Windows-1252 but control
            # characters in Latin-1: prefer the reading that gives letters.
            if _C1_CONTROLS.search(text):
                with contextlib.suppress(UnicodeDecodeError):
                    text, used = data.decode("cp1252"), "cp1252"
    # Every accepted codec decodes any byte sequence, so a binary file "succeeds": refuse
    # it here by the control characters no report contains. C1 controls and mojibake are
    # non-ASCII characters: an ASCII text (most English exports) skips those two scans of
    # the whole upload.
    ascii_only = text.isascii()
    if (
        "\x00" in text
        or (not ascii_only and _C1_CONTROLS.search(text))
        or len(data.translate(None, _NOT_OTHER_CONTROLS)) > 2
    ):
        raise TextDecodeError(_("binary data or control characters, not text"))
    mojibake = None if ascii_only else _MOJIBAKE.search(text)
    if mojibake:
        raise TextDecodeError(
            _(
                "looks double-encoded (%(sample)r at line %(line)d): the text was probably "
                "saved as UTF-8 and read as Windows-1252; choose the right encoding or re-export"
            )
            % {"sample": mojibake.group(0), "line": text.count(chr(10), 0, mojibake.start()) + 1}
        )
    return text, used


def encoding_summary(used: Iterable[str]) -> str:
    """One name for the encodings of several files ('mixed: …' when a ZIP holds both)."""
    names = sorted({name for name in used if name})
    return names[0] if len(names) == 1 else ("mixed: " + ", ".join(names) if names else "")
