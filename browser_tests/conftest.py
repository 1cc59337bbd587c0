"""Fixtures of the browser walkthroughs: the system Chromium, the people, and page checks.

Playwright drives Debian's Chromium and never downloads a browser of its own. Without
Chromium every test here is skipped with a notice at the end of the run, unless
``ALLIANCE_REQUIRE_BROWSER=1`` (CI sets it): then they fail.

The live server answers from another thread, so these tests use ``transactional_db``
(pytest-django's ``live_server`` asks for it) and build their people here: the personas in
``alliance/conftest.py`` are fixtures pytest does not load for this folder.
"""

import itertools
import os
import shutil
import time
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import sync_playwright

from alliance.accounts.models import Role, Service, Team
from alliance.care.services import episode_start
from alliance.conftest import make_patient, make_staff
from alliance.content.models import Programme
from alliance.content.services import content_load

# Belt and braces: nothing here may fetch a browser.
os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

NO_CHROMIUM = "Chromium is not installed (apt-get install chromium); browser tests skipped"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"
# A known authenticator key (the RFC 6238 example), so a test can compute the codes.
TOTP_KEY_HEX = "3132333435363738393031323334353637383930"
BLOCKING_IMPACTS = {"serious", "critical"}


def find_chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("/usr/bin/chromium")


def browser_required() -> bool:
    return os.environ.get("ALLIANCE_REQUIRE_BROWSER", "").strip() == "1"


def unavailable(reason: str):
    if browser_required():
        pytest.fail(
            f"{reason.split(';')[0]}, and ALLIANCE_REQUIRE_BROWSER=1 requires the "
            "browser tests to run.",
            pytrace=False,
        )
    pytest.skip(reason)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if "browser" in r.keywords]
    if not skipped:
        return
    reasons = sorted(
        {
            str(r.longrepr[2]).removeprefix("Skipped: ")
            for r in skipped
            if isinstance(r.longrepr, tuple)
        }
    )
    terminalreporter.write_sep("!", f"{len(skipped)} BROWSER TESTS SKIPPED", yellow=True, bold=True)
    for reason in reasons:
        terminalreporter.write_line(f"  {reason}", yellow=True)
    terminalreporter.write_line(
        "  Set ALLIANCE_REQUIRE_BROWSER=1 to make a missing browser an error (CI does).",
        yellow=True,
    )


# --- The browser ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium():
    """One browser per module; Playwright (and its event loop) stops with the module."""
    executable = find_chromium()
    if executable is None:
        unavailable(NO_CHROMIUM)
    # Playwright's sync API keeps an event loop running in the test thread, so Django would
    # refuse the ORM calls made between page actions; they are plain synchronous calls on
    # one thread, so allow them. Only while the loop runs: set for the whole session, the
    # variable would leak into other tests' subprocesses (`check --deploy` warns about it).
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
            yield browser
            browser.close()


class PageLog:
    """Everything the page asked for or complained about, since the test began."""

    def __init__(self):
        self.requests: list[str] = []
        self.errors: list[str] = []

    def on_console(self, message):
        if message.type != "error":
            return
        url = message.location.get("url")
        if message.text.startswith("Failed to load resource") and url == message.page.url:
            return  # the page itself answered 4xx (a form with errors): the test checks that
        self.errors.append(f"console: {message.text} ({url})")

    def on_page_error(self, error):
        self.errors.append(f"page error: {error}")


@pytest.fixture
def page_log():
    return PageLog()


@pytest.fixture
def page(chromium, live_server, page_log):
    context = chromium.new_context(
        base_url=live_server.url, locale="en-GB", timezone_id="Europe/London"
    )
    context.set_default_timeout(10_000)
    context.on("request", lambda request: page_log.requests.append(request.url))
    page = context.new_page()
    page.on("console", page_log.on_console)
    page.on("pageerror", page_log.on_page_error)
    yield page
    context.close()


