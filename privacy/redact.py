"""The one redactor: find personal data in a text and put typed placeholders in its place.

Everything the shop stores or shows to staff (turns, replies, tracker state, tickets,
exports, logs) passes `redact` first. It reads a normalised view of the text (NFKC,
Unicode format characters such as zero-width spaces removed), so `ann\u200b@example.com`
and full-width digits are found, but it changes only the spans it finds: a message
with no personal data comes back exactly as typed.

What it finds, and the placeholder each becomes:

| placeholder | what |
|---|---|
| `[EMAIL]` | e-mail addresses, also IDN domains and "ann at example dot com" spellings |
| `[PHONE]` | phone numbers (`phonenumbers`, US default region, international, UK national, "555-0199") |
| `[CARD]` | card numbers with any separators (Luhn), and the card's expiry date |
| `[IBAN]` | IBANs (country length and mod-97 check) |
| `[NATIONAL_ID]` | US SSNs, UK National Insurance numbers, numbers after "passport", "driver's licence", ... |
| `[DOB]` | dates next to "born", "birthday", "DOB", "date of birth" |
| `[SECRET]` | the value after "password", "PIN", "CVV", "security code", "one-time code", ... |
| `[ADDRESS]` | street addresses ("12 Oak Street", "1234 Elm Ave Apt 5", "PO Box 7", "Hauptstraße 5") |
| `[POSTCODE]` | UK and Canadian postcodes, US ZIP codes next to a state, a cue or an address |
| `[NAME]` | names after "my name is", "I'm", "this is", "name:", "Mr", sign-offs ("Thanks, Ann") |

Never changed: order numbers (`SI4829301746`, `#si-4829301746`), invoice numbers
(`INV-2026-123456`), ticket references (`SUP-7F3A9C`), prices, quantities, years,
ratings and product names with digits ("iPhone 12", "size 10").

Every regex runs in linear time (no nested quantifiers over overlapping classes,
bounded repetitions), and input is matched in windows of `MAX_CHARS` characters.

>>> redact("I'm Ann, mail ann@example.com about order SI4829301746")
"I'm [NAME], mail [EMAIL] about order SI4829301746"
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from itertools import pairwise
from typing import Any

import phonenumbers

from privacy import vocabulary as vocab

MAX_CHARS = 4000
"""Text is matched in windows of at most this many characters (split at whitespace)."""


class PiiType(StrEnum):
    """The kinds of personal data the redactor finds; the placeholder is `[<value>]`."""

    EMAIL = "EMAIL"
    PHONE = "PHONE"
    CARD = "CARD"
    IBAN = "IBAN"
    NATIONAL_ID = "NATIONAL_ID"
    DOB = "DOB"
    SECRET = "SECRET"
    ADDRESS = "ADDRESS"
    POSTCODE = "POSTCODE"
    NAME = "NAME"

    @property
    def placeholder(self) -> str:
        """The text that replaces a finding of this type, e.g. `[EMAIL]`."""
        return f"[{self.value}]"


PLACEHOLDERS = frozenset(t.placeholder for t in PiiType)


@dataclass(frozen=True)
class Finding:
    """One piece of personal data in a text.

    Attributes:
        type: What it is.
        start: Offset of its first character in the original text.
        end: Offset after its last character.
    """

    type: PiiType
    start: int
    end: int


# -- the normalised view ------------------------------------------------------

_FILLER = "\x00"  # masks found and protected spans in the view; never in a normalised text


@dataclass
class _View:
    """A normalised copy of a text and, per character, where it came from."""

    text: str
    starts: list[int] | None = None  # None: the view is the text itself
    ends: list[int] | None = None

    def original(self, start: int, end: int) -> tuple[int, int]:
        if self.starts is None or self.ends is None:
            return start, end
        return self.starts[start], self.ends[end - 1]


def _normalise(text: str) -> _View:
    if text.isascii():
        return _View(text.replace(_FILLER, " "))
    if unicodedata.is_normalized("NFKC", text) and not any(
        unicodedata.category(ch) == "Cf" for ch in text
    ):
        return _View(text.replace(_FILLER, " "))
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    i, n = 0, len(text)
    while i < n:
        if unicodedata.category(text[i]) == "Cf":
            i += 1
            continue
        j = i + 1
        while j < n and unicodedata.combining(text[j]):
            j += 1
        cluster = unicodedata.normalize("NFKC", text[i:j]).replace(_FILLER, " ")
        for ch in cluster:
            if unicodedata.category(ch) != "Cf":
                out.append(ch)
                starts.append(i)
                ends.append(j)
        i = j
    return _View("".join(out), starts, ends)


class _Scan:
    """The view being searched; found and protected spans are masked as they are found."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.found: list[tuple[int, int, PiiType]] = []

    def free(self, start: int, end: int) -> bool:
        return start < end and _FILLER not in self.text[start:end]

    def mask(self, start: int, end: int) -> None:
        self.text = self.text[:start] + _FILLER * (end - start) + self.text[end:]

    def add(self, start: int, end: int, kind: PiiType) -> bool:
        if not self.free(start, end):
            return False
        self.found.append((start, end, kind))
        self.mask(start, end)
        return True

    def each(self, pattern: re.Pattern[str], accept: Callable[[re.Match[str]], bool]) -> None:
        """Offer each match to `accept`; after a refusal, search again one character later.

        So a refused candidate ("me at m.garcia") does not hide an overlapping one
        ("m.garcia at gmail dot com"). Each search is bounded by the pattern's longest
        match, so this stays linear in the text length.
        """
        pos = 0
        while pos <= len(self.text):
            m = pattern.search(self.text, pos)
            if m is None:
                return
            pos = max(m.end(), m.start() + 1) if accept(m) else m.start() + 1

    def before(self, start: int, chars: int = 40) -> str:
        return self.text[max(0, start - chars) : start]


