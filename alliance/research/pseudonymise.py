"""Pseudonymisation of free text before research sees it: a pure function, no database.

``pseudonymise(text, names=[...])`` replaces what could identify a person with a tag:

- e-mail addresses → ``[EMAIL]``
- NHS numbers (10 digits, grouped 3-3-4, or ungrouped with a valid check digit or after
  the word "NHS") → ``[NHS NUMBER]``
- phone numbers, UK (``07700 900123``, ``020 7946 0958``, ``(0161) 496 0123``) and
  international (``+44 7700 900123``, ``+1 (555) 010-0199``, ``0033 1 23 45 67 89``) →
  ``[PHONE]``
- dates (``12/03/1990``, ``1990-03-12``, ``12th March 1990``, ``March 12, 1990``,
  ``March 1990``, "born in 1985") → ``[DATE]``
- UK postcodes (``SW1A 1AA``, ``m1 1ae``) → ``[POSTCODE]``
- the names we know (the participant's, their supporter's, the service's staff), as whole
  words in any case; names that are also common words ("Will", "Grace") only when
  capitalised → ``[NAME]``
- a capitalised name right after a cue ("my husband Dave", "my daughter, Lily",
  "a nurse called Jo", "Dr Patel") → ``[NAME]``

When in doubt it removes too much rather than too little: a capitalised "Will" at the
start of a sentence is replaced too when a participant or a member of staff is called Will.
"""

import re
from collections.abc import Iterable

EMAIL_TAG = "[EMAIL]"
NHS_TAG = "[NHS NUMBER]"
PHONE_TAG = "[PHONE]"
DATE_TAG = "[DATE]"
POSTCODE_TAG = "[POSTCODE]"
NAME_TAG = "[NAME]"


def pseudonymise(text: str, *, names: Iterable[str] = ()) -> str:
    """The text with identifying details replaced by tags (see the module docstring)."""
    if not text:
        return text
    text = EMAIL.sub(EMAIL_TAG, text)
    text = replace_nhs_numbers(text)
    text = replace_phone_numbers(text)
    text = replace_dates(text)
    text = POSTCODE.sub(POSTCODE_TAG, text)
    text = replace_known_names(text, names)
    return replace_cued_names(text)


# --- E-mail --------------------------------------------------------------------------------

EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)


# --- NHS numbers ---------------------------------------------------------------------------

NHS_GROUPED = re.compile(r"(?<![\d+])([1-9]\d{2})[ \-]([0-9]{3})[ \-]([0-9]{4})(?![\d])")
NHS_PLAIN = re.compile(r"(?<![\d+])(\d{10})(?!\d)")
NHS_CUE = re.compile(r"(?i:\bNHS\b)[^\d\n]{0,20}$")


def nhs_check_digit_ok(digits: str) -> bool:
    """The NHS number's modulus-11 check: weights 10..2 over the first nine digits."""
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def replace_nhs_numbers(text: str) -> str:
    # Grouped 3-3-4 is the NHS's own way of writing it; a UK phone number starts with 0.
    text = NHS_GROUPED.sub(NHS_TAG, text)

    def plain(match: re.Match) -> str:
        digits = match.group(1)
        cued = NHS_CUE.search(text[max(0, match.start() - 30) : match.start()]) is not None
        if cued or (not digits.startswith("0") and nhs_check_digit_ok(digits)):
            return NHS_TAG
        return match.group(0)

    return NHS_PLAIN.sub(plain, text)


# --- Phone numbers -------------------------------------------------------------------------

# A run that starts like a phone number: "+", "00" or a UK "0" (maybe in parentheses),
# then digits with spaces, dots, dashes or parentheses between them.
PHONE_CANDIDATE = re.compile(r"(?<![\w+])(?:\+|\(\s*0|0)[\d\s().\-]{6,}\d(?!\d)")
SEPARATORS = re.compile(r"[\s().\-]+")


def phone_digits_ok(candidate: str) -> bool:
    digits = re.sub(r"\D", "", candidate)
    if candidate.lstrip("( ").startswith("+") or digits.startswith("00"):
        return 8 <= len(digits) <= 15
    return digits.startswith("0") and 10 <= len(digits) <= 11


