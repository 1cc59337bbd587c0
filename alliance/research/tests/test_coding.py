"""Coding in the browser and through the API: passages, codes, memos, blind coding."""

import re

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alliance.research import services
from alliance.research.models import Coding, DocumentCompletion
from alliance.research.tests.conftest import answer_feedback, code_named, consent, document_with


@pytest.fixture
def document(project):
    return document_with(project, "thought records")


def query_count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as context:
        client.get(url)
    return len(context.captured_queries)


def page_of(project, document):
    return f"/research/projects/{project.pk}/documents/{document.pk}/code/"


def api_of(project, document):
    return f"/api/v1/research/projects/{project.pk}/documents/{document.pk}/codings"


class TestCodingService:
    def test_it_codes_a_passage_with_several_codes(self, project, document, tomasz):
        warmth, empathy = code_named(project, "Warmth"), code_named(project, "Empathy")
        codings = services.codings_apply(
            document=document,
            coder=tomasz.user,
            codes=[warmth, empathy],
            start=28,
            end=48,
            memo="Praise of the supporter",
        )
        assert [(c.code.name, c.start, c.end) for c in codings] == [
            ("Warmth", 28, 48),
            ("Empathy", 28, 48),
        ]
        assert Coding.objects.get(code=warmth).memo == "Praise of the supporter"

    def test_it_finds_quoted_words(self, project, document, tomasz):
        (coding,) = services.codings_apply(
            document=document,
            coder=tomasz.user,
            codes=[code_named(project, "Warmth")],
            quote="was  BRILLIANT",
        )
        assert document.text[coding.start : coding.end] == "was brilliant"

    def test_a_retry_makes_no_second_coding(self, project, document, tomasz):
        warmth = code_named(project, "Warmth")
        for _ in range(2):
            services.codings_apply(
                document=document, coder=tomasz.user, codes=[warmth], start=0, end=4
            )
        assert Coding.objects.count() == 1

    def test_it_counts_positions_in_codepoints(self, project, tomasz, alice, sam):
        answer_feedback(alice, sam.user, {"calls_improve": "😀 emoji first, then words"})
        services.project_refresh_documents(project=project)
        document = document_with(project, "emoji first")
        (coding,) = services.codings_apply(
            document=document,
            coder=tomasz.user,
            codes=[code_named(project, "Warmth")],
            quote="emoji",
        )
        assert (coding.start, coding.end) == (2, 7)

    @pytest.mark.parametrize(
        ("passage", "field"),
        [
            ({"start": -1, "end": 4}, "start"),
            ({"start": 90, "end": 200}, "end"),
            ({"start": 200, "end": 210}, "start"),
            ({"start": 5, "end": 5}, "end"),
            ({"start": 9, "end": 3}, "end"),
            ({}, "start"),
            ({"quote": "words that are not there"}, "quote"),
        ],
    )
    def test_it_refuses_a_selection_outside_the_text(
        self, project, document, tomasz, passage, field
    ):
        with pytest.raises(ValidationError) as error:
            services.codings_apply(
                document=document,
                coder=tomasz.user,
                codes=[code_named(project, "Warmth")],
                **passage,
            )
        assert field in error.value.message_dict
        assert not Coding.objects.exists()

    def test_it_refuses_an_ambiguous_quote(self, project, tomasz, alice, sam):
        answer_feedback(alice, sam.user, {"calls_improve": "more calls, more calls"})
        services.project_refresh_documents(project=project)
        with pytest.raises(ValidationError) as error:
            services.codings_apply(
                document=document_with(project, "more calls"),
                coder=tomasz.user,
                codes=[code_named(project, "Warmth")],
                quote="more calls",
            )
        assert "appear 2 times" in error.value.message_dict["quote"][0]

    def test_it_refuses_a_code_from_another_codebook(self, project, document, tomasz):
        other = services.project_create(
            lead=tomasz, title="Other", instruments=["feedback"], starter="change-processes"
        )
        with pytest.raises(ValidationError) as error:
            services.codings_apply(
                document=document,
                coder=tomasz.user,
                codes=[code_named(other, "Self-care")],
                start=0,
                end=4,
            )
        assert "not in this project's codebook" in error.value.message_dict["codes"][0]
        assert not Coding.objects.exists()

    def test_it_refuses_a_grouping_code(self, project, document, tomasz):
        with pytest.raises(ValidationError) as error:
            services.codings_apply(
                document=document,
                coder=tomasz.user,
                codes=[code_named(project, "Qualities of the supporter")],
                start=0,
                end=4,
            )
        assert "codes" in error.value.message_dict

    def test_it_refuses_coding_after_coding_ends(self, project, document, tomasz):
        services.project_set_status(project=project, status="reconciliation", actor=tomasz.user)
        with pytest.raises(ValidationError):
            services.codings_apply(
                document=document,
                coder=tomasz.user,
                codes=[code_named(project, "Warmth")],
                start=0,
                end=4,
            )
        assert not Coding.objects.exists()


