"""Risk language in a patient's message: the matching rule, pure and with no database.

A patient's message is checked against their service's list of risk phrases (a default list
below, which an administrator can extend or edit at /messages/settings/). A match raises a
risk alert to the care team and shows the patient the crisis information at once. Nothing
answers the patient clinically on its own: no automatic message is ever sent.

The rule
--------
1. Text and phrases are normalised the same way: Unicode compatibility forms folded (NFKC;
   full-width letters, ligatures), accents removed, case folded ("Suicide", "SUİCİDE" and
   "suïcide" are the same), and everything that is not a letter or a digit (punctuation,
   apostrophes, hyphens, emoji, line breaks, repeated spaces) becomes a single word break.
2. A phrase matches where it starts at the start of a word of the text and its letters
   follow in order, with word breaks inside the phrase ignored: "self harm" matches
   "self-harm", "selfharm" and "self harm"; "kill myself" matches "kill my self";
   "can't go on" matches "cant go on".
3. The last word of a phrase also matches longer words that begin with it, and a last word
   of five letters or more ending in "e" is shortened by that "e" first (a stem rule):
   "suicide" matches "suicidal", "suicides" and "suicidality"; "overdose" matches
   "overdosed" and "overdosing"; "self harm" matches "self harming".

Its limits (documented in the README too)
-----------------------------------------
It errs towards flagging, so it flags a message that only mentions a phrase: "a leaflet
about suicide prevention", "I would never kill myself", "the cake was to die for" (with
"want to die" only when written as such), "I could kill myself laughing". Staff read the
message and acknowledge the alert; a false alarm costs a minute. It cannot catch what is not
in the list: other words for the same thing ("I don't see the point any more", "everyone
would be better without me" unless listed), most misspellings (a few common ones are
listed), other languages, emoji, irony, or risk spread over several messages. It does not
understand negation or context. It is a safety net under the care team's reading, never a
replacement for it.
"""

import re
import unicodedata
from dataclasses import dataclass

# The default list, in British English. A service extends or edits it; the rule above
# makes each entry also cover its hyphenated, run-together and inflected forms.
DEFAULT_RISK_PHRASES: tuple[str, ...] = (
    "suicide",
    "sucide",
    "suiside",
    "kill myself",
    "killing myself",
    "end my life",
    "ending my life",
    "end it all",
    "ending it all",
    "take my own life",
    "taking my own life",
    "better off dead",
    "better off without me",
    "want to die",
    "wanna die",
    "wish i was dead",
    "wish i were dead",
    "no reason to live",
    "nothing to live for",
    "not worth living",
    "don't want to live",
    "don't want to be alive",
    "can't go on",
    "cannot go on",
    "hurt myself",
    "hurting myself",
    "harm myself",
    "harming myself",
    "self harm",
    "cut myself",
    "cutting myself",
    "hang myself",
    "overdose",
    "take an overdose",
    "harm my baby",
    "hurt my baby",
    "harm the baby",
    "hurt the baby",
)

# A phrase shorter than this (letters and digits) would match far too much ("od", "die").
MIN_PHRASE_LETTERS = 3
MAX_PHRASE_LENGTH = 100
MAX_PHRASES = 300
# A last word at least this long and ending in "e" also matches its stem (suicide → suicid).
STEM_MIN_LETTERS = 5

_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> list[str]:
    """The text as normalised words: NFKC, no accents, case folded, letters and digits."""
    compatible = unicodedata.normalize("NFKC", text)
    decomposed = unicodedata.normalize("NFKD", compatible)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _WORD.findall(unicodedata.normalize("NFKC", bare).casefold())


def normalise_phrase(phrase: str) -> str:
    """The phrase as it is stored and shown: its normalised words, one space apart."""
    return " ".join(words(phrase))


def phrase_core(phrase: str) -> str:
    """What the text must contain from a word start: the phrase's letters, with the stem
    rule applied to its last word."""
    parts = words(phrase)
    if not parts:
        return ""
    last = parts[-1]
    if len(last) >= STEM_MIN_LETTERS and last.endswith("e"):
        parts[-1] = last[:-1]
    return "".join(parts)


def _matches_at(text_words: list[str], start: int, core: str) -> bool:
    joined = ""
    for word in text_words[start:]:
        joined += word
        if joined.startswith(core):
            return True
        if not core.startswith(joined):
            return False
    return False


@dataclass(frozen=True)
class RiskMatch:
    phrases: tuple[str, ...]

    @property
    def flagged(self) -> bool:
        return bool(self.phrases)


def find_risk_phrases(text: str, phrases) -> RiskMatch:
    """Every phrase of ``phrases`` that the text matches, by the rule of this module, in
    the order of the list."""
    text_words = words(text or "")
    found = []
    for phrase in phrases:
        core = phrase_core(phrase)
        if len(core) < MIN_PHRASE_LETTERS:
            continue
        if any(_matches_at(text_words, i, core) for i in range(len(text_words))):
            found.append(" ".join(phrase.split()))
    return RiskMatch(tuple(dict.fromkeys(found)))


def clean_phrase_list(lines) -> tuple[list[str], list[str]]:
    """A service's list from what an administrator typed, one phrase a line: spaces
    tidied, repeats (by the normalised form) dropped, their order kept. Returns
    ``(phrases, refused)``: ``refused`` are the lines too short or too long to use."""
    phrases: list[str] = []
    seen: set[str] = set()
    refused: list[str] = []
    for raw in lines:
        phrase = " ".join(str(raw).split())
        if not phrase:
            continue
        key = normalise_phrase(phrase)
        if len(phrase) > MAX_PHRASE_LENGTH or len(key.replace(" ", "")) < MIN_PHRASE_LETTERS:
            refused.append(phrase)
            continue
        if key not in seen:
            seen.add(key)
            phrases.append(phrase)
    return phrases, refused
