"""Sign-in for patients and staff: passwords, lock-out, MFA, links, reset, idle timeout."""

import re
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from alliance.accounts import services
from alliance.accounts.middleware import IDLE_KEY
from alliance.accounts.models import SignInLink, User
from alliance.conftest import PASSWORD


def sign_in(client, email, password=PASSWORD):
    return client.post("/sign-in/", {"email": email, "password": password})


def current_code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():06d}"


class TestPasswordSignIn:
    def test_it_signs_a_patient_in_to_their_home(self, client, alice):
        response = sign_in(client, alice.user.email)
        assert response.status_code == 302
        home = client.get("/", follow=True).content.decode()
        assert "Hello, Alice" in home
        assert "Sam Supporter" in home

    def test_it_refuses_a_wrong_password_and_says_so(self, client, alice):
        response = sign_in(client, alice.user.email, "not-the-password")
        assert response.status_code == 200
        assert "do not match an account" in response.content.decode()
        assert client.get("/").status_code == 302  # still signed out

    def test_it_names_a_malformed_email(self, client, alice):
        response = sign_in(client, "not-an-address")
        assert "Enter a valid e-mail address" in response.content.decode()
        assert "_auth_user_id" not in client.session

    def test_it_does_not_follow_a_next_link_to_another_site(self, client, alice):
        response = client.post(
            "/sign-in/",
            {"email": alice.user.email, "password": PASSWORD, "next": "https://evil.example/"},
        )
        assert response["Location"] == "/"

    def test_it_refuses_a_post_without_csrf_token(self, alice):
        client = Client(enforce_csrf_checks=True)
        response = sign_in(client, alice.user.email)
        assert response.status_code == 403
        assert "_auth_user_id" not in client.session


class TestLockOut:
    def test_it_locks_the_account_after_five_failures(self, client, alice):
        for _ in range(5):
            sign_in(client, alice.user.email, "wrong-password-1")
        response = sign_in(client, alice.user.email)  # even the right password now
        assert response.status_code == 429
        assert "too many unsuccessful sign-in attempts" in response.content.decode()
        assert "_auth_user_id" not in client.session

    def test_it_does_not_lock_after_four_failures(self, client, alice):
        for _ in range(4):
            sign_in(client, alice.user.email, "wrong-password-1")
        assert sign_in(client, alice.user.email).status_code == 302


class TestStaffMfa:
    def test_it_sends_staff_without_authenticator_to_set_up(self, client, sam):
        sign_in(client, sam.user.email)
        response = client.get("/patients/")
        assert response.status_code == 302
        assert response["Location"] == "/mfa/set-up/"

    def test_it_sends_staff_with_authenticator_to_verify(self, client, sam):
        TOTPDevice.objects.create(user=sam.user, name="phone", confirmed=True)
        sign_in(client, sam.user.email)
        assert client.get("/").headers["Location"] == "/mfa/verify/"

    def test_it_lets_staff_in_with_the_right_code(self, client, sam, alice):
        device = TOTPDevice.objects.create(user=sam.user, name="phone", confirmed=True)
        sign_in(client, sam.user.email)
        response = client.post("/mfa/verify/", {"code": current_code(device)})
        assert response.status_code == 302
        assert "Alice Patient" in client.get("/patients/").content.decode()

    def test_it_refuses_a_wrong_code(self, client, sam):
        device = TOTPDevice.objects.create(user=sam.user, name="phone", confirmed=True)
        sign_in(client, sam.user.email)
        wrong = f"{(int(current_code(device)) + 1) % 1000000:06d}"
        response = client.post("/mfa/verify/", {"code": wrong})
        assert "That code is not right" in response.content.decode()
        assert client.get("/patients/").status_code == 302

    def test_it_sets_up_an_authenticator_and_shows_recovery_codes(self, client, sam):
        sign_in(client, sam.user.email)
        page = client.get("/mfa/set-up/").content.decode()
        assert "data:image/svg+xml" in page
        device = TOTPDevice.objects.get(user=sam.user, confirmed=False)
        response = client.post("/mfa/set-up/", {"code": current_code(device)})
        codes = re.findall(r"<li><code>(\w+)</code></li>", response.content.decode())
        assert len(codes) == 10
        device.refresh_from_db()
        assert device.confirmed
        assert client.get("/patients/").status_code == 200

    def test_it_refuses_set_up_with_a_wrong_code(self, client, sam):
        sign_in(client, sam.user.email)
        client.get("/mfa/set-up/")
        response = client.post("/mfa/set-up/", {"code": "000000x"})
        assert "That code is not right" in response.content.decode()
        assert not TOTPDevice.objects.filter(user=sam.user, confirmed=True).exists()

    def test_it_accepts_a_recovery_code_once(self, client, sam):
        TOTPDevice.objects.create(user=sam.user, name="phone", confirmed=True)
        code = services.recovery_codes_reset(user=sam.user)[0]
        sign_in(client, sam.user.email)
        assert client.post("/mfa/verify/", {"code": code}).status_code == 302
        assert not StaticToken.objects.filter(token=code).exists()
        client.post("/sign-out/")
        sign_in(client, sam.user.email)
        response = client.post("/mfa/verify/", {"code": code})
        assert "That code is not right" in response.content.decode()

    def test_it_does_not_ask_patients_for_a_code(self, client, alice):
        sign_in(client, alice.user.email)
        assert client.get("/", follow=True).status_code == 200