class TestCodingPage:
    def test_it_shows_the_text_the_codes_and_their_shortcuts(self, login, project, document, uma):
        page = login(uma).get(page_of(project, document)).content.decode()
        assert "The thought records helped." in page
        assert 'data-shortcut="1"' in page and "<kbd" in page
        assert "research/coding.js" in page
        assert 'name="quote"' in page and 'name="start"' in page  # works without script

    def test_it_codes_by_positions(self, login, project, document, uma):
        warmth = code_named(project, "Warmth")
        response = login(uma).post(
            page_of(project, document),
            {"codes": [warmth.pk], "start": "28", "end": "48", "memo": "kind"},
        )
        assert response.status_code == 302
        coding = Coding.objects.get()
        assert (coding.start, coding.end, coding.coder, coding.memo) == (28, 48, uma.user, "kind")

    def test_it_codes_by_quote_and_highlights_the_passage(self, login, project, document, uma):
        client = login(uma)
        client.post(
            page_of(project, document),
            {"codes": [code_named(project, "Empathy").pk], "quote": "was brilliant"},
        )
        page = client.get(page_of(project, document)).content.decode()
        assert re.search(
            r'<mark class="coded" data-start="\d+" title="Empathy">was brilliant', page
        )

    def test_it_codes_the_whole_response(self, login, project, document, uma):
        login(uma).post(
            page_of(project, document),
            {"codes": [code_named(project, "Warmth").pk], "whole": "on", "start": "3"},
        )
        coding = Coding.objects.get()
        assert (coding.start, coding.end) == (0, len(document.text))

    def test_a_selection_outside_the_text_is_refused_naming_the_field(
        self, login, project, document, uma
    ):
        response = login(uma).post(
            page_of(project, document),
            {"codes": [code_named(project, "Warmth").pk], "start": "10", "end": "500"},
        )
        page = response.content.decode()
        assert response.status_code == 400
        assert "There is a problem" in page and 'href="#id_end"' in page
        assert "must lie within the text" in page
        assert not Coding.objects.exists()

    def test_a_code_from_another_codebook_is_refused(self, login, project, document, uma, tomasz):
        other = services.project_create(
            lead=tomasz, title="Other", instruments=["feedback"], starter="change-processes"
        )
        response = login(uma).post(
            page_of(project, document),
            {"codes": [code_named(other, "Self-care").pk], "start": "0", "end": "4"},
        )
        assert response.status_code == 400
        assert 'href="#id_codes"' in response.content.decode()
        assert not Coding.objects.exists()

    def test_a_coder_removes_only_their_own_coding(self, login, project, document, uma, tomasz):
        warmth = code_named(project, "Warmth")
        (mine,) = services.codings_apply(
            document=document, coder=uma.user, codes=[warmth], start=0, end=3
        )
        (theirs,) = services.codings_apply(
            document=document, coder=tomasz.user, codes=[warmth], start=0, end=3
        )
        client = login(uma)
        base = f"/research/projects/{project.pk}/codings/"
        assert client.post(f"{base}{theirs.pk}/delete/").status_code == 404
        assert client.post(f"{base}{mine.pk}/delete/").status_code == 302
        assert list(Coding.objects.values_list("pk", flat=True)) == [theirs.pk]

    def test_marking_done_moves_to_the_next_response(self, login, project, document, uma):
        response = login(uma).post(
            f"/research/projects/{project.pk}/documents/{document.pk}/done/", {"done": "1"}
        )
        assert DocumentCompletion.objects.filter(document=document, coder=uma.user).exists()
        assert response.status_code == 302 and response["Location"] != page_of(project, document)

    def test_an_adjudicator_cannot_code(self, login, project, document, vic):
        services.project_add_member(project=project, staff=vic, role="adjudicator")
        response = login(vic).post(
            page_of(project, document), {"codes": [code_named(project, "Warmth").pk], "whole": "on"}
        )
        assert response.status_code == 403
        assert not Coding.objects.exists()

    def test_outsiders_get_not_found(self, login, project, document, vic, wes, sam):
        for outsider in (vic, wes, sam):
            assert login(outsider).get(page_of(project, document)).status_code == 404

    def test_its_query_count_does_not_grow_with_the_codings(
        self, login, project, document, uma, django_assert_num_queries
    ):
        codes = list(project.codebook.codes.filter(is_codable=True))
        client = login(uma)
        services.codings_apply(document=document, coder=uma.user, codes=codes[:1], start=0, end=5)
        expected = query_count(client, page_of(project, document))
        for start in range(12):
            services.codings_apply(
                document=document, coder=uma.user, codes=codes, start=start, end=start + 9
            )
        with django_assert_num_queries(expected):
            response = client.get(page_of(project, document))
        assert response.content.decode().count("<mark") > 5


