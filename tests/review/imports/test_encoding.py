"""Reading uploaded bytes as text (pure functions, no database)."""

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