# -- what is never personal data -----------------------------------------------

_PROTECTED = re.compile(
    r"(?<![A-Za-z0-9])(?:"
    r"#?\s?+SI(?:-|\s{1,3}+)?\d(?:\s?+\d){9}(?!\d)"  # order numbers
    r"|INV-?\d{4}-?\d{1,12}(?!\d)"  # invoice numbers
    r"|SUP-[0-9A-F]{6}(?![0-9A-Za-z])"  # support ticket references
    r")"
    r"|\[(?:" + "|".join(t.value for t in PiiType) + r")\]",  # earlier placeholders
    re.IGNORECASE,
)


def _protect(scan: _Scan) -> None:
    for m in list(_PROTECTED.finditer(scan.text)):
        scan.mask(m.start(), m.end())


# -- e-mail ---------------------------------------------------------------------

_EMAIL = re.compile(r"(?<![\w.%+\-])[\w.%+\-]{1,64}@[\w\-]{1,63}(?:\.[\w\-]{1,63}){0,6}")
# A few blanks at most (bounded, so a long run of spaces is never rescanned).
_AT = r"(?:[ \t]{0,3}+[(\[{<][ \t]{0,3}+(?:at|@)[ \t]{0,3}+[)\]}>][ \t]{0,3}+|[ \t]{1,3}+at[ \t]{1,3}+|[ \t]{0,3}+@[ \t]{0,3}+)"
_DOT = r"(?:[ \t]{0,3}+[(\[{<][ \t]{0,3}+(?:dot|\.)[ \t]{0,3}+[)\]}>][ \t]{0,3}+|[ \t]{1,3}+dot[ \t]{1,3}+|[ \t]{0,3}+\.[ \t]{0,3}+)"
_DOT_RE = re.compile(_DOT, re.IGNORECASE)
_SPELLED_EMAIL = re.compile(
    r"(?<![\w.+\-])(?P<local>[\w.+\-]{1,64}(?:[ \t]++dot[ \t]++[\w+\-]{1,64}){0,2})"
    rf"(?P<at>{_AT})(?P<domain>[\w\-]{{1,63}}(?:{_DOT}[\w\-]{{1,63}}){{1,4}})",
    re.IGNORECASE,
)


def _tld_ok(label: str) -> bool:
    return (2 <= len(label) <= 24 and label.isalpha()) or label.lower().startswith("xn--")


def _emails(scan: _Scan) -> None:
    for m in list(_EMAIL.finditer(scan.text)):
        local, _, domain = m.group(0).partition("@")
        labels = domain.split(".")
        while len(labels) >= 2 and not _tld_ok(labels[-1]):
            labels.pop()
        if len(labels) >= 2 and all(labels):
            scan.add(m.start(), m.start() + len(local) + 1 + len(".".join(labels)), PiiType.EMAIL)
    scan.each(_SPELLED_EMAIL, lambda m: _spelled_email(scan, m))


def _spelled_email(scan: _Scan, m: re.Match[str]) -> bool:
    """Accept "ann at example dot com" unless it reads as a sentence ("cheaper at amazon.com")."""
    domain, offset = m.group("domain"), m.start("domain")
    cuts = list(_DOT_RE.finditer(domain))
    labels = [(0, cuts[0].start())] + [
        (cut.end(), cuts[k + 1].start() if k + 1 < len(cuts) else len(domain))
        for k, cut in enumerate(cuts)
    ]
    while len(labels) >= 2 and domain[slice(*labels[-1])].lower() not in vocab.SPELLED_EMAIL_TLDS:
        labels.pop()
    if len(labels) < 2:
        return False
    local = m.group("local").lower()
    first = domain[slice(*labels[0])].lower()
    if first in vocab.NOT_EMAIL_WORDS or first in vocab.SHOP_DOMAINS:
        return False
    bracketed = any(ch in m.group("at") for ch in "([{<@")
    mailbox = bool(re.search(r"[._+\d]", local)) or first in vocab.MAIL_PROVIDERS
    if bracketed or mailbox or local not in vocab.NOT_EMAIL_WORDS:
        return scan.add(m.start(), offset + labels[-1][1], PiiType.EMAIL)
    return False


# -- bank and card numbers --------------------------------------------------------

_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?:[ \-]?[A-Z0-9]){10,32}", re.IGNORECASE)
_IBAN_CUE = re.compile(r"\biban\b[^\n]{0,12}$", re.IGNORECASE)


def _mod97_ok(chars: str) -> bool:
    moved = chars[4:] + chars[:4]
    try:
        return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1
    except ValueError:
        return False