class TestBlindCoding:
    @pytest.fixture
    def both_coded(self, project, document, tomasz, uma):
        warmth = code_named(project, "Warmth")
        services.codings_apply(
            document=document, coder=tomasz.user, codes=[warmth], start=0, end=10, memo="lead note"
        )
        services.codings_apply(
            document=document, coder=uma.user, codes=[warmth], start=28, end=48, memo="uma note"
        )

    def test_a_coder_sees_only_their_own_codings(self, login, project, document, uma, both_coded):
        page = login(uma).get(page_of(project, document)).content.decode()
        assert "uma note" in page and "lead note" not in page
        api = login(uma).get(api_of(project, document)).json()
        assert [c["memo"] for c in api] == ["uma note"]

    def test_the_lead_is_blind_too(self, login, project, document, tomasz, both_coded):
        api = login(tomasz).get(api_of(project, document)).json()
        assert [c["memo"] for c in api] == ["lead note"]

    def test_everyone_sees_everything_once_reconciliation_opens(
        self, login, project, document, uma, tomasz, both_coded
    ):
        services.project_set_status(project=project, status="reconciliation", actor=tomasz.user)
        api = login(uma).get(api_of(project, document)).json()
        assert sorted(c["memo"] for c in api) == ["lead note", "uma note"]
        assert {c["coder"] for c in api} == {"Tomasz Researcher", "Uma Coder"}

    def test_a_project_that_is_not_blind_shows_everything(self, login, tomasz, uma, answers, alice):
        consent(alice)
        open_project = services.project_create(
            lead=tomasz,
            title="Open",
            instruments=["feedback"],
            coders=[uma],
            blind=False,
            starter="supporter-qualities",
        )
        document = open_project.documents.first()
        warmth = code_named(open_project, "Warmth")
        services.codings_apply(document=document, coder=tomasz.user, codes=[warmth], start=0, end=2)
        assert len(login(uma).get(api_of(open_project, document)).json()) == 1

    def test_disagreements_stay_hidden_during_blind_coding(self, login, project, uma, both_coded):
        client = login(uma)
        listed = client.get(f"/api/v1/research/projects/{project.pk}/disagreements")
        assert listed.status_code == 403
        page = client.get(f"/research/projects/{project.pk}/reconcile/").content.decode()
        assert "Coding is blind" in page


