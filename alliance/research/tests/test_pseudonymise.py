"""Pseudonymisation of open answers, with examples of what must go and what must stay."""

import pytest

from alliance.research.pseudonymise import nhs_check_digit_ok, pseudonymise

NAMES = ["Amira Hassan", "Amira", "Sam Okafor", "Priya Raman", "Will Turner", "Grace Lee"]


def clean(text: str) -> str:
    return pseudonymise(text, names=NAMES)


class TestEmails:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("mail me at amira.h@example.com", "mail me at [EMAIL]"),
            ("jo+nhs@mail.example.co.uk.", "[EMAIL]."),
            ("(x_y-z@sub.domain.org)", "([EMAIL])"),
            ("Contact: O'Neil@example.ie", "Contact: [EMAIL]"),
        ],
    )
    def test_it_replaces_email_addresses(self, text, expected):
        assert clean(text) == expected


class TestPhoneNumbers:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("call 07700 900123", "call [PHONE]"),
            ("call 07700900123 today", "call [PHONE] today"),
            ("ring 07700-900-123", "ring [PHONE]"),
            ("020 7946 0958 is the office", "[PHONE] is the office"),
            ("on (0161) 496 0123.", "on [PHONE]."),
            ("0113 496 0000 or 01632 960123", "[PHONE] or [PHONE]"),
            ("+44 7700 900123", "[PHONE]"),
            ("+44 (0)20 7946 0958", "[PHONE]"),
            ("+1 (555) 010-0199 in Boston", "[PHONE] in Boston"),
            ("0033 1 23 45 67 89", "[PHONE]"),
            ("+353 87 123 4567", "[PHONE]"),
            ("call 07700 900123 3 times a day", "call [PHONE] 3 times a day"),
        ],
    )
    def test_it_replaces_uk_and_international_numbers(self, text, expected):
        assert clean(text) == expected

    @pytest.mark.parametrize(
        "text",
        [
            "My PHQ-9 went from 19 to 7 in 12 weeks.",
            "I did 3 of the 5 modules, about 20 minutes each.",
            "Session 4 of 6 was the best; 10/10 would recommend.",
            "Between 2 and 3 times a week",
            "It cost £120 and took 45 mins",
        ],
    )
    def test_it_leaves_ordinary_numbers(self, text):
        assert clean(text) == text


class TestNhsNumbers:
    def test_it_knows_the_check_digit(self):
        assert nhs_check_digit_ok("9434765919")
        assert not nhs_check_digit_ok("9434765918")

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("NHS number 943 476 5919", "NHS number [NHS NUMBER]"),
            ("943-476-5919 is mine", "[NHS NUMBER] is mine"),
            ("number 9434765919 on the letter", "number [NHS NUMBER] on the letter"),
            ("my NHS no. is 1234567890", "my NHS no. is [NHS NUMBER]"),
        ],
    )
    def test_it_replaces_nhs_numbers(self, text, expected):
        assert clean(text) == expected

    def test_it_leaves_a_ten_digit_figure_that_is_not_one(self):
        assert clean("reference 1234567890 please") == "reference 1234567890 please"


class TestDates:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("DOB 12/03/1990", "DOB [DATE]"),
            ("born 3.7.85 in Leeds", "born [DATE] in Leeds"),
            ("on 1990-03-12", "on [DATE]"),
            ("my birthday is 12th March 1990", "my birthday is [DATE]"),
            ("12 March", "[DATE]"),
            ("on the 3rd of May my baby came", "on the [DATE] my baby came"),
            ("since March 12, 2021", "since [DATE]"),
            ("Sept 2022 was hard", "[DATE] was hard"),
            ("I was born in 1985", "I was born in [DATE]"),
            ("date of birth: 120390", "date of birth: [DATE]"),
        ],
    )
    def test_it_replaces_dates_and_dates_of_birth(self, text, expected):
        assert clean(text) == expected

    @pytest.mark.parametrize(
        "text",
        [
            "It may help others.",
            "I may 3 times have given up",
            "In March I started the programme.",
            "I scored 19/27 at first",
        ],
    )
    def test_it_leaves_words_that_only_look_like_dates(self, text):
        assert clean(text) == text