def _ibans(scan: _Scan) -> None:
    for m in list(_IBAN.finditer(scan.text)):
        length = vocab.IBAN_LENGTHS.get(m.group(0)[:2].upper())
        if length is None:
            continue
        positions = [m.start() + k for k, ch in enumerate(m.group(0)) if ch.isalnum()]
        if len(positions) < length:
            continue
        # The IBAN ends at a group boundary: its last character is not glued to the next.
        if len(positions) > length and positions[length] == positions[length - 1] + 1:
            continue
        chars = "".join(scan.text[p] for p in positions[:length]).upper()
        if _mod97_ok(chars) or _IBAN_CUE.search(scan.before(m.start(), 20)):
            scan.add(m.start(), positions[length - 1] + 1, PiiType.IBAN)


_DIGIT_RUN = re.compile(r"(?<![\w.,/\-])\d{1,19}(?:(?:[ \t]?+[\-./][ \t]?+|[ \t])\d{1,19}){0,11}")
_DIGIT_GROUP = re.compile(r"\d+")
_NOT_A_CARD_CUE = re.compile(
    r"\b(?:tracking|track|parcel|shipment|consignment|awb|barcode|ean|upc|isbn|imei|serial"
    r"|passport|licen[cs]e|national|id[ \t]++(?:card|number|no)|ssn|social)\b",
    re.IGNORECASE,
)
_CARD_WORDS = re.compile(
    r"\b(?:card|visa|mastercard|amex|credit|debit|maestro|discover)\b", re.IGNORECASE
)
_EXPIRY = re.compile(
    r"\b(?:exp(?:iry|ires|iration|\.)?(?:[ \t]++date)?|valid[ \t]++(?:thru|through|until|till)|expiring)"
    r"[ \t]*+(?:(?:is|on)\b|[:\-])?[ \t]*+(?P<d>\d{1,2}[ \t]?+[/\-.][ \t]?+(?:\d{4}|\d{2}))(?![\d/])",
    re.IGNORECASE,
)


def luhn_valid(digits: str) -> bool:
    """Tell whether a string of digits passes the Luhn checksum used by card numbers.

    Args:
        digits: Only the digits of the candidate number.

    Returns:
        True when the checksum is right.

    >>> luhn_valid("4111111111111111")
    True
    """
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _card_like(groups: list[re.Match[str]]) -> bool:
    """Card numbers start with 2-6 (Mastercard, Visa, Amex, Discover, JCB, Diners, UnionPay)
    and are one run of digits or groups of 3-6 ("4111 1111 ...", Amex "3714 496353 98431");
    a timestamp ("1764622095.123456") or a long code is neither."""
    digits = [g.group(0) for g in groups]
    if not "2" <= digits[0][0] <= "6":
        return False
    return len(digits) == 1 or all(3 <= len(d) <= 6 for d in digits)


def _card_span(run: re.Match[str]) -> tuple[int, int] | None:
    groups = list(_DIGIT_GROUP.finditer(run.group(0)))
    seps = [run.group(0)[a.end() : b.start()].strip() or " " for a, b in pairwise(groups)]
    base = run.start()
    total = sum(len(g.group(0)) for g in groups)
    if 13 <= total <= 19 and _card_like(groups) and luhn_valid("".join(g.group(0) for g in groups)):
        return base, base + groups[-1].end()
    # "4111/1111/1111/1111 12/27": the card is the first groups, up to a change of separator.
    digits = ""
    for k, group in enumerate(groups[:-1]):
        digits += group.group(0)
        if len(digits) > 19:
            break
        inner, cut = set(seps[:k]), seps[k]
        if len(digits) < 13 or not _card_like(groups[: k + 1]) or not luhn_valid(digits):
            continue
        if cut not in inner:
            return base, base + group.end()
        if total - len(digits) <= 4:  # "4111 1111 1111 1111 123": the code typed after it
            return base, base + groups[-1].end()
    return None


def _cards(scan: _Scan) -> None:
    for run in list(_DIGIT_RUN.finditer(scan.text)):
        span = _card_span(run)
        if span is not None and not _NOT_A_CARD_CUE.search(scan.before(span[0], 30)):
            scan.add(*span, PiiType.CARD)
    has_card = any(kind == PiiType.CARD for *_, kind in scan.found)
    if has_card or _CARD_WORDS.search(scan.text):
        for m in list(_EXPIRY.finditer(scan.text)):
            scan.add(m.start("d"), m.end("d"), PiiType.CARD)


# -- national ids -------------------------------------------------------------------