class TestCodingApi:
    def test_it_creates_lists_and_deletes_codings(self, login, project, document, uma):
        client = login(uma)
        warmth, empathy = code_named(project, "Warmth"), code_named(project, "Empathy")
        created = client.post(
            api_of(project, document),
            {"codes": [warmth.pk, empathy.pk], "quote": "was brilliant", "memo": "m"},
            content_type="application/json",
        )
        assert created.status_code == 201
        body = created.json()
        assert [c["passage"] for c in body] == ["was brilliant", "was brilliant"]
        assert body[0]["coder"] == "Uma Coder"
        assert len(client.get(api_of(project, document)).json()) == 2
        deleted = client.delete(f"/api/v1/research/projects/{project.pk}/codings/{body[0]['id']}")
        assert deleted.status_code == 204 and Coding.objects.count() == 1

    def test_a_retry_returns_the_same_coding(self, login, project, document, uma):
        client = login(uma)
        payload = {"codes": [code_named(project, "Warmth").pk], "start": 0, "end": 4}
        first = client.post(api_of(project, document), payload, content_type="application/json")
        again = client.post(api_of(project, document), payload, content_type="application/json")
        assert first.json()[0]["id"] == again.json()[0]["id"]
        assert Coding.objects.count() == 1

    @pytest.mark.parametrize(
        ("payload", "field"),
        [
            ({"start": 0, "end": 9999}, "end"),
            ({"start": -3, "end": 2}, "start"),
            ({"quote": "nowhere to be found"}, "quote"),
            ({}, "start"),
        ],
    )
    def test_it_refuses_a_selection_outside_the_text(
        self, login, project, document, uma, payload, field
    ):
        payload = {"codes": [code_named(project, "Warmth").pk], **payload}
        response = login(uma).post(
            api_of(project, document), payload, content_type="application/json"
        )
        assert response.status_code == 422
        assert field in response.json()["error"]["fields"]
        assert not Coding.objects.exists()

    def test_it_refuses_a_code_from_another_codebook_or_none(
        self, login, project, document, uma, tomasz
    ):
        other = services.project_create(
            lead=tomasz, title="Other", instruments=["feedback"], starter="change-processes"
        )
        client = login(uma)
        for codes in ([code_named(other, "Self-care").pk], [999999], []):
            response = client.post(
                api_of(project, document),
                {"codes": codes, "start": 0, "end": 4},
                content_type="application/json",
            )
            assert response.status_code == 422
            assert "codes" in response.json()["error"]["fields"]
        assert not Coding.objects.exists()

    def test_it_marks_a_document_done_and_reopens_it(self, login, project, document, uma):
        client = login(uma)
        url = f"/api/v1/research/projects/{project.pk}/documents/{document.pk}/done"
        assert client.put(url, {"done": True}, content_type="application/json").json()["done"]
        assert DocumentCompletion.objects.count() == 1
        assert not client.put(url, {"done": False}, content_type="application/json").json()["done"]
        assert not DocumentCompletion.objects.exists()

    def test_others_codings_cannot_be_deleted(self, login, project, document, uma, tomasz):
        (theirs,) = services.codings_apply(
            document=document,
            coder=tomasz.user,
            codes=[code_named(project, "Warmth")],
            start=0,
            end=2,
        )
        response = login(uma).delete(f"/api/v1/research/projects/{project.pk}/codings/{theirs.pk}")
        assert response.status_code == 404 and Coding.objects.count() == 1

    def test_outsiders_get_not_found(self, login, project, document, vic, wes, alice):
        for outsider in (vic, wes, alice):
            client = login(outsider)
            assert client.get(api_of(project, document)).status_code == 404
            response = client.post(
                api_of(project, document),
                {"codes": [code_named(project, "Warmth").pk], "start": 0, "end": 2},
                content_type="application/json",
            )
            assert response.status_code == 404
        assert not Coding.objects.exists()


class TestDocumentList:
    def test_it_lists_responses_with_my_progress(self, login, project, document, uma):
        services.document_set_done(document=document, coder=uma.user)
        page = login(uma).get(f"/research/projects/{project.pk}/documents/").content.decode()
        assert "1 of 4 responses finished by you." in page
        assert page.count(f"/research/projects/{project.pk}/documents/") >= 5

    def test_its_query_count_does_not_grow_with_the_responses(
        self, login, project, uma, alice, sam, django_assert_num_queries
    ):
        client = login(uma)
        url = f"/research/projects/{project.pk}/documents/"
        expected = query_count(client, url)
        for n in range(5):
            answer_feedback(alice, sam.user, {"calls_improve": f"Idea number {n}"})
        services.project_refresh_documents(project=project)
        for document in project.documents.all():
            services.document_set_done(document=document, coder=uma.user)
        with django_assert_num_queries(expected):
            response = client.get(url)
        assert "9 of 9 responses finished by you." in response.content.decode()
