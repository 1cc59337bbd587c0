"""Feedback from staff to the product team, sent from any page and triaged by admins."""

import pytest

from alliance.insights.models import ProductFeedback


class TestSendFeedback:
    def test_it_attaches_the_page_it_was_sent_from(self, login, sam):
        client = login(sam)
        form = client.get("/insights/feedback/?page=/patients/").content.decode()
        assert 'value="/patients/"' in form
        response = client.post(
            "/insights/feedback/",
            {"kind": "problem", "page": "/patients/", "text": "The list is slow"},
        )
        assert response["Location"] == "/patients/"
        item = ProductFeedback.objects.get()
        assert (item.page, item.kind, item.text) == ("/patients/", "problem", "The list is slow")

    def test_it_names_an_empty_description(self, login, sam):
        response = login(sam).post("/insights/feedback/", {"kind": "problem", "text": " "})
        assert response.status_code == 400
        assert "Describe the problem or your idea" in response.content.decode()
        assert not ProductFeedback.objects.exists()

    def test_it_ignores_a_page_on_another_site(self, login, sam):
        login(sam).post(
            "/insights/feedback/",
            {"kind": "suggestion", "text": "Idea", "page": "https://evil.example/"},
        )
        assert ProductFeedback.objects.get().page == ""

    def test_it_is_for_staff(self, login, alice):
        response = login(alice).post("/insights/feedback/", {"kind": "problem", "text": "x"})
        assert response.status_code == 403
        assert not ProductFeedback.objects.exists()

    def test_it_is_linked_from_every_staff_page(self, login, sam):
        page = login(sam).get("/patients/").content.decode()
        assert "/insights/feedback/?page=/patients/" in page


class TestTriage:
    @pytest.fixture
    def item(self, sam):
        from alliance.insights.services import product_feedback_send

        return product_feedback_send(reporter=sam.user, kind="suggestion", text="Dark mode")

    def test_it_lets_an_administrator_triage(self, login, ada, item):
        client = login(ada)
        assert "Dark mode" in client.get("/insights/feedback/all/").content.decode()
        client.post(
            f"/insights/feedback/{item.pk}/triage/", {"status": "planned", "note": "Next quarter"}
        )
        item.refresh_from_db()
        assert (item.status, item.triage_note, item.triaged_by) == (
            "planned",
            "Next quarter",
            ada.user,
        )

    def test_it_refuses_an_unknown_status(self, login, ada, item):
        login(ada).post(f"/insights/feedback/{item.pk}/triage/", {"status": "lost"})
        item.refresh_from_db()
        assert item.status == "new"

    def test_it_hides_the_list_from_others(self, login, sam, item):
        assert login(sam).get("/insights/feedback/all/").status_code == 403

    def test_it_answers_not_found_for_another_services_feedback(self, login, oscar, item):
        from alliance.accounts.models import Role
        from alliance.conftest import make_staff

        other_admin = make_staff(oscar.service, Role.ADMINISTRATOR, "Olga Admin")
        response = login(other_admin).post(
            f"/insights/feedback/{item.pk}/triage/", {"status": "done"}
        )
        assert response.status_code == 404
        item.refresh_from_db()
        assert item.status == "new"


class TestFeedbackApi:
    def test_it_sends_and_lists(self, login, sam, ada, client):
        response = login(sam).post(
            "/api/v1/product-feedback",
            {"kind": "problem", "text": "Broken link", "page": "/my/"},
            content_type="application/json",
        )
        assert response.status_code == 201
        client.logout()
        listed = login(ada).get("/api/v1/product-feedback").json()
        assert [f["text"] for f in listed] == ["Broken link"]

    def test_it_names_an_unknown_kind(self, login, sam):
        response = login(sam).post(
            "/api/v1/product-feedback",
            {"kind": "rant", "text": "x"},
            content_type="application/json",
        )
        assert response.status_code == 422
        assert response.json()["error"]["fields"] == {"kind": ["Choose a problem or a suggestion."]}
        assert not ProductFeedback.objects.exists()