_SSN = re.compile(r"(?<![\w\-/.])(\d{3})([\- ])(\d{2})\2(\d{4})(?![\w\-/]|\.\d|[ \t]\d)")
_SSN_CUE = re.compile(r"\b(?:ssn|social[ \t]++security|social|ss#|itin|tin)\b", re.IGNORECASE)
_SSN_BARE = re.compile(
    r"\b(?:ssn|social[ \t]++security(?:[ \t]++(?:number|no\.?|#))?|ss#|itin)"
    r"[ \t]*+(?:(?:is|was)\b|[:#\-])?[ \t]*+(?P<v>\d{9})(?!\d)",
    re.IGNORECASE,
)
_NINO = re.compile(
    r"(?<![A-Za-z0-9])[A-Z]{2}[ \t]?+\d{2}[ \t]?+\d{2}[ \t]?+\d{2}[ \t]?+[A-D](?![A-Za-z0-9])",
    re.IGNORECASE,
)
_ID_CUE = re.compile(
    r"\b(?:passport|driver'?s?[ \t]++licen[cs]e|driving[ \t]++licen[cs]e|licen[cs]e[ \t]++number"
    r"|national[ \t]++(?:id|identity|insurance)|id[ \t]++card|identity[ \t]++card|tax[ \t]++id"
    r"|personal[ \t]++id|ni[ \t]++number|nino)"
    r"(?:[ \t]++(?:number|no\.?|#|num))?[ \t]*+(?:(?:is|was)\b|[:#\-])?[ \t]*+(?P<v>[A-Z0-9][A-Z0-9\-]{4,19})",
    re.IGNORECASE,
)


def _ssn_ok(area: str, group: str, serial: str) -> bool:
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


def _national_ids(scan: _Scan) -> None:
    for m in list(_SSN.finditer(scan.text)):
        if not _ssn_ok(m.group(1), m.group(3), m.group(4)):
            continue
        if m.group(2) == " " and not _SSN_CUE.search(scan.before(m.start(), 30)):
            continue
        scan.add(m.start(), m.end(), PiiType.NATIONAL_ID)
    for m in list(_SSN_BARE.finditer(scan.text)):
        scan.add(m.start("v"), m.end("v"), PiiType.NATIONAL_ID)
    for m in list(_NINO.finditer(scan.text)):
        scan.add(m.start(), m.end(), PiiType.NATIONAL_ID)
    for m in list(_ID_CUE.finditer(scan.text)):
        if any(ch.isdigit() for ch in m.group("v")):
            scan.add(m.start("v"), m.end("v"), PiiType.NATIONAL_ID)


# -- secrets and dates of birth -----------------------------------------------------

_CONNECTOR = r"(?:(?:is|was|would[ \t]++be|should[ \t]++be|reads)\b|->|[:=\-])"
_PASSWORD = re.compile(
    r"\b(?:pass(?:word|wd|phrase)|pass[ \t]++word|pwd|pw|login[ \t]++(?:password|code))\b"
    rf"(?P<conn>(?:[ \t]*+{_CONNECTOR}){{0,2}})[ \t]*+[\"'“‘]?(?P<v>[^\s\"'”’\x00:=\-][^\s\"'”’\x00]{{0,63}})",
    re.IGNORECASE,
)
_PIN = re.compile(
    r"\b(?:pin(?:[ \t]*+(?:code|number|no\.?|#))?|cvv2?|cvc2?|cvn|csc|cid|passcode"
    r"|security[ \t]++(?:code|number|digits)|card[ \t]++(?:code|verification(?:[ \t]++(?:code|value))?)"
    r"|verification[ \t]++code|one[ \t\-]time[ \t]++(?:code|password|pin)|otp|2fa[ \t]++code"
    r"|auth(?:entication|orization)?[ \t]++code|sms[ \t]++code|access[ \t]++code)\b"
    # "security code on the back is 842": up to four short words before the "is"
    r"(?:(?:[ \t]++[^\W\d_]{1,10}){0,4}?[ \t]*+(?:(?:is|was)\b|[:=#\-]))?"
    r"[ \t]*+(?:(?:number|code)\b[ \t]*+)?(?P<v>\d{3,8})(?!\d)",
    re.IGNORECASE,
)


def _secrets(scan: _Scan) -> None:
    for m in list(_PIN.finditer(scan.text)):
        scan.add(m.start("v"), m.end("v"), PiiType.SECRET)
    scan.each(_PASSWORD, lambda m: _password(scan, m))


def _password(scan: _Scan, m: re.Match[str]) -> bool:
    value = m.group("v")
    word = value.rstrip(".,!?;")
    bare = re.sub(r"[^\w]", "", value).lower()
    if not bare or bare in vocab.NOT_SECRETS or word.lower() in vocab.NOT_SECRETS:
        return False
    plain_word = word.isalpha()
    if plain_word and not m.group("conn").strip():
        return False  # "password reset", "password please": a bare password has digits or symbols
    if plain_word and word.islower() and word.endswith(("ing", "ed", "ly")):
        return False  # "my password is expired", "password is blocked"
    return scan.add(m.start("v"), m.end("v"), PiiType.SECRET)


_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DATE = (
    r"(?:\d{1,2}[ \t]?+[/.\-][ \t]?+\d{1,2}[ \t]?+[/.\-][ \t]?+(?:\d{4}|\d{2})"
    r"|\d{4}[/.\-]\d{1,2}[/.\-]\d{1,2}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?[ \t]++(?:of[ \t]++)?{_MONTH},?(?:[ \t]++\d{{4}})?"
    rf"|{_MONTH}[ \t]++\d{{1,2}}(?:st|nd|rd|th)?(?:,?[ \t]++\d{{4}})?"
    r"|(?:19|20)\d{2}"
    r"|\d{1,2}[/.\-]\d{1,2})"
)
_DOB = re.compile(
    r"\b(?:born|birthday|birth[ \t]?+day|birth[ \t]?+date|date[ \t]++of[ \t]++birth|d\.?o\.?b\.?"
    r"|bday|b-day)(?:'s)?(?!\w)"
    rf"[ \t]*+(?:(?:(?:is|was|on|in|of|it's|it[ \t]++is)\b|[:\-=,])[ \t]*+){{0,3}}(?P<d>{_DATE})(?![\d/])",
    re.IGNORECASE,
)


