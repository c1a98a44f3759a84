"""Bytes (+ HTTP headers) -> text, the way a careful browser would, tuned for Arabic news.

Order of evidence for HTML (:func:`decode_html`):

1. a byte-order mark (UTF-8, UTF-16LE/BE).  The WHATWG decode algorithm lets a BOM override the
   HTTP header, and so do we: a BOM is physical evidence, a header is a claim;
2. the HTTP ``Content-Type`` charset;
3. ``<meta charset>``, ``<meta http-equiv="Content-Type" content="...; charset=...">`` or an XML
   declaration ``encoding="..."`` in the first :data:`META_SCAN_BYTES` bytes (comments skipped);
4. detection: strict UTF-8, then an Arabic-aware comparison of the legacy Arabic code pages
   (windows-1256, ISO-8859-6, cp720), then charset-normalizer.

Declared labels are mapped through the WHATWG Encoding Standard's label table (so ``iso-8859-1``,
``latin1`` and ``ascii`` mean windows-1252, ``x-cp1256`` means windows-1256, ...); an unknown
label is ignored and the next kind of evidence is used.  A declaration is checked against the
bytes before it is believed:

* bytes that are valid UTF-8 (and not plain ASCII) declared as anything else are UTF-8: servers
  and templates that still say ``windows-1256`` or ``iso-8859-1`` for UTF-8 pages are common on
  Arabic sites, while legacy Arabic text is practically never valid UTF-8 by accident;
* a declaration that cannot decode the bytes (more than a handful of invalid sequences) is
  skipped;
* a ``windows-1252`` declaration (what the ``iso-8859-1`` server default turns into) loses to a
  strongly evidenced Arabic reading: no Arabic outlet publishes Arabic in a Latin code page.

Bytes that are UTF-8 but for a few stray invalid bytes (at most one in :data:`STRAY_PER_BYTES`,
every other sequence valid and real multi-byte characters around them) are UTF-8 with the strays
replaced by U+FFFD: real sites serve such pages (a truncated string pasted into a template), and
refusing the whole page, or reading it in a legacy code page, loses it.  Every result says how
many characters were replaced (:attr:`Decoded.replaced`).

A result whose text is mostly control characters, NULs or U+FFFD is refused with
:class:`DecodeError`; a page is never silently replaced with U+FFFD.
"""
from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from dataclasses import dataclass

from charset_normalizer import from_bytes
from crawler.core.errors import DecodeError
from crawler.core.lexicon import DEFINITE_ARTICLE, FUNCTION_WORDS, SHARED_FUNCTION_WORDS

__all__ = ["DecodeError", "Decoded", "decode_html", "decode_text", "lookup_label", "META_SCAN_BYTES"]

META_SCAN_BYTES = 8192
"""How far into the document to look for a ``<meta>`` charset.  WHATWG scans 1024 bytes, but
real Arabic pages often put scripts and styles before the meta tag; browsers look further too."""


@dataclass(frozen=True)
class Decoded:
    """Decoded text, the encoding used (a name Python's codecs accept) and where it came from.

    ``source`` is one of ``'http'``, ``'bom'``, ``'meta'``, ``'detected'``, ``'default'``
    (``'default'``: pure ASCII with no declaration, reported as UTF-8).  ``replaced`` is how many
    U+FFFD characters decoding put in for bytes the encoding could not read.
    """

    text: str
    encoding: str
    source: str
    replaced: int = 0


# --- WHATWG labels --------------------------------------------------------------------------