def longest_phone_prefix(candidate: str) -> int:
    """The length of the longest prefix of ``candidate`` that is a phone number (0 if
    none): "07700 900123 3 times" is a number followed by another figure."""
    if phone_digits_ok(candidate):
        return len(candidate)
    cuts = [m.start() for m in SEPARATORS.finditer(candidate)]
    for cut in reversed(cuts):
        prefix = candidate[:cut].rstrip(" (.-")
        if prefix and prefix[-1] == ")":
            prefix = prefix[:-1]
        if phone_digits_ok(prefix):
            return len(prefix.rstrip())
    return 0


def replace_phone_numbers(text: str) -> str:
    def one(match: re.Match) -> str:
        candidate = match.group(0)
        length = longest_phone_prefix(candidate)
        if not length:
            return candidate
        return PHONE_TAG + candidate[length:]

    return PHONE_CANDIDATE.sub(one, text)


# --- Dates ---------------------------------------------------------------------------------

MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
DAY = r"(?:[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?"
YEAR = r"(?:19|20)\d{2}"
NUMERIC_DATE = re.compile(
    r"(?<![\d/.\-])(?:\d{1,2}[/.\-]\d{1,2}[/.\-](?:\d{4}|\d{2})|\d{4}-\d{1,2}-\d{1,2})"
    r"(?![\d/\-]|\.\d)"
)
DAY_MONTH = re.compile(rf"(?i)\b{DAY}(?:\s+of)?[\s\-]+{MONTHS}(?:,?[\s\-]+{YEAR})?(?![\w])")
MONTH_DAY = re.compile(rf"(?i)\b{MONTHS}\s+{DAY}(?:,?\s+{YEAR})?(?![\w])")
MONTH_YEAR = re.compile(rf"(?i)\b{MONTHS}\s+{YEAR}\b")
BORN_YEAR = re.compile(rf"(?i)\b(born(?:\s+(?:in|on))?\s+){YEAR}\b")
DOB = re.compile(r"(?i)\b(d\.?o\.?b\.?|date of birth)(\s*(?:is|:)?\s*)(\d{6,8})\b")


def plausible_numeric_date(value: str) -> bool:
    parts = [int(p) for p in re.split(r"[/.\-]", value)]
    if len(str(parts[0])) == 4 or value[:4].isdigit() and len(value.split("-")[0]) == 4:
        _year, month, day = parts
        return 1 <= month <= 12 and 1 <= day <= 31
    first, second, _year = parts
    # Day first (UK) or month first (US): either reading must be a real day and month.
    return (1 <= first <= 31 and 1 <= second <= 12) or (1 <= first <= 12 and 1 <= second <= 31)


def replace_dates(text: str) -> str:
    text = NUMERIC_DATE.sub(
        lambda m: DATE_TAG if plausible_numeric_date(m.group(0)) else m.group(0), text
    )
    text = DAY_MONTH.sub(DATE_TAG, text)
    text = MONTH_DAY.sub(month_day, text)
    text = MONTH_YEAR.sub(DATE_TAG, text)
    text = BORN_YEAR.sub(lambda m: m.group(1) + DATE_TAG, text)
    return DOB.sub(lambda m: m.group(1) + m.group(2) + DATE_TAG, text)


def month_day(match: re.Match) -> str:
    # "may 3" is a date, but "May 3 people" is not worth guessing about: a capital or a
    # full month name with a day is taken as a date; a lone lower-case "may" is a verb.
    word = match.group(0).split()[0]
    if word.lower().rstrip(".") == "may" and word[0].islower():
        return match.group(0)
    return DATE_TAG


# --- Postcodes -----------------------------------------------------------------------------

POSTCODE = re.compile(
    r"(?i)\b(?:GIR\s?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-HJKPSTUW\d]?\s?\d[ABD-HJLNP-UW-Z]{2})\b"
)


# --- Names ---------------------------------------------------------------------------------

# First names that are also everyday words: replaced only when written with a capital.
COMMON_WORD_NAMES = {
    "amber", "april", "art", "august", "autumn", "bill", "bob", "brook", "chance", "dawn",
    "destiny", "ernest", "faith", "frank", "grace", "guy", "hazel", "heather", "holly",
    "honey", "hope", "iris", "ivy", "jack", "jade", "jay", "joy", "june", "lily", "mark",
    "max", "may", "miles", "olive", "pat", "patience", "pearl", "penny", "rich", "robin",
    "rose", "ruby", "rusty", "sage", "sky", "summer", "sunny", "violet", "will", "win",
    "wren",
}  # fmt: skip


