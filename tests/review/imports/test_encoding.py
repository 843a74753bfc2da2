"""Reading uploaded bytes as text (pure functions, no database)."""

import codecs

import pytest

from review.imports.encoding import TextDecodeError, text_decode

FRENCH = (
    "Évolution favorable, l\u2019état s\u2019améliore. Œdème régressif. Cœur régulier à 72/min."
)


def test_text_decode_utf8_with_and_without_bom():
    assert text_decode(FRENCH.encode("utf-8")) == (FRENCH, "utf-8")
    assert text_decode(b"\xef\xbb\xbf" + FRENCH.encode("utf-8")) == (FRENCH, "utf-8-sig")


def test_text_decode_detects_windows_1252_without_mojibake():
    data = FRENCH.encode("cp1252")
    # The curly apostrophe and the ligature only exist in Windows-1252, not in Latin-1.
    assert b"\x92" in data and b"\x9c" in data and b"\xe9" in data
    assert text_decode(data) == (FRENCH, "cp1252")


def test_text_decode_latin1_letters_read_correctly():
    assert text_decode("Fièvre à 39 °C, né à Orléans.".encode("latin-1"))[0] == (
        "Fièvre à 39 °C, né à Orléans."
    )


def test_text_decode_chosen_encoding_refuses_invalid_bytes_with_line():
    with pytest.raises(TextDecodeError, match=r"not valid utf-8 \(byte 8, line 2\)"):
        text_decode(b"ligne 1\n\xe9t\xe9", encoding="utf-8")


def test_text_decode_refuses_double_encoded_text():
    mojibake = "Ã©volution favorable".encode()
    with pytest.raises(TextDecodeError, match="double-encoded"):
        text_decode(mojibake)
    # Choosing Windows-1252 for a UTF-8 file would produce the same garbage: refused too.
    with pytest.raises(TextDecodeError, match="double-encoded"):
        text_decode("évolution".encode(), encoding="cp1252")


def test_text_decode_refuses_binary():
    with pytest.raises(TextDecodeError, match=r"not text|unreadable"):
        text_decode(bytes(range(256)) * 4)


def test_an_ascii_text_can_hold_neither_c1_controls_nor_mojibake():
    # text_decode skips both scans for an ASCII text: no ASCII character opens either.
    from review.imports.encoding import _C1_CONTROLS, _MOJIBAKE

    every_ascii_pair = "".join(chr(a) + chr(b) for a in range(128) for b in range(128))
    assert _C1_CONTROLS.search(every_ascii_pair) is None
    assert _MOJIBAKE.search(every_ascii_pair) is None
    assert text_decode(b"Chest CT: stable nodule.\n") == ("Chest CT: stable nodule.\n", "utf-8")
    # ASCII control characters are still looked for in an ASCII text.
    with pytest.raises(TextDecodeError, match="not text"):
        text_decode(b"Chest CT\x01\x02\x03 stable.")


_CONTROLS_AS_TEXT = "".join(map(chr, [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F]))


@pytest.mark.parametrize("codec", ["utf-8", "utf-8-sig", "cp1252", "latin-1", "iso-8859-15"])
def test_the_controls_are_counted_in_bytes_that_every_accepted_encoding_reads_alike(codec):
    # text_decode counts the control characters in the upload's bytes rather than in its
    # text: in each encoding it reads, a control is one byte, the same code point, and no
    # other byte (nor, in UTF-8, any sequence of them) decodes to one.
    from review.imports.encoding import _OTHER_CONTROLS, DETECTION_CANDIDATES, ENCODINGS

    assert {codecs.lookup(c).name for c in [*ENCODINGS, *DETECTION_CANDIDATES]} <= {
        codecs.lookup(c).name for c in ("utf-8", "cp1252", "latin-1", "iso-8859-15")
    }
    assert bytes(map(ord, _CONTROLS_AS_TEXT)) == _OTHER_CONTROLS
    for byte in range(256):
        try:
            character = bytes([byte]).decode(codec)
        except UnicodeDecodeError:
            continue  # a lone UTF-8 lead or continuation byte: only ever part of a letter
        assert (character in _CONTROLS_AS_TEXT) == (byte in _OTHER_CONTROLS), byte


@pytest.mark.parametrize("encoding", ["", "utf-8", "cp1252", "latin-1", "iso-8859-15"])
def test_two_control_characters_pass_and_three_do_not(encoding):
    two = "Évolution\x01 favorable\x1f, état stable.\n"
    codec = "utf-8" if encoding in ("", "utf-8") else encoding
    assert text_decode(two.encode(codec), encoding=encoding)[0] == two
    with pytest.raises(TextDecodeError, match="not text"):
        text_decode((two + "\x7f").encode(codec), encoding=encoding)
