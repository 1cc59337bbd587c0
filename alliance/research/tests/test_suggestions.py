"""Suggested themes wired into the project: a background run with progress, groups offered
to the lead as draft codes, and nothing ever coded. (The grouping itself is tested in
test_themes.py; here the word-overlap embedder keeps the tests fast.)"""

import pytest
from django.core.exceptions import ValidationError

from alliance.research import services
from alliance.research.models import Code, Coding, ThemeSuggestion
from alliance.research.tests.conftest import answer_feedback


@pytest.fixture(autouse=True)
def word_overlap(settings):
    settings.ALLIANCE_THEMES_EMBEDDER = "tfidf"


MORE = [
    "The weekly calls with my coach kept me going.",
    "My coach calls every week were the best part.",
    "Too many reminders and notifications on my phone.",
    "The app sent far too many notifications.",
]


@pytest.fixture
def responses(project, alice, sam):
    for text in MORE:
        answer_feedback(alice, sam.user, {"programme_improve": text})
    services.project_refresh_documents(project=project)
    return project


def run_now(project, user, django_capture_on_commit_callbacks) -> ThemeSuggestion:
    with django_capture_on_commit_callbacks(execute=True):
        suggestion = services.suggestion_start(project=project, actor=user)
    suggestion.refresh_from_db()
    return suggestion


class TestSuggestionService:
    def test_it_groups_every_response_and_codes_nothing(
        self, responses, tomasz, django_capture_on_commit_callbacks
    ):
        suggestion = run_now(responses, tomasz.user, django_capture_on_commit_callbacks)
        assert suggestion.status == "done" and suggestion.progress == 1.0
        assert suggestion.backend == "tfidf" and suggestion.finished_at is not None
        grouped = sorted(d for g in suggestion.groups for d in g["document_ids"])
        assert grouped == sorted(responses.documents.values_list("pk", flat=True))
        assert all(g["label_words"] for g in suggestion.groups)
        assert not Coding.objects.exists()

    def test_it_runs_one_at_a_time(self, responses, tomasz):
        services.suggestion_start(project=responses, actor=tomasz.user)
        with pytest.raises(ValidationError) as error:
            services.suggestion_start(project=responses, actor=tomasz.user)
        assert "status" in error.value.message_dict
        assert ThemeSuggestion.objects.count() == 1

    def test_a_run_is_claimed_once(self, responses, tomasz):
        suggestion = services.suggestion_start(project=responses, actor=tomasz.user)
        assert services.suggestion_run(suggestion_id=suggestion.pk) == "done"
        assert services.suggestion_run(suggestion_id=suggestion.pk) == "skipped"

    def test_a_failure_is_recorded_and_changes_nothing_else(self, responses, tomasz):
        suggestion = services.suggestion_start(project=responses, actor=tomasz.user)

        def broken(texts, progress):
            raise RuntimeError("out of memory")

        assert services.suggestion_run(suggestion_id=suggestion.pk, embedder=broken) == "failed"
        suggestion.refresh_from_db()
        assert suggestion.error == "out of memory" and not suggestion.groups
        codes = responses.codebook.codes.count()
        services.suggestion_start(project=responses, actor=tomasz.user)  # may start again
        assert responses.codebook.codes.count() == codes

    def test_a_group_becomes_a_draft_code(
        self, responses, tomasz, django_capture_on_commit_callbacks
    ):
        suggestion = run_now(responses, tomasz.user, django_capture_on_commit_callbacks)
        code = services.suggestion_add_code(suggestion=suggestion, index=0)
        again = services.suggestion_add_code(suggestion=suggestion, index=0)
        assert code.name.startswith("Draft: ") and again.name == f"{code.name} (2)"
        assert "Write the definition" in code.definition and code.example.startswith("“")
        assert not Coding.objects.exists()

    def test_it_refuses_a_group_that_does_not_exist(
        self, responses, tomasz, django_capture_on_commit_callbacks
    ):
        suggestion = run_now(responses, tomasz.user, django_capture_on_commit_callbacks)
        before = Code.objects.count()
        with pytest.raises(ValidationError) as error:
            services.suggestion_add_code(suggestion=suggestion, index=99)
        assert "group" in error.value.message_dict
        assert Code.objects.count() == before

    def test_it_needs_responses(self, tomasz, answers):
        empty = services.project_create(
            lead=tomasz, title="Empty", instruments=["feedback"], questions=["calls_improve"]
        )
        with pytest.raises(ValidationError):
            services.suggestion_start(project=empty, actor=tomasz.user)


class TestSuggestionPage:
    def test_the_lead_starts_a_run_and_adds_a_group(
        self, login, responses, tomasz, django_capture_on_commit_callbacks
    ):
        client = login(tomasz)
        url = f"/research/projects/{responses.pk}/suggestions/"
        page = client.get(url).content.decode()
        assert "Group the responses" in page and "nothing is ever coded for you" in page
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(url).status_code == 302
        page = client.get(url).content.decode()
        assert "Add as a draft code" in page and "<blockquote" in page
        suggestion = ThemeSuggestion.objects.get()
        added = client.post(f"{url}{suggestion.pk}/groups/0/code/", follow=True)
        assert "write its definition before coding with it" in added.content.decode()
        assert responses.codebook.codes.filter(name__startswith="Draft: ").count() == 1

    def test_it_shows_progress_while_running(self, login, responses, tomasz):
        suggestion = services.suggestion_start(project=responses, actor=tomasz.user)
        ThemeSuggestion.objects.filter(pk=suggestion.pk).update(status="running", progress=0.4)
        page = login(tomasz).get(f"/research/projects/{responses.pk}/suggestions/")
        text = page.content.decode()
        assert '<progress id="suggestion-bar" max="100" value="40">' in text
        assert "research/suggestions.js" in text and "Refresh" in text

    def test_coders_and_outsiders_cannot_see_suggestions(self, login, responses, uma, vic):
        url = f"/research/projects/{responses.pk}/suggestions/"
        assert login(uma).get(url).status_code == 403
        assert login(vic).get(url).status_code == 404


class TestSuggestionApi:
    def test_it_starts_follows_and_adds_a_draft_code(
        self, login, responses, tomasz, django_capture_on_commit_callbacks
    ):
        client = login(tomasz)
        base = f"/api/v1/research/projects/{responses.pk}/suggestions"
        with django_capture_on_commit_callbacks(execute=True):
            started = client.post(base)
        assert started.status_code == 202
        latest = client.get(f"{base}/latest").json()
        assert latest["status"] == "done" and latest["groups"][0]["typical_text"]
        added = client.post(f"{base}/{latest['id']}/groups/0/code")
        assert added.status_code == 201 and added.json()["name"].startswith("Draft: ")

    def test_a_bad_group_is_refused_naming_the_field(
        self, login, responses, tomasz, django_capture_on_commit_callbacks
    ):
        suggestion = run_now(responses, tomasz.user, django_capture_on_commit_callbacks)
        response = login(tomasz).post(
            f"/api/v1/research/projects/{responses.pk}/suggestions/{suggestion.pk}/groups/9/code"
        )
        assert response.status_code == 422 and "group" in response.json()["error"]["fields"]

    def test_only_the_lead_may_use_it(self, login, responses, uma, wes):
        base = f"/api/v1/research/projects/{responses.pk}/suggestions"
        assert login(uma).post(base).status_code == 403
        assert login(wes).post(base).status_code == 404
        assert not ThemeSuggestion.objects.exists()