@pytest.fixture
def check_page(request, page, page_log, live_server):
    """``check_page("label")`` after each page: screenshot, no foreign request, no console
    error, and no serious or critical accessibility violation (axe-core)."""
    axe = Axe()
    SCREENSHOTS.mkdir(exist_ok=True)
    shots = itertools.count(1)

    def check(label: str) -> None:
        page.wait_for_load_state("load")
        where = f"{label} ({page.url})"
        page.screenshot(
            path=SCREENSHOTS / f"{request.node.name}-{next(shots):02d}-{label}.png",
            full_page=True,
        )
        foreign = [url for url in page_log.requests if not is_own(url, live_server.url)]
        assert not foreign, f"requests to other hosts by {where}:\n" + "\n".join(foreign)
        assert not page_log.errors, f"browser errors on {where}:\n" + "\n".join(page_log.errors)
        violations = [
            v for v in axe.run(page).response["violations"] if v["impact"] in BLOCKING_IMPACTS
        ]
        assert not violations, (
            f"axe-core found {len(violations)} serious or critical violation(s) on {where}:\n"
            + "\n".join(describe_violation(v) for v in violations)
        )

    return check


def is_own(url: str, origin: str) -> bool:
    return url.startswith(origin + "/") or url == origin or url.startswith("data:")


def describe_violation(violation: dict) -> str:
    targets = "; ".join(" ".join(map(str, node["target"])) for node in violation["nodes"])
    return (
        f"- {violation['id']} ({violation['impact']}): {violation['help']}\n"
        f"    targets: {targets}\n    see {violation['helpUrl']}"
    )


# --- People ----------------------------------------------------------------------------


def totp_code(key: bytes, *, step: int = 30, t0: int = 0, digits: int = 6) -> str:
    """The code an authenticator app with this key shows now."""
    totp = TOTP(key, step=step, t0=t0, digits=digits)
    totp.time = time.time()
    return f"{totp.token():0{digits}d}"


def device_code(device: TOTPDevice) -> str:
    return totp_code(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)


def with_authenticator(profile):
    TOTPDevice.objects.create(user=profile.user, name="phone", key=TOTP_KEY_HEX, confirmed=True)
    return profile


@pytest.fixture
def riverside(transactional_db):
    return Service.objects.create(name="Riverside", slug="riverside")


@pytest.fixture
def north(riverside):
    return Team.objects.create(service=riverside, name="North")


@pytest.fixture
def sam(riverside, north):
    """A supporter of the North team with an authenticator set up."""
    return with_authenticator(make_staff(riverside, Role.SUPPORTER, "Sam Supporter", [north]))


@pytest.fixture
def nell(riverside, north):
    """A supporter who has just joined: no authenticator yet."""
    return make_staff(riverside, Role.SUPPORTER, "Nell Newcomer", [north])


@pytest.fixture
def ada(riverside):
    """The service's administrator, with an authenticator set up."""
    return with_authenticator(make_staff(riverside, Role.ADMINISTRATOR, "Ada Admin"))


@pytest.fixture
def alice(riverside, north, sam):
    """A patient of the North team; Sam is her named supporter."""
    return make_patient(riverside, north, "Alice Patient", supporter=sam)


@pytest.fixture
def hana(riverside):
    """A content author, with an authenticator set up."""
    return with_authenticator(make_staff(riverside, Role.CONTENT_AUTHOR, "Hana Author"))


# --- Content and care ------------------------------------------------------------------


@pytest.fixture
def programmes(transactional_db):
    """The real programmes of ``programs/``, loaded as ``alliance content load`` does; by key."""
    content_load(directory=settings.BASE_DIR / "programs")
    return {programme.key: programme for programme in Programme.objects.all()}


@pytest.fixture
def depression_episode(alice, sam, programmes):
    """Alice's active episode of blended CBT for depression, started today by Sam."""
    return episode_start(
        patient=alice,
        programme=programmes["blended-depression"],
        care_model="blended",
        supporter=sam,
        actor=sam.user,
    )