def name_words(names: Iterable[str]) -> set[str]:
    """Every full name and every part of one that could be written on its own."""
    words: set[str] = set()
    for name in names:
        name = " ".join((name or "").split())
        if len(name) < 2:
            continue
        words.add(name)
        for part in re.split(r"[\s,]+", name):
            part = part.strip(".")
            if len(part) >= 2 and not part.isdigit():
                words.add(part)
    return words


def replace_known_names(text: str, names: Iterable[str]) -> str:
    words = name_words(names)
    if not words:
        return text
    # Longest first, so "Sam Okafor" is one [NAME] rather than two.
    ordered = sorted(words, key=lambda w: (-len(w), w))
    anywhere = [w for w in ordered if w.lower() not in COMMON_WORD_NAMES]
    capitalised = [w for w in ordered if w.lower() in COMMON_WORD_NAMES]
    if anywhere:
        pattern = re.compile(
            r"(?<![\w\[])(?:" + "|".join(re.escape(w) for w in anywhere) + r")(?![\w\]])",
            re.IGNORECASE,
        )
        text = pattern.sub(NAME_TAG, text)
    if capitalised:
        pattern = re.compile(
            r"(?<![\w\[])(?:"
            + "|".join(re.escape(w[0].upper() + w[1:]) for w in capitalised)
            + r")(?![\w\]])"
        )
        text = pattern.sub(NAME_TAG, text)
    return text


RELATIONS = (
    r"husband|wife|partner|fianc[eé]e?|boyfriend|girlfriend|son|daughter|child|baby|mum|mom"
    r"|mother|dad|father|sister|brother|friend|coach|therapist|supporter|counsell?or|gp"
    r"|doctor|nurse|midwife|health visitor|neighbou?r|boss|manager|colleague|aunt|auntie"
    r"|uncle|nan|nana|gran|granny|grandma|grandad|grandpa|grandmother|grandfather|cousin"
    r"|niece|nephew|stepdaughter|stepson|step-?mum|step-?dad|twin|carer|worker|practitioner"
    r"|boy|girl|toddler|kid|lad|lass|ex|fiancée"
)
CUE = (
    r"(?i:\b(?:my|our|her|his|their)\s+(?:(?:little|older|younger|big|baby|new|old|best|ex"
    rf"|eldest|youngest)[\s\-]+)?(?:{RELATIONS})|\bcalled|\bnamed|\bmy name is|\bi'?m called)"
    r"|\b(?:Dr|Mr|Mrs|Ms|Miss|Mx|Prof)\.?"
)
NAME_WORD = r"[^\W\d_][^\W\d_'’\-]*(?:['’\-][^\W\d_]+)*"
# A name starts with a capital (ASCII or Latin-1); looking ahead keeps "my mum is called
# Rose" from swallowing "is called" as a two-word name.
CAPITAL = r"(?=[A-Z\u00C0-\u00DE])"
CUED_NAME = re.compile(
    rf"(?P<cue>{CUE})(?P<sep>,?\s+)(?P<name>{CAPITAL}{NAME_WORD}(?:\s+{CAPITAL}{NAME_WORD})?)"
)

# Capitalised words that follow a cue but are not names ("my GP And I", "my son The...").
NOT_NAMES = {
    "A", "About", "Again", "All", "Also", "Always", "An", "And", "Any", "As", "At", "But",
    "By", "Did", "Does", "Even", "Every", "For", "From", "Had", "Has", "Have", "He", "Her",
    "Him", "His", "However", "I", "If", "In", "Is", "It", "Just", "My", "Never", "No", "Not",
    "Now", "Of", "On", "Once", "Or", "Our", "She", "So", "Still", "That", "The", "Their",
    "Then", "They", "This", "To", "Too", "Was", "We", "Were", "When", "Which", "Who", "With",
    "Would", "Yes", "You",
}  # fmt: skip


def is_name_word(word: str) -> bool:
    return word[:1].isupper() and word not in NOT_NAMES


def replace_cued_names(text: str) -> str:
    def one(match: re.Match) -> str:
        words = match.group("name").split()
        if not is_name_word(words[0]):
            return match.group(0)
        rest = ""
        if len(words) > 1 and not is_name_word(words[1]):
            rest = match.group("name")[match.group("name").index(words[1]) - 1 :]
        return match.group("cue") + match.group("sep") + NAME_TAG + rest

    return CUED_NAME.sub(one, text)