def _dates_of_birth(scan: _Scan) -> None:
    for m in list(_DOB.finditer(scan.text)):
        scan.add(m.start("d"), m.end("d"), PiiType.DOB)


# -- phone numbers ----------------------------------------------------------------------

_SEVEN_DIGITS = re.compile(r"(?:\d\D{0,3}){7}")
_PHONE_CUE = re.compile(
    r"\b(?:call|phone|mobile|cell|tel|telephone|number|reach|text|whatsapp|sms|ring|fax"
    r"|landline|contact|dial)\b",
    re.IGNORECASE,
)
_REFERENCE_CUE = re.compile(
    r"(?:\b(?:order|invoice|tracking|track|ref(?:erence)?|sku|item|model|part|article|product"
    r"|serial|account|acct|customer|case|ticket|po|code|coupon|voucher|barcode|id|pid|uid)"
    r"(?:[ \t]*+(?:number|no\.?|num|id|#))?[ \t]*+(?:(?:is|was)\b|[:#])?[ \t]*+#?[ \t]*+|[#$€£]|\bx[ \t]?+)$",
    re.IGNORECASE,
)
_SHORT_LOCAL = re.compile(r"(?<![\w\-./,$#])\d{3}(?P<sep>[\-. ])\d{4}(?![\w\-/]|[.,]\d)")


_GLUED_BEFORE = re.compile(r"(?:[^\W_]|\d[ \t\-./]?)$")
_GLUED_AFTER = re.compile(r"[^\W_]|[\-./]?\d|[ \t]\d{2}")


def _phone_ok(scan: _Scan, start: int, end: int, raw: str) -> bool:
    before = scan.before(start, 40)
    if _GLUED_BEFORE.search(before) or _GLUED_AFTER.match(scan.text, end):
        return False  # part of a longer code ("1Z999AA10123456784", a tracking number)
    if "+" in raw:
        return True
    if _REFERENCE_CUE.search(before):
        return False
    digits = sum(ch.isdigit() for ch in raw)
    separated = any(not ch.isdigit() for ch in raw)
    if not separated and (
        (digits == 10 and raw[0] == "1") or (digits == 11 and raw[0] == "1" and raw[1] in "01")
    ):
        return False  # no US number starts so ("1764622095" is a Unix time)
    if (not separated and digits < 10) or (digits < 10 and " " in raw and "-" not in raw):
        return bool(_PHONE_CUE.search(before))
    return True


def _phones(scan: _Scan) -> None:
    if not _SEVEN_DIGITS.search(scan.text):
        return
    leniency = phonenumbers.Leniency.POSSIBLE
    for region in ("US", "GB"):
        for match in phonenumbers.PhoneNumberMatcher(scan.text, region, leniency=leniency):
            raw = match.raw_string
            if region == "GB" and not raw.lstrip("( ").startswith("0"):
                continue  # only UK national numbers; the US pass found the rest
            if _phone_ok(scan, match.start, match.end, raw):
                scan.add(match.start, match.end, PiiType.PHONE)
    for m in list(_SHORT_LOCAL.finditer(scan.text)):
        if m.group("sep") == " " and not _PHONE_CUE.search(scan.before(m.start(), 30)):
            continue
        if not _REFERENCE_CUE.search(scan.before(m.start(), 40)):
            scan.add(m.start(), m.end(), PiiType.PHONE)


# -- addresses and postcodes ------------------------------------------------------------


def _alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_UNITS = _alternation(vocab.UNIT_WORDS)
_STREET_TYPES = _alternation(vocab.STRONG_STREET_TYPES + vocab.WEAK_STREET_TYPES)
_WEAK_TYPES = frozenset(vocab.WEAK_STREET_TYPES)
_NAME_WORD = r"(?:[^\W\d_][\w'’.\-]{0,30}|\d{1,3}(?:st|nd|rd|th))"  # "Oak", "44th"
_STREET = re.compile(
    rf"(?<![\w.,/\-])(?:(?:{_UNITS})\.?[ \t]*+#?[ \t]*+[A-Z0-9\-]{{1,6}},?[ \t]++)?"
    r"\d{1,5}[A-Z]?(?:[\-/]\d{1,4}[A-Z]?)?,?[ \t]{1,3}+"
    rf"(?P<name>(?:{_NAME_WORD}[ \t]{{1,3}}+){{1,4}}?)(?P<type>{_STREET_TYPES})(?!\w)\.?"
    rf"(?:,?[ \t]*+(?:(?:{_UNITS})\.?|\#)[ \t]*+#?[ \t]*+[A-Z0-9\-]{{1,6}}(?![\w\-]))?",
    re.IGNORECASE,
)
_PO_BOX = re.compile(r"\bP\.?[ \t]?+O\.?[ \t]*+Box[ \t]*+#?[ \t]*+\d{1,8}\b", re.IGNORECASE)
_EURO_STREET = re.compile(
    r"\b[^\W\d_]{2,40}(?:straße|strasse|str\.|gasse|allee|platz|weg)[ \t]++\d{1,4}[a-z]?(?!\w)"
    r"|(?<![\w.,/\-])\d{1,4}(?:[ \t]?+[a-z])?,?[ \t]++(?:rue|chemin|allée|impasse|calle|avenida|via"
    r"|viale|piazza|corso|rua|avenue|boulevard|place)[ \t]++(?:d[eu']|de[ \t]++la|des|del|della)?"
    r"[ \t]*+[^\W\d_][\w'’\-]{1,30}(?:[ \t]++[A-ZÀ-Þ][\w'’\-]{1,30}){0,3}",
    re.IGNORECASE,
)
_ADDRESS_CUE = re.compile(
    r"(?:\b(?:to|at|address|addr|is|live|moved|from)\b|[:])[ \t,]*+$|\baddress\b", re.IGNORECASE
)
_NEXT_WORD = re.compile(r"[ \t,]{0,4}+([^\W\d_]{1,40})")