class TestSignInLink:
    def request_link(self, client, email, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post("/sign-in/link/", {"email": email})

    def link_path(self) -> str:
        return re.search(r"http://[^/]+(/sign-in/link/[^/\s]+/)", mail.outbox[-1].body).group(1)

    def test_it_sends_a_link_that_signs_a_patient_in_once(
        self, client, alice, django_capture_on_commit_callbacks
    ):
        response = self.request_link(client, alice.user.email, django_capture_on_commit_callbacks)
        assert "Check your e-mail" in response.content.decode()
        path = self.link_path()
        assert client.get(path).status_code == 200  # a link scanner's GET signs nobody in
        assert "_auth_user_id" not in client.session
        assert client.post(path).status_code == 302
        assert client.session["_auth_user_id"] == str(alice.user.pk)
        client.post("/sign-out/")
        second = client.post(path)
        assert second.status_code == 400
        assert "This link cannot be used" in second.content.decode()

    def test_it_refuses_an_expired_link(self, client, alice, django_capture_on_commit_callbacks):
        self.request_link(client, alice.user.email, django_capture_on_commit_callbacks)
        SignInLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
        response = client.post(self.link_path())
        assert response.status_code == 400
        assert "_auth_user_id" not in client.session

    def test_it_refuses_an_unknown_token(self, client, alice):
        response = client.post("/sign-in/link/made-up-token/")
        assert response.status_code == 400
        assert "_auth_user_id" not in client.session

    def test_it_sends_nothing_to_an_unknown_address_and_does_not_say_so(
        self, client, alice, django_capture_on_commit_callbacks
    ):
        response = self.request_link(
            client, "nobody@example.org", django_capture_on_commit_callbacks
        )
        assert "Check your e-mail" in response.content.decode()
        assert mail.outbox == []
        assert not SignInLink.objects.exists()

    def test_it_sends_no_link_to_staff(self, client, sam, django_capture_on_commit_callbacks):
        self.request_link(client, sam.user.email, django_capture_on_commit_callbacks)
        assert mail.outbox == []

    def test_it_names_a_malformed_address(self, client, alice):
        response = client.post("/sign-in/link/", {"email": "alice@"})
        assert "Enter a valid e-mail address" in response.content.decode()
        assert not SignInLink.objects.exists()


class TestPasswordReset:
    def reset_path(self, client, email, django_capture_on_commit_callbacks) -> str:
        with django_capture_on_commit_callbacks(execute=True):
            client.post("/password-reset/", {"email": email})
        match = re.search(r"http://[^/]+(/password-reset/[^/\s]+/[^/\s]+/)", mail.outbox[-1].body)
        return client.get(match.group(1), follow=True).redirect_chain[-1][0]

    def test_it_resets_the_password_by_email(
        self, client, alice, django_capture_on_commit_callbacks
    ):
        form_path = self.reset_path(client, alice.user.email, django_capture_on_commit_callbacks)
        new = "a-brand-new-passphrase-7"
        response = client.post(form_path, {"new_password1": new, "new_password2": new})
        assert response.status_code == 302
        alice.user.refresh_from_db()
        assert alice.user.check_password(new)

    def test_it_refuses_a_common_password(self, client, alice, django_capture_on_commit_callbacks):
        form_path = self.reset_path(client, alice.user.email, django_capture_on_commit_callbacks)
        response = client.post(
            form_path, {"new_password1": "password123", "new_password2": "password123"}
        )
        assert "This password is too common" in response.content.decode()
        alice.user.refresh_from_db()
        assert alice.user.check_password(PASSWORD)

    def test_it_refuses_a_short_password(self, client, alice, django_capture_on_commit_callbacks):
        form_path = self.reset_path(client, alice.user.email, django_capture_on_commit_callbacks)
        response = client.post(form_path, {"new_password1": "Xy7!q", "new_password2": "Xy7!q"})
        assert "at least 10 characters" in response.content.decode()
        alice.user.refresh_from_db()
        assert alice.user.check_password(PASSWORD)

    def test_it_refuses_a_used_or_forged_link(self, client, alice):
        response = client.get("/password-reset/MQ/forged-token/", follow=True)
        assert "This link cannot be used" in response.content.decode()

    def test_it_lets_a_new_member_of_staff_without_password_set_one(
        self, client, riverside, django_capture_on_commit_callbacks
    ):
        profile = services.staff_create(
            service=riverside,
            role="supporter",
            email="new@riverside.example",
            full_name="New Person",
        )
        assert not profile.user.has_usable_password()
        form_path = self.reset_path(client, profile.user.email, django_capture_on_commit_callbacks)
        new = "a-brand-new-passphrase-7"
        client.post(form_path, {"new_password1": new, "new_password2": new})
        profile.user.refresh_from_db()
        assert profile.user.check_password(new)


class TestStaffIdleTimeout:
    def test_it_signs_out_idle_staff(self, login, sam, settings):
        client = login(sam)
        assert client.get("/").status_code == 200
        session = client.session
        session[IDLE_KEY] = time.time() - (settings.ALLIANCE_STAFF_IDLE_MINUTES * 60 + 5)
        session.save()
        response = client.get("/", follow=True)
        assert "signed out after 15 minutes without activity" in response.content.decode()
        assert "_auth_user_id" not in client.session

    def test_it_keeps_active_staff_signed_in(self, login, sam):
        client = login(sam)
        client.get("/")
        assert client.get("/").status_code == 200

    def test_it_does_not_time_out_patients(self, login, alice):
        client = login(alice)
        session = client.session
        session[IDLE_KEY] = time.time() - 3600
        session.save()
        assert client.get("/", follow=True).status_code == 200


class TestPasswordStorage:
    def test_it_hashes_new_passwords_with_argon2(self, db, settings):
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
        user = User.objects.create_user("x@example.org", "a-long-test-passphrase-42", full_name="X")
        assert user.password.startswith("argon2")


@pytest.mark.parametrize("path", ["/", "/patients/", "/security/", "/staff/"])
def test_it_sends_anonymous_visitors_to_sign_in(client, db, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/")
