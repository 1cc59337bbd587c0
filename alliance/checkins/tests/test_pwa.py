"""The installable web app: the manifest, the service worker and the icons."""

import json
import re
import struct
from pathlib import Path

from django.contrib.staticfiles import finders

from alliance.checkins import pwa_icons

STATIC = Path(__file__).resolve().parent.parent / "static" / "checkins"


class TestManifest:
    url = "/exercises/manifest.webmanifest"

    def test_it_describes_an_installable_app_starting_at_the_week(self, client, db):
        response = client.get(self.url)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/manifest+json"
        manifest = json.loads(response.content)
        assert manifest["name"] == "Alliance"
        assert manifest["start_url"] == "/my/" and manifest["scope"] == "/"
        assert manifest["display"] == "standalone"
        sizes = {icon["sizes"] for icon in manifest["icons"]}
        assert {"192x192", "512x512", "any"} <= sizes
        assert any(icon.get("purpose") == "maskable" for icon in manifest["icons"])

    def test_its_icons_are_served_from_our_own_static_files(self, client, db):
        manifest = client.get(self.url).json()
        for icon in manifest["icons"]:
            assert icon["src"].startswith("/static/checkins/icons/")
            name = icon["src"].removeprefix("/static/")
            assert finders.find(name), name

    def test_it_needs_no_sign_in(self, client, db):
        # Browsers fetch the manifest without cookies.
        assert client.get(self.url).status_code == 200


class TestServiceWorker:
    url = "/exercises/sw.js"

    def test_it_is_javascript_that_may_control_the_whole_site(self, client, db):
        response = client.get(self.url)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/javascript")
        assert response["Service-Worker-Allowed"] == "/"
        assert response["Cache-Control"] == "no-cache"

    def test_it_starts_with_its_settings(self, client, db):
        body = client.get(self.url).content.decode()
        first_line, rest = body.split("\n", 1)
        config = json.loads(first_line.removeprefix("self.ALLIANCE_SW = ").removesuffix(";"))
        assert config["checkinPath"] == "/exercises/checkin/"
        assert config["apiPath"] == "/api/v1/me/checkins"
        assert config["offlinePage"] == "/exercises/checkin/offline/"
        assert "/static/checkins/checkin.css" in config["shell"]
        assert re.fullmatch(r"[0-9a-f]{12}", config["version"])
        assert rest == (STATIC / "sw.js").read_text()

    def test_it_handles_offline_check_ins_and_push(self, client, db):
        body = client.get(self.url).content.decode()
        for needle in (
            'addEventListener("fetch"',
            'addEventListener("sync"',
            'addEventListener("push"',
            'addEventListener("notificationclick"',
            "showNotification(data.title",
            "indexedDB.open",
            '"X-CSRFToken"',
        ):
            assert needle in body, needle

    def test_its_version_changes_with_the_code(self, client, db, settings, monkeypatch):
        from alliance.checkins import views_daily

        before = client.get(self.url).content.decode().split("\n", 1)[0]
        monkeypatch.setattr(views_daily, "service_worker_source", lambda: "/* changed */")
        after = client.get(self.url).content.decode().split("\n", 1)[0]
        assert before != after

    def test_it_needs_no_sign_in(self, client, db):
        assert client.get(self.url).status_code == 200


class TestPageScript:
    def test_it_registers_the_worker_for_the_whole_site_without_inline_script(self):
        source = (STATIC / "pwa.js").read_text()
        assert 'register(workerUrl, { scope: "/" })' in source
        assert "randomUUID" in source  # a fresh client key per form shown

    def test_the_check_in_pages_load_it_deferred_and_nothing_inline(self, login, alice):
        html = login(alice).get("/exercises/checkin/").content.decode()
        assert re.search(r'<script src="/static/checkins/pwa.js" [^>]*defer></script>', html)
        assert "<script>" not in html and " style=" not in html and "<style" not in html


class TestIcons:
    def size_of(self, path: Path) -> tuple[int, int]:
        data = path.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        return struct.unpack(">II", data[16:24])

    def test_the_committed_pngs_have_the_sizes_the_manifest_says(self):
        assert self.size_of(STATIC / "icons" / "icon-192.png") == (192, 192)
        assert self.size_of(STATIC / "icons" / "icon-512.png") == (512, 512)
        assert self.size_of(STATIC / "icons" / "icon-maskable-512.png") == (512, 512)

    def test_the_committed_files_are_what_the_drawing_code_makes(self):
        assert (STATIC / "icons" / "icon.svg").read_text() == pwa_icons.svg()
        assert (STATIC / "icons" / "icon-192.png").read_bytes() == pwa_icons.png(192)