# Encoding Standard (encoding.spec.whatwg.org), "Encodings" table: name -> labels.
_WHATWG_LABELS: dict[str, tuple[str, ...]] = {
    "utf-8": ("unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "utf-8", "utf8", "x-unicode20utf8"),
    "ibm866": ("866", "cp866", "csibm866", "ibm866"),
    "iso-8859-2": ("csisolatin2", "iso-8859-2", "iso-ir-101", "iso8859-2", "iso88592", "iso_8859-2",
                   "iso_8859-2:1987", "l2", "latin2"),
    "iso-8859-3": ("csisolatin3", "iso-8859-3", "iso-ir-109", "iso8859-3", "iso88593", "iso_8859-3",
                   "iso_8859-3:1988", "l3", "latin3"),
    "iso-8859-4": ("csisolatin4", "iso-8859-4", "iso-ir-110", "iso8859-4", "iso88594", "iso_8859-4",
                   "iso_8859-4:1988", "l4", "latin4"),
    "iso-8859-5": ("csisolatincyrillic", "cyrillic", "iso-8859-5", "iso-ir-144", "iso8859-5", "iso88595",
                   "iso_8859-5", "iso_8859-5:1988"),
    "iso-8859-6": ("arabic", "asmo-708", "csiso88596e", "csiso88596i", "csisolatinarabic", "ecma-114",
                   "iso-8859-6", "iso-8859-6-e", "iso-8859-6-i", "iso-ir-127", "iso8859-6", "iso88596",
                   "iso_8859-6", "iso_8859-6:1987"),
    "iso-8859-7": ("csisolatingreek", "ecma-118", "elot_928", "greek", "greek8", "iso-8859-7", "iso-ir-126",
                   "iso8859-7", "iso88597", "iso_8859-7", "iso_8859-7:1987", "sun_eu_greek"),
    "iso-8859-8": ("csiso88598e", "csisolatinhebrew", "hebrew", "iso-8859-8", "iso-8859-8-e", "iso-ir-138",
                   "iso8859-8", "iso88598", "iso_8859-8", "iso_8859-8:1988", "visual",
                   "csiso88598i", "iso-8859-8-i", "logical"),
    "iso-8859-10": ("csisolatin6", "iso-8859-10", "iso-ir-157", "iso8859-10", "iso885910", "l6", "latin6"),
    "iso-8859-13": ("iso-8859-13", "iso8859-13", "iso885913"),
    "iso-8859-14": ("iso-8859-14", "iso8859-14", "iso885914"),
    "iso-8859-15": ("csisolatin9", "iso-8859-15", "iso8859-15", "iso885915", "iso_8859-15", "l9"),
    "iso-8859-16": ("iso-8859-16",),
    "koi8-r": ("cskoi8r", "koi", "koi8", "koi8-r", "koi8_r"),
    "koi8-u": ("koi8-ru", "koi8-u"),
    "mac-roman": ("csmacintosh", "mac", "macintosh", "x-mac-roman"),
    "cp874": ("dos-874", "iso-8859-11", "iso8859-11", "iso885911", "tis-620", "windows-874"),
    "windows-1250": ("cp1250", "windows-1250", "x-cp1250"),
    "windows-1251": ("cp1251", "windows-1251", "x-cp1251"),
    "windows-1252": ("ansi_x3.4-1968", "ascii", "cp1252", "cp819", "csisolatin1", "ibm819", "iso-8859-1",
                     "iso-ir-100", "iso8859-1", "iso88591", "iso_8859-1", "iso_8859-1:1987", "l1", "latin1",
                     "us-ascii", "windows-1252", "x-cp1252", "x-user-defined"),
    "windows-1253": ("cp1253", "windows-1253", "x-cp1253"),
    "windows-1254": ("cp1254", "csisolatin5", "iso-8859-9", "iso-ir-148", "iso8859-9", "iso88599",
                     "iso_8859-9", "iso_8859-9:1989", "l5", "latin5", "windows-1254", "x-cp1254"),
    "windows-1255": ("cp1255", "windows-1255", "x-cp1255"),
    "windows-1256": ("cp1256", "windows-1256", "x-cp1256"),
    "windows-1257": ("cp1257", "windows-1257", "x-cp1257"),
    "windows-1258": ("cp1258", "windows-1258", "x-cp1258"),
    "mac-cyrillic": ("x-mac-cyrillic", "x-mac-ukrainian"),
    "gb18030": ("chinese", "csgb2312", "csiso58gb231280", "gb2312", "gb_2312", "gb_2312-80", "gbk",
                "iso-ir-58", "x-gbk", "gb18030"),
    "big5hkscs": ("big5", "big5-hkscs", "cn-big5", "csbig5", "x-x-big5"),
    "euc-jp": ("cseucpkdfmtjapanese", "euc-jp", "x-euc-jp"),
    "iso-2022-jp": ("csiso2022jp", "iso-2022-jp"),
    "cp932": ("csshiftjis", "ms932", "ms_kanji", "shift-jis", "shift_jis", "sjis", "windows-31j", "x-sjis"),
    "cp949": ("cseuckr", "csksc56011987", "euc-kr", "iso-ir-149", "korean", "ks_c_5601-1987",
              "ks_c_5601-1989", "ksc5601", "ksc_5601", "windows-949"),
    "utf-16-be": ("unicodefffe", "utf-16be"),
    "utf-16-le": ("csunicode", "iso-10646-ucs-2", "ucs-2", "unicode", "unicodefeff", "utf-16", "utf-16le"),
}
# Not in the WHATWG table, but real labels of legacy Arabic DOS pages (IE knew them as DOS-720/864).
_EXTRA_LABELS: dict[str, tuple[str, ...]] = {
    "cp720": ("cp720", "dos-720", "ibm720", "x-ibm720"),
    "cp864": ("cp864", "dos-864", "ibm864", "x-ibm864"),
}
_LABELS: dict[str, str] = {
    label: name for table in (_WHATWG_LABELS, _EXTRA_LABELS) for name, labels in table.items() for label in labels
}
_UTF16 = ("utf-16-le", "utf-16-be")


def lookup_label(label: str) -> str | None:
    """Map a declared charset label to the encoding name we decode with, or ``None`` if unknown.

    Follows the WHATWG label table (ASCII case-insensitive, surrounding white space ignored).
    The WHATWG "replacement" labels (iso-2022-kr, hz-gb-2312, ...) are treated as unknown.
    """
    return _LABELS.get(label.strip().strip("\"'").lower())


# --- decoding primitives --------------------------------------------------------------------

# The five bytes windows-1252 leaves undefined decode, per WHATWG, to the C1 control of the same value.
_CP1252_HOLES = {0xDC00 + b: b for b in (0x81, 0x8D, 0x8F, 0x90, 0x9D)}


_ESCAPED = re.compile("[\udc80-\udcff]")


def _decode(data: bytes, encoding: str) -> tuple[str, int, int]:
    """Decode with invalid sequences replaced by U+FFFD; return the text, the count of bad bytes and
    the count of U+FFFD characters the decoder put in (not those the page itself holds)."""
    if encoding == "windows-1252":
        return data.decode("cp1252", errors="surrogateescape").translate(_CP1252_HOLES), 0, 0
    try:
        return data.decode(encoding), 0, 0
    except UnicodeDecodeError:
        pass
    text = data.decode(encoding, errors="replace")
    try:
        escaped = data.decode(encoding, errors="surrogateescape")
    except UnicodeDecodeError:  # UTF-16 cannot escape: count the replacements instead
        return text, text.count("\ufffd"), text.count("\ufffd")
    return text, len(_ESCAPED.findall(escaped)), text.count("\ufffd") - escaped.count("\ufffd")


def _tolerated(errors: int, text: str) -> bool:
    """A declared encoding may leave a handful of broken sequences (truncated strings and the like)."""
    return errors <= 2 + len(text) // 1000


def _strict_utf8(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


STRAY_PER_BYTES = 1000
"""UTF-8 bytes with at most one stray invalid byte in this many are read as UTF-8 (see below)."""
_MULTIBYTE = re.compile("[^\x00-\x7f\udc80-\udcff]")


def _nearly_utf8(data: bytes) -> Decoded | None:
    """UTF-8 with a few stray invalid bytes, replaced by U+FFFD; ``None`` if the bytes are not that.

    Nearly: at most one bad byte per :data:`STRAY_PER_BYTES` (at least one allowed), and at least ten
    valid multi-byte characters per bad byte, so that a legacy page with a single high byte is
    not taken for UTF-8.  Legacy Arabic text is almost never valid UTF-8, so it fails by far.
    """
    escaped = data.decode("utf-8", errors="surrogateescape")
    bad = len(_ESCAPED.findall(escaped))
    if not bad or bad > max(1, len(data) // STRAY_PER_BYTES):
        return None
    if len(_MULTIBYTE.findall(escaped)) < 10 * bad:
        return None
    text = data.decode("utf-8", errors="replace")
    return _finish(text, "utf-8", "detected", text.count("\ufffd") - escaped.count("\ufffd"))


def _utf8_reading(data: bytes) -> Decoded | None:
    """The bytes as UTF-8 if they are UTF-8 (strictly, or but for a few stray bytes)."""
    utf8 = _strict_utf8(data)
    if utf8 is not None:
        return _finish(utf8, "utf-8", "detected")
    return _nearly_utf8(data)


# --- evidence: BOM, HTTP, meta --------------------------------------------------------------

_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


def _bom(data: bytes) -> tuple[str, int] | None:
    """Return (encoding, BOM length) if ``data`` starts with a byte-order mark."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name, len(bom)
    return None


_CHARSET_PARAM = re.compile(r"""charset\s*=\s*["']?\s*([^"'\s;,>/]+)""", re.I)


def header_value(headers: Mapping[str, str] | None, name: str) -> str | None:
    """The value of HTTP header ``name`` (any case); bytes (as in Scrapy's headers) are read as
    Latin-1 and a repeated header gives its last value."""
    if not headers:
        return None
    wanted = name.lower()
    for key, value in headers.items():
        key_s = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        if key_s.lower() == wanted:
            if isinstance(value, (list, tuple)):
                value = value[-1] if value else ""
            return value.decode("latin-1") if isinstance(value, bytes) else str(value)
    return None


def _http_charset(content_type: str | None) -> str | None:
    match = _CHARSET_PARAM.search(content_type or "")
    return match.group(1) if match else None


_COMMENT = re.compile(rb"<!--.*?-->", re.S)
_META = re.compile(rb"<meta\b[^>]*?charset\s*=\s*[\"']?\s*([^\"'\s;/>]+)", re.I)
_XML_DECL = re.compile(rb"""^\s*<\?xml\b[^>]*?encoding\s*=\s*["']([^"']+)["']""", re.I)


def _meta_charset(data: bytes) -> str | None:
    """The first charset label declared by a <meta> tag or an XML declaration near the top."""
    head = _COMMENT.sub(b"", data[:META_SCAN_BYTES])
    for pattern in (_XML_DECL, _META):
        match = pattern.search(head)
        if match:
            return match.group(1).decode("ascii", errors="replace")
    return None


# --- Arabic-aware detection -----------------------------------------------------------------

_ARABIC_CODEPAGES = ("windows-1256", "iso-8859-6", "cp720")
# Code pages that charset-normalizer may propose for Arabic-script bytes; when it does, we let the
# Arabic comparison choose among the Arabic code pages instead.
_ARABIC_FAMILY = {"cp1256", "iso8859-6", "cp720", "cp864", "mac-arabic", "mac-farsi", "cp1006"}

_ARABIC_LETTER = re.compile("[\u0621-\u063a\u0641-\u064a\u0671-\u06d3\u06d5]")
_WORD = re.compile(r"[^\W\d_]+")
# Very frequent Arabic, Persian and shared function words; their presence tells real text from a
# wrong code page, whose output is Arabic-looking letters in impossible combinations.
_FUNCTION_WORDS = FUNCTION_WORDS["ar"] | FUNCTION_WORDS["fa"] | SHARED_FUNCTION_WORDS
# Characters a correct decoding of news text practically never contains.
_MOJIBAKE = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufffd\u2500-\u259f\ue000-\uf8ff]")
_ASCII_MOJIBAKE = bytes([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x20), 0x7F])  # its ASCII part


def _bad_chars(text: str) -> int:
    """How many :data:`_MOJIBAKE` characters ``text`` holds (pure ASCII, the commonest case for
    markup-heavy pages, is counted on its bytes, several times faster than the pattern)."""
    if text.isascii():
        raw = text.encode("ascii")
        return len(raw) - len(raw.translate(None, _ASCII_MOJIBAKE))
    return len(_MOJIBAKE.findall(text))


@dataclass(frozen=True)
class _ArabicReading:
    encoding: str
    text: str
    score: float
    evidence: int  # function words + words carrying the definite article
    arabic_words: int
    words: int
    mixed: int  # words mixing Arabic and Latin/other letters: the mark of a wrong code page
    bad: int  # control, box-drawing, private-use or replacement characters
    replaced: int  # U+FFFD put in for bytes the code page leaves undefined

    @property
    def plausible(self) -> bool:
        """Clean, Arabic-script text with at least some sign of the Arabic language."""
        return (
            self.arabic_words >= 3
            and self.arabic_words >= 0.5 * self.words
            and self.mixed <= 0.02 * self.words
            and self.bad <= len(self.text) // 500
            and self.evidence >= 1
        )

    @property
    def strong(self) -> bool:
        """Plausible, with enough function words that the reading cannot be an accident."""
        return self.plausible and self.evidence >= 3 and self.evidence >= 0.1 * self.arabic_words


_MARKUP = re.compile(r"<(script|style)\b.*?</\1\s*>|<!--.*?-->|<[^>]*>|&#?\w+;", re.I | re.S)


def _read_arabic(data: bytes, encoding: str) -> _ArabicReading:
    """Decode ``data`` as ``encoding`` and measure how much its prose (markup aside) looks Arabic."""
    text, errors, replaced = _decode(data, encoding)
    words = _WORD.findall(_MARKUP.sub(" ", text))
    arabic = mixed = evidence = 0
    for word in words:
        n_arabic = len(_ARABIC_LETTER.findall(word))
        if n_arabic == len(word):
            arabic += 1
            if word in _FUNCTION_WORDS or (word.startswith(DEFINITE_ARTICLE) and len(word) > 3):
                evidence += 1
        elif n_arabic:
            mixed += 1
    bad = _bad_chars(text) + errors
    score = arabic + 2 * evidence - 5 * (mixed + bad)
    return _ArabicReading(encoding, text, score, evidence, arabic, len(words), mixed, bad, replaced)


def _best_arabic(data: bytes) -> _ArabicReading:
    """The best of the legacy Arabic code pages for ``data`` (ties: earlier in the list)."""
    readings = [_read_arabic(data, enc) for enc in _ARABIC_CODEPAGES]
    return max(readings, key=lambda r: r.score)


# --- naming -------------------------------------------------------------------------------

_PY_TO_NAME = {codecs.lookup(name).name: name for name in (*_WHATWG_LABELS, *_EXTRA_LABELS)}


def _canonical_name(python_codec: str) -> str:
    """A charset-normalizer / Python codec name -> our reported name (WHATWG spelling when known)."""
    try:
        return _PY_TO_NAME.get(codecs.lookup(python_codec).name, python_codec)
    except LookupError:
        return python_codec


# --- checks on the result -----------------------------------------------------------------

_JUNK_SHARE = 0.05


def _check_text(text: str, encoding: str) -> None:
    """Refuse text that is mostly controls, NULs or replacement characters (binary junk)."""
    if not text.strip():
        raise DecodeError("no text: the document is empty or white space only")
    bad = _bad_chars(text)
    if bad > _JUNK_SHARE * len(text):
        raise DecodeError(
            f"not text: {bad / len(text):.0%} of the characters are control or undecodable bytes "
            f"(as {encoding}); binary or corrupt data?"
        )


def _finish(text: str, encoding: str, source: str, replaced: int = 0) -> Decoded:
    _check_text(text, encoding)
    return Decoded(text, encoding, source, replaced)


# --- detection ----------------------------------------------------------------------------


def _detect(data: bytes) -> Decoded:
    """Decide the encoding of undeclared bytes (no BOM, no usable declaration)."""
    if data.isascii():
        return _finish(data.decode("ascii"), "utf-8", "default")
    utf8 = _utf8_reading(data)
    if utf8 is not None:
        return utf8
    if data.count(0) > len(data) // 100:
        raise DecodeError(f"not text: {data.count(0)} NUL bytes in {len(data)} and no byte-order mark")
    arabic = _best_arabic(data)
    if arabic.strong:
        return _finish(arabic.text, arabic.encoding, "detected", arabic.replaced)
    guess = from_bytes(data).best()
    if guess is None:
        if arabic.plausible:
            return _finish(arabic.text, arabic.encoding, "detected", arabic.replaced)
        raise DecodeError("not text: no encoding decodes these bytes cleanly (binary or corrupt data?)")
    if arabic.plausible or (codecs.lookup(guess.encoding).name in _ARABIC_FAMILY and arabic.bad == 0):
        # In an Arabic archive a clean Arabic reading that shows the language's own words beats a
        # statistical guess trained on longer texts (charset-normalizer mixes up the Arabic pages).
        return _finish(arabic.text, arabic.encoding, "detected", arabic.replaced)
    name = _canonical_name(guess.encoding)
    text = _decode(data, name)[0] if name == "windows-1252" else str(guess)
    return _finish(text, name, "detected")


def _declared(data: bytes, label: str | None, source: str) -> Decoded | None:
    """Decode with a declared label if the bytes bear it out; ``None`` to fall through."""
    encoding = lookup_label(label) if label else None
    if encoding is None:
        return None
    if source == "meta" and encoding in _UTF16:
        encoding = "utf-8"  # WHATWG: a UTF-16 meta declaration in a byte-readable head means UTF-8
    if encoding in _UTF16 and b"\x00" not in data:
        return None  # UTF-16 markup always has NUL bytes; without them the label is wrong
    if encoding != "utf-8" and encoding not in _UTF16 and not data.isascii():
        utf8 = _utf8_reading(data)
        if utf8 is not None:  # declared legacy, really UTF-8: the commonest lie on Arabic sites
            return utf8
        if encoding == "windows-1252" or encoding in _ARABIC_SINGLE_BYTE:
            arabic = _best_arabic(data)
            if arabic.strong and arabic.encoding != encoding and not _arabic_as_declared(data, encoding):
                return _finish(arabic.text, arabic.encoding, "detected", arabic.replaced)
    text, errors, replaced = _decode(data, encoding)
    if not _tolerated(errors, text):
        return None
    return _finish(text, encoding, source, replaced)


# The Arabic single-byte code pages are mixed up by servers (ISO-8859-6 pages served as windows-1256
# and back): a declaration of one of them is checked against the others.
_ARABIC_SINGLE_BYTE = frozenset((*_ARABIC_CODEPAGES, "cp864"))


def _arabic_as_declared(data: bytes, encoding: str) -> bool:
    """Whether the declared code page already reads ``data`` as Arabic (windows-1252 never does)."""
    return encoding in _ARABIC_SINGLE_BYTE and _read_arabic(data, encoding).plausible


def _from_bom(data: bytes, what: str) -> Decoded | None:
    """Refuse empty input; decode by byte-order mark when there is one that the bytes bear out."""
    if not data:
        raise DecodeError(f"no text: the {what} is empty (0 bytes)")
    bom = _bom(data)
    if bom is None:
        return None
    encoding, size = bom
    text, errors, replaced = _decode(data[size:], encoding)
    return _finish(text, encoding, "bom", replaced) if _tolerated(errors, text) else None


def decode_html(
    data: bytes, headers: Mapping[str, str] | None = None, *, content_type: str | None = None
) -> Decoded:
    """Decode an HTML (or XML) document: BOM, HTTP charset, meta charset, then detection.

    ``headers`` are the HTTP response headers (any case); ``content_type`` may be given instead
    (e.g. from a WARC record).  Raises :class:`DecodeError` for empty or binary data.
    """
    return (
        _from_bom(data, "document")
        or _declared(data, _http_charset(content_type if content_type is not None else header_value(headers, "Content-Type")), "http")
        or _declared(data, _meta_charset(data), "meta")
        or _detect(data)
    )


def decode_text(data: bytes) -> Decoded:
    """Decode a saved plain-text file: BOM, then strict UTF-8, then detection."""
    return _from_bom(data, "file") or _detect(data)