class TestPostcodes:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("I live in LS1 4AP now", "I live in [POSTCODE] now"),
            ("sw1a 1aa", "[POSTCODE]"),
            ("M1 1AE.", "[POSTCODE]."),
            ("EC1A1BB", "[POSTCODE]"),
        ],
    )
    def test_it_replaces_uk_postcodes(self, text, expected):
        assert clean(text) == expected


class TestNames:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("Sam was lovely", "[NAME] was lovely"),
            ("sam really listened", "[NAME] really listened"),
            ("Sam Okafor called me", "[NAME] called me"),
            ("Thanks to Okafor", "Thanks to [NAME]"),
            ("Sam's calls", "[NAME]'s calls"),
            ("I'm Amira, by the way", "I'm [NAME], by the way"),
            ("AMIRA HASSAN", "[NAME]"),
            ("Priya covered once", "[NAME] covered once"),
            ("Will helped me", "[NAME] helped me"),
            ("Grace was kind", "[NAME] was kind"),
        ],
    )
    def test_it_replaces_the_names_it_knows(self, text, expected):
        assert clean(text) == expected

    @pytest.mark.parametrize(
        "text",
        [
            "I will try again",
            "by the grace of the calls",
            "Same again, sample of one",
            "Samaritans helped too",
        ],
    )
    def test_it_keeps_common_words_and_longer_words(self, text):
        assert clean(text) == text

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("my husband Dave was supportive", "my husband [NAME] was supportive"),
            ("My daughter, Lily, slept better", "My daughter, [NAME], slept better"),
            ("my little boy Oscar", "my little boy [NAME]"),
            ("my son Oscar Wilde-Smith", "my son [NAME]"),
            ("a nurse called Jo came", "a nurse called [NAME] came"),
            ("Dr Patel said so", "Dr [NAME] said so"),
            ("Mrs. Jones at the clinic", "Mrs. [NAME] at the clinic"),
            ("my coach Jenny was great", "my coach [NAME] was great"),
            ("our GP Dr Khan", "our GP [NAME]"),
            ("my health visitor Maria", "my health visitor [NAME]"),
            ("My name is Zainab.", "My name is [NAME]."),
            ("my partner And I argued", "my partner And I argued"),
            ("my mum is called Rose", "my mum is called [NAME]"),
            ("my wife Sarah Jones helped", "my wife [NAME] helped"),
            ("my husband Dave And me", "my husband [NAME] And me"),
        ],
    )
    def test_it_replaces_a_capitalised_name_after_a_cue(self, text, expected):
        assert clean(text) == expected

    def test_it_leaves_a_lower_case_word_after_a_cue(self):
        assert clean("my partner was working and my son called back") == (
            "my partner was working and my son called back"
        )


class TestWholeAnswers:
    def test_it_cleans_a_realistic_answer(self):
        text = (
            "Sam rang me every Tuesday on 07700 900123 and emailed sam.okafor@nhs.example. "
            "My husband Tom noticed the change by 14/02/2024. We live near LS6 2AB."
        )
        assert clean(text) == (
            "[NAME] rang me every Tuesday on [PHONE] and emailed [EMAIL]. "
            "My husband [NAME] noticed the change by [DATE]. We live near [POSTCODE]."
        )

    def test_it_changes_nothing_without_identifiers(self):
        text = "The thought records helped me most. More videos would be good."
        assert clean(text) == text

    def test_it_handles_empty_text_and_no_names(self):
        assert pseudonymise("", names=[]) == ""
        assert pseudonymise("Call 07700 900123") == "Call [PHONE]"

    def test_it_keeps_newlines_and_spacing(self):
        assert clean("Line one\n\nSam, line two") == "Line one\n\n[NAME], line two"