def _title_case(text: str) -> bool:
    words = [w for w in re.split(r"[ \t]++", text.strip()) if w]
    return all(w[0].isupper() or w[0].isdigit() for w in words)


def _street(scan: _Scan, m: re.Match[str]) -> bool:
    cue = bool(_ADDRESS_CUE.search(scan.before(m.start(), 40)))
    words = m.group("name") + m.group("type")
    if m.group("type").lower() in _WEAK_TYPES and not cue and not _title_case(words):
        return False  # "2 hard drive", "a 3 way switch"
    follower = _NEXT_WORD.match(scan.text, m.end())
    if (
        not cue
        and follower is not None
        and follower.group(1).islower()
        and follower.group(1) not in vocab.STREET_FOLLOWERS
    ):
        return False  # "2 mountain road bikes"
    return scan.add(m.start(), m.end(), PiiType.ADDRESS)


def _addresses(scan: _Scan) -> None:
    scan.each(_STREET, lambda m: _street(scan, m))
    for pattern in (_PO_BOX, _EURO_STREET):
        for m in list(pattern.finditer(scan.text)):
            scan.add(m.start(), m.end(), PiiType.ADDRESS)


_UK_POSTCODE = re.compile(
    rf"(?<![A-Za-z0-9])(?=[A-Z]{{1,2}}\d)(?:{_alternation(vocab.UK_POSTCODE_AREAS)})\d[A-Z\d]?[ \t]?+\d"
    r"[ABD-HJLNP-UW-Z]{2}(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_CA_POSTCODE = re.compile(
    r"(?<![A-Za-z0-9])[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z][ \t]?+\d[ABCEGHJ-NPRSTV-Z]\d(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_ZIP = re.compile(r"(?<![\w\-.,$#/€£])\d{5}(?:-\d{4})?(?![\w\-/]|[.,]\d)")
_STATE_BEFORE = re.compile(
    rf"(?:\b(?P<code>[A-Z]{{2}})|\b(?i:{_alternation(vocab.US_STATE_NAMES)}))\.?,?[ \t]*+$"
)
_POSTCODE_CUE = re.compile(
    r"\b(?:zip|zip[ \t]?+code|post[ \t]?+code|postal[ \t]++code|plz)\b[ \t]*+(?:(?:is|was)\b|[:#\-])?[ \t]*+$",
    re.IGNORECASE,
)
_CUED_POSTCODE = re.compile(
    r"\b(?:zip|zip[ \t]?+code|post[ \t]?+code|postal[ \t]++code|plz)\b[ \t]*+(?:(?:is|was)\b|[:#\-])?"
    r"[ \t]*+(?P<v>[A-Z0-9]{2,8})(?P<more>[ \-][A-Z0-9]{2,4})?(?![\w\-])",
    re.IGNORECASE,
)
_NUMERIC_POSTCODE = re.compile(r"(?<![\w\-.,$#/])\d{4,5}(?![\w\-/]|[.,]\d)")
_STORAGE = frozenset({"TB", "GB", "MB", "KB"})


def _near_address(scan: _Scan, start: int) -> bool:
    for _, e, kind in scan.found:
        if kind == PiiType.ADDRESS and e <= start <= e + 60 and "\n" not in scan.text[e:start]:
            return True
    return False


def _postcodes(scan: _Scan) -> None:
    for m in list(_CUED_POSTCODE.finditer(scan.text)):
        value, more = m.group("v"), m.group("more") or ""
        if not any(ch.isdigit() for ch in value):
            continue
        end = m.end("v")
        if more and (
            any(ch.isdigit() for ch in more) or (more.strip().isupper() and len(more) == 3)
        ):
            end = m.end("more")
        scan.add(m.start("v"), end, PiiType.POSTCODE)
    for m in list(_UK_POSTCODE.finditer(scan.text)):
        if m.group(0)[-2:].upper() in _STORAGE and not _near_address(scan, m.start()):
            continue  # "PS5 2TB" is a console, not a postcode
        scan.add(m.start(), m.end(), PiiType.POSTCODE)
    for m in list(_CA_POSTCODE.finditer(scan.text)):
        scan.add(m.start(), m.end(), PiiType.POSTCODE)
    for m in list(_ZIP.finditer(scan.text)):
        before = scan.before(m.start(), 30)
        state = _STATE_BEFORE.search(before)
        if (
            state is not None
            and state.group("code")
            and state.group("code") not in vocab.US_STATE_CODES
        ):
            state = None
        if state or _POSTCODE_CUE.search(before) or _near_address(scan, m.start()):
            scan.add(m.start(), m.end(), PiiType.POSTCODE)
    for m in list(_NUMERIC_POSTCODE.finditer(scan.text)):
        if _near_address(scan, m.start()):
            scan.add(m.start(), m.end(), PiiType.POSTCODE)


# -- names ----------------------------------------------------------------------------

_TOKEN = r"[^\W\d_](?:[^\W\d_]|['’\-](?=[^\W\d_])){0,40}"
_TOKENS = rf"(?P<names>{_TOKEN}(?:[ \t]{{1,3}}+{_TOKEN}){{0,3}})"
_STRONG_NAME_CUE = re.compile(
    r"\b(?:(?:full|first|last|real|given|family|sur)[ \t]*+)?name"
    r"(?:'s|[ \t]++is|[ \t]*+[:\-]|[ \t]++on[ \t]++(?:the[ \t]++|my[ \t]++)?(?:card|account|order|parcel"
    rf"|package|invoice|booking)[ \t]++is)[ \t]*+{_TOKENS}",
    re.IGNORECASE,
)
_TITLE_NAME_CUE = re.compile(
    r"\b(?:i['’]?m|i[ \t]++am|this[ \t]++is|call[ \t]++me|(?:mr|mrs|ms|miss|mx)\.?"
    r"|(?:first|last|full|given|family|sur)[ \t]*+name"
    r"|attn|attention|c/o|care[ \t]++of|recipient|addressee)(?:[ \t]++:?+|:)[ \t]*+" + _TOKENS,
    re.IGNORECASE,
)
_RECIPIENT_CUE = re.compile(
    r"\b(?:ship|deliver|send|post|mail|address)(?:[ \t]++(?:it|this|them|the[ \t]++(?:order|parcel"
    r"|package)))?[ \t]++to[ \t]++" + _TOKENS,
    re.IGNORECASE,
)
_SIGN_OFF = re.compile(
    r"\b(?:regards|kind[ \t]++regards|best[ \t]++regards|warm[ \t]++regards|best[ \t]++wishes|cheers"
    r"|thanks|thank[ \t]++you|many[ \t]++thanks|sincerely|yours[ \t]++(?:truly|sincerely)|best)"
    rf"[ \t]*+[,\-–—\n][ \t\n]*+{_TOKENS}[ \t]*+[.!]*[ \t]*+$",
    re.IGNORECASE,
)
_SPLIT_TOKENS = re.compile(_TOKEN)
_LAST_WORD = re.compile(r"(?<![^\W\d_])([^\W\d_]++)[ \t]*+$")


def _name_token_ok(token: str, lower_ok: bool, first: bool = True) -> bool:
    low = token.lower().replace("’", "'")
    if len(token) < 2 or (low in vocab.NOT_NAMES and (first or len(token) > 2)):
        return False
    if token[0].isupper() and not token.isupper():
        return True
    return lower_ok and token.islower() and not low.endswith(("ing", "ed", "ly"))


def _name_span(m: re.Match[str], lower_ok: bool) -> tuple[int, int] | None:
    """The span of the name words after a cue: Title Case words (or, after "my name is",
    lower-case ones), with particles inside ("Ana de la Cruz"), never shop words."""
    tokens = [t.group(0) for t in _SPLIT_TOKENS.finditer(m.group("names"))]
    offsets = [t.span() for t in _SPLIT_TOKENS.finditer(m.group("names"))]
    if not tokens or not _name_token_ok(tokens[0], lower_ok):
        return None
    lower = tokens[0].islower()
    last = 0
    k = 1
    while k < len(tokens):
        j = k
        while j < len(tokens) - 1 and j - k < 2 and tokens[j].lower() in vocab.NAME_PARTICLES:
            j += 1  # "de la" in "Ana de la Cruz"
        token = tokens[j]
        if not _name_token_ok(token, lower, first=False) or token.islower() != lower:
            break
        last = j
        k = j + 1
    base = m.start("names")
    return base + offsets[0][0], base + offsets[last][1]


def _strong_name(scan: _Scan, m: re.Match[str]) -> bool:
    owner_match = _LAST_WORD.search(scan.before(m.start(), 30))
    owner = owner_match.group(1).lower() if owner_match else ""
    if owner in vocab.NOT_PERSON_NAME_OWNERS:
        return False  # "product name: Galaxy S8"
    span = _name_span(m, lower_ok=owner in ("my", "", "full", "first", "last"))
    return span is not None and scan.add(*span, PiiType.NAME)


def _title_name(scan: _Scan, m: re.Match[str]) -> bool:
    span = _name_span(m, lower_ok=False)
    return span is not None and scan.add(*span, PiiType.NAME)


def _recipient_name(scan: _Scan, m: re.Match[str]) -> bool:
    span = _name_span(m, lower_ok=False)
    # "send it to Lucy Chen, 4 Park Avenue": a name only when an address follows
    if span is None or not re.match(r"[ \t]*+,?[ \t]*+[\d\x00]", scan.text[span[1] :]):
        return False
    return scan.add(*span, PiiType.NAME)


def _names(scan: _Scan) -> None:
    scan.each(_STRONG_NAME_CUE, lambda m: _strong_name(scan, m))
    scan.each(_TITLE_NAME_CUE, lambda m: _title_name(scan, m))
    scan.each(_SIGN_OFF, lambda m: _title_name(scan, m))
    scan.each(_RECIPIENT_CUE, lambda m: _recipient_name(scan, m))


_DETECTORS: tuple[Callable[[_Scan], None], ...] = (
    _emails,
    _ibans,
    _cards,
    _national_ids,
    _secrets,
    _dates_of_birth,
    _phones,
    _addresses,
    _postcodes,
    _names,
)


# -- public API -------------------------------------------------------------------------


def _windows(text: str) -> Iterator[tuple[int, str]]:
    """Pieces of at most `MAX_CHARS` characters, cut at whitespace where there is some."""
    start = 0
    while len(text) - start > MAX_CHARS:
        cut = start + MAX_CHARS
        space = max(text.rfind(" ", cut - 200, cut), text.rfind("\n", cut - 200, cut))
        if space > start:
            cut = space + 1
        yield start, text[start:cut]
        start = cut
    yield start, text[start:]


# Every detector needs one of these (a digit, "@", or a cue word); most texts have none.
_TRIGGER = re.compile(
    r"[\d@]|\b(?:at|pass\w*|pwd|pw|\w*name\w*|i['’]?m|i[ \t]++am|this[ \t]++is|call[ \t]++me"
    r"|mr|mrs|ms|miss|mx|attn|attention|c/o|care[ \t]++of|recipient|addressee|regards|cheers"
    r"|thanks|thank|sincerely|yours|best)\b",
    re.IGNORECASE,
)


def _find_in(text: str) -> list[Finding]:
    view = _normalise(text)
    if not _TRIGGER.search(view.text):
        return []
    scan = _Scan(view.text)
    _protect(scan)
    for detect in _DETECTORS:
        detect(scan)
    findings = []
    for start, end, kind in scan.found:
        s, e = view.original(start, end)
        findings.append(Finding(kind, s, e))
    return sorted(findings, key=lambda f: f.start)


def find(text: str) -> list[Finding]:
    """Find the personal data in a text.

    Args:
        text: Any text: a shopper's message, a bot reply, a log line.

    Returns:
        The findings, in text order, never overlapping, with offsets into `text`.

    >>> [(f.type.value, f.start, f.end) for f in find("call 555-0199")]
    [('PHONE', 5, 13)]
    """
    findings: list[Finding] = []
    for offset, piece in _windows(text):
        findings.extend(Finding(f.type, f.start + offset, f.end + offset) for f in _find_in(piece))
    return findings


def redact(text: str) -> str:
    """Replace the personal data in a text with typed placeholders such as `[EMAIL]`.

    Args:
        text: Any text: a shopper's message, a bot reply, a log line.

    Returns:
        The text with each finding replaced by its placeholder; everything else as it
        was (a text with nothing to redact comes back unchanged).

    >>> redact("ship to 12 Oak Street, Springfield, IL 62704; my password is Hunter2!")
    'ship to [ADDRESS], Springfield, IL [POSTCODE]; my password is [SECRET]'
    """
    findings = find(text)
    if not findings:
        return text
    out: list[str] = []
    last = 0
    for finding in findings:
        out.append(text[last : finding.start])
        out.append(finding.type.placeholder)
        last = finding.end
    out.append(text[last:])
    return "".join(out)


def redact_value(
    value: Any, keep_keys: Collection[str] = (), *, text: Callable[[str], str] = redact
) -> Any:
    """Redact every string inside a JSON-like value (dicts, lists, strings, numbers).

    Args:
        value: What to redact; it is not changed (a redacted copy is returned).
        keep_keys: Dict keys whose values are kept as they are, at any depth
            (identifiers such as `recipient_id`).
        text: What redacts one string (default `redact`); pass `functools.cache(redact)`
            to redact a string that recurs in the values of one call only once.

    Returns:
        A copy with every string passed through `redact`; dict keys, numbers,
        booleans and None as they were.

    >>> redact_value({"text": "call 555-0199", "n": 2, "id": "555-0199"}, keep_keys={"id"})
    {'text': 'call [PHONE]', 'n': 2, 'id': '555-0199'}
    """
    if isinstance(value, str):
        return text(value)
    if isinstance(value, dict):
        return {
            k: v if k in keep_keys else redact_value(v, keep_keys, text=text)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact_value(v, keep_keys, text=text) for v in value]
    return value


def has_placeholder(text: str) -> bool:
    """Whether a text holds a redaction placeholder (so it is not the real value)."""
    return any(p in text for p in PLACEHOLDERS)
