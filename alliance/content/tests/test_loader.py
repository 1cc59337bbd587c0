"""Loading programme folders: validation messages, HTML safety, directives, versions."""

import pytest

from alliance.content.loader import LOADED, UNCHANGED, ContentError, folder_hash
from alliance.content.models import Module, Page, Programme
from alliance.content.services import content_load
from alliance.content.tests.programme_files import PROGRAMME_YAML, write_programme

YAML = "programs/test-programme/programme.yaml"
FIRST = "programs/test-programme/01-first.md"


def load_errors(programs) -> list[str]:
    """The errors of loading ``programs``, having checked that nothing was imported."""
    with pytest.raises(ContentError) as caught:
        content_load(directory=programs)
    assert Programme.objects.count() == 0
    assert Module.objects.count() == 0
    assert Page.objects.count() == 0
    return caught.value.errors


@pytest.mark.django_db
class TestContentLoad:
    def test_it_loads_a_programme_with_its_modules_and_pages(self, programs):
        report = content_load(directory=write_programme(programs))
        [loaded] = report.programmes
        assert (loaded.key, loaded.version, loaded.status) == ("test-programme", 1, LOADED)
        assert (loaded.module_count, loaded.page_count) == (2, 3)
        programme = Programme.objects.get()
        assert programme.pk == loaded.programme_id
        assert programme.title == "Test programme"
        assert programme.summary == "A programme for tests."
        assert programme.kind == "programme"
        assert programme.problems == ["depression"]
        assert programme.care_models == ["blended"]
        assert len(programme.content_hash) == 64
        first, second = programme.modules.order_by("position")
        assert (first.key, first.position, first.title) == ("first", 1, "First module")
        assert first.summary == "The first one."
        assert first.mandatory is True
        assert (first.unlock_rule, first.unlock_days) == ("after_previous", None)
        assert first.minutes == 20
        assert (first.session_relation, first.session_number) == ("prepares", 1)
        assert first.guide == {
            "online": "Reads about the cycle.",
            "look_at": "The journal entry.",
            "ask": ["How did it go?"],
            "homework": ["Keep a diary."],
            "call": "",
        }
        assert (second.mandatory, second.unlock_rule, second.unlock_days) == (
            False,
            "days_after_start",
            7,
        )
        assert (second.session_relation, second.session_number) == ("", None)
        assert [p.title for p in first.pages.order_by("position")] == [
            "Welcome",
            "Your first step",
        ]
        assert second.pages.get().position == 1

    def test_it_reports_an_empty_folder_as_nothing_loaded(self, programs):
        assert content_load(directory=programs).programmes == []

    def test_it_ignores_folders_without_programme_yaml(self, programs):
        (programs / "drafts").mkdir()
        (programs / "drafts" / "notes.md").write_text("## Not a programme")
        assert content_load(directory=programs).programmes == []

    def test_it_refuses_a_missing_folder(self, tmp_path):
        with pytest.raises(ContentError) as caught:
            content_load(directory=tmp_path / "nowhere")
        assert caught.value.errors == [f"{tmp_path / 'nowhere'}: no such folder"]


PROGRAMME_YAML_ERRORS = [
    # (what is wrong, edit of programme.yaml, the exact error)
    ("missing field", ("title: Test programme\n", ""), f"{YAML}:1: title: required"),
    (
        "bad YAML",
        ("title: Test programme", "title: Test: programme"),
        f"{YAML}:3: invalid YAML: mapping values are not allowed here",
    ),
    (
        "field given twice",
        ("title: Test programme\n", "title: Test programme\ntitle: Again\n"),
        f"{YAML}:4: title: given twice",
    ),
    (
        "unknown field",
        ("kind: programme\n", "kind: programme\nauthor: Hana\n"),
        f"{YAML}:6: author: unknown field (expected one of: key, version, title, summary, "
        "kind, problems, care_models, modules)",
    ),
    (
        "key not a slug",
        ("key: test-programme", "key: Test_Programme"),
        f"{YAML}:1: key: must be lowercase letters, digits and hyphens, at most 80 characters "
        "(got 'Test_Programme')",
    ),
    (
        "version not a number",
        ("version: 1", "version: one"),
        f"{YAML}:2: version: must be a whole number of 1 or more (got 'one')",
    ),
    (
        "title not text",
        ("title: Test programme", "title: [Test]"),
        f"{YAML}:3: title: must be text",
    ),
    (
        "unknown kind",
        ("kind: programme", "kind: course"),
        f"{YAML}:5: kind: must be one of: programme, addon (got 'course')",
    ),
    (
        "problems not a list",
        ("problems: [depression]", "problems: depression"),
        f"{YAML}:6: problems: must be a list, e.g. [a, b]",
    ),
    (
        "unknown care model",
        ("care_models: [blended]", "care_models: [blended, face_to_face]"),
        f"{YAML}:7: care_models[2]: must be one of: guided_self_help, blended, messaging "
        "(got 'face_to_face')",
    ),
    (
        "no care models",
        ("care_models: [blended]", "care_models: []"),
        f"{YAML}:7: care_models: must list at least one",
    ),
    (
        "module not a mapping",
        ("  - key: second\n", "  - second\n  - key: second\n"),
        f"{YAML}:15: modules[2]: must be a mapping of fields (key: value)",
    ),
    (
        "duplicate module key",
        ("key: second", "key: first"),
        f"{YAML}:15: modules[2].key: 'first' is already the key of modules[1]",
    ),
    (
        "module key not a slug",
        ("key: second", "key: Second Module"),
        f"{YAML}:15: modules[2].key: must be lowercase letters, digits and hyphens, at most "
        "80 characters (got 'Second Module')",
    ),
    (
        "missing module file",
        ("file: 02-second.md", "file: 02-missing.md"),
        f"{YAML}:16: modules[2].file: no such file in programs/test-programme: 02-missing.md",
    ),
    (
        "module file outside the folder",
        ("file: 02-second.md", "file: ../02-second.md"),
        f"{YAML}:16: modules[2].file: must be a file in programs/test-programme "
        "(got '../02-second.md')",
    ),
    (
        "module without a file",
        ("    file: 02-second.md\n", ""),
        f"{YAML}:15: modules[2].file: required",
    ),
    (
        "mandatory not a boolean",
        ("mandatory: true", "mandatory: maybe"),
        f"{YAML}:11: modules[1].mandatory: must be true or false (got 'maybe')",
    ),
    (
        "unknown unlock rule",
        ("unlock: after_previous", "unlock: weekly"),
        f"{YAML}:12: modules[1].unlock: must be one of: after_previous, days_after_start, "
        "by_supporter (got 'weekly')",
    ),
    (
        "unlock_days missing",
        ("    unlock_days: 7\n", ""),
        f"{YAML}:15: modules[2].unlock_days: required when unlock is days_after_start",
    ),
    (
        "unlock_days with another rule",
        ("unlock: after_previous\n", "unlock: by_supporter\n    unlock_days: 3\n"),
        f"{YAML}:13: modules[1].unlock_days: only allowed when unlock is days_after_start",
    ),
    (
        "unlock_days negative",
        ("unlock_days: 7", "unlock_days: -1"),
        f"{YAML}:19: modules[2].unlock_days: must be a whole number of 0 or more (got -1)",
    ),
    (
        "minutes zero",
        ("minutes: 20", "minutes: 0"),
        f"{YAML}:13: modules[1].minutes: must be a whole number of 1 or more (got 0)",
    ),
    (
        "minutes not whole",
        ("minutes: 15", "minutes: 12.5"),
        f"{YAML}:20: modules[2].minutes: must be a whole number of 1 or more (got 12.5)",
    ),
    (
        "minutes missing",
        ("    minutes: 15\n", ""),
        f"{YAML}:15: modules[2].minutes: required",
    ),
    (
        "session with both relations",
        ("{prepares_for: 1}", "{prepares_for: 1, follows_up: 2}"),
        f"{YAML}:14: modules[1].session: must be {{prepares_for: N}} or {{follows_up: N}}",
    ),
    (
        "session not a mapping",
        ("{prepares_for: 1}", "1"),
        f"{YAML}:14: modules[1].session: must be a mapping: {{prepares_for: N}} or "
        "{follows_up: N}",
    ),
    (
        "session number zero",
        ("{prepares_for: 1}", "{follows_up: 0}"),
        f"{YAML}:14: modules[1].session.follows_up: must be a whole number of 1 or more (got 0)",
    ),
]


@pytest.mark.django_db
class TestProgrammeYamlErrors:
    @pytest.mark.parametrize(
        "edit, error",
        [case[1:] for case in PROGRAMME_YAML_ERRORS],
        ids=[case[0] for case in PROGRAMME_YAML_ERRORS],
    )
    def test_it_names_file_line_and_field_and_imports_nothing(self, programs, edit, error):
        write_programme(programs, "test-programme", ("programme.yaml", *edit))
        assert load_errors(programs) == [error]

    def test_it_reports_an_unknown_session_field_and_the_rule(self, programs):
        write_programme(
            programs, "test-programme", ("programme.yaml", "{prepares_for: 1}", "{before: 1}")
        )
        assert load_errors(programs) == [
            f"{YAML}:14: modules[1].session.before: unknown field (expected one of: "
            "prepares_for, follows_up)",
            f"{YAML}:14: modules[1].session: must be {{prepares_for: N}} or {{follows_up: N}}",
        ]

    @pytest.mark.parametrize(
        "modules, error",
        [
            ("", f"{YAML}:1: modules: required"),
            ("modules: all\n", f"{YAML}:8: modules: must be a list of modules, at least one"),
            ("modules: []\n", f"{YAML}:8: modules: must be a list of modules, at least one"),
        ],
    )
    def test_it_refuses_a_programme_without_modules(self, programs, modules, error):
        text = PROGRAMME_YAML[: PROGRAMME_YAML.index("modules:")] + modules
        write_programme(programs, files={"programme.yaml": text})
        assert load_errors(programs) == [error]

    def test_it_refuses_a_file_that_is_not_a_mapping(self, programs):
        write_programme(programs, files={"programme.yaml": "- key: test-programme\n"})
        assert load_errors(programs) == [
            f"{YAML}:1: must be a mapping of fields (key: value), see programs/README.md"
        ]

    def test_it_refuses_the_same_key_and_version_in_two_folders(self, programs):
        write_programme(programs, "a-copy")
        write_programme(programs, "b-copy")
        assert load_errors(programs) == [
            "programs/b-copy/programme.yaml:1: key: programme test-programme version 1 is "
            "also in programs/a-copy/programme.yaml"
        ]

    def test_it_collects_every_error_of_every_file(self, programs):
        write_programme(
            programs,
            "test-programme",
            ("programme.yaml", "minutes: 20", "minutes: 0"),
            ("programme.yaml", "kind: programme", "kind: course"),
            ("01-first.md", "thought_record", "thougt_record"),
            ("02-second.md", "## Only page\n", "## Only page\n\n<script>x()</script>\n"),
        )
        write_programme(
            programs,
            "z-other",
            ("programme.yaml", "key: test-programme", "key: other"),
            ("programme.yaml", "version: 1", "version: 0"),
        )
        assert load_errors(programs) == [
            f"{YAML}:5: kind: must be one of: programme, addon (got 'course')",
            f"{YAML}:13: modules[1].minutes: must be a whole number of 1 or more (got 0)",
            f"{FIRST}:17: pages[1].exercise: unknown exercise 'thougt_record' (one of: "
            "activity_plan, thought_record, goal_plan, problem_solving, journal)",
            "programs/test-programme/02-second.md:7: pages[1]: unsafe HTML: a <script> "
            "element is not allowed",
            "programs/z-other/programme.yaml:2: version: must be a whole number of 1 or more "
            "(got 0)",
        ]


MODULE_FILE_ERRORS = [
    # (what is wrong, edit of 01-first.md, the exact error)
    ("missing title", ("title: First module\n", ""), f"{FIRST}:2: title: required"),
    (
        "bad YAML in front matter",
        ("summary: The first one.", "summary: [unclosed"),
        f"{FIRST}:4: invalid YAML: expected ',' or ']', but got ':'",
    ),
    (
        "unknown front matter field",
        ("summary: The first one.", "summery: The first one."),
        f"{FIRST}:3: summery: unknown field (expected one of: title, summary, guide)",
    ),
    (
        "unknown guide field",
        ("  online: Reads", "  onlin: Reads"),
        f"{FIRST}:5: guide.onlin: unknown field (expected one of: online, look_at, ask, "
        "homework, call)",
    ),
    (
        "guide question list not a list",
        ("  ask:\n    - How did it go?\n", "  ask: How did it go?\n"),
        f"{FIRST}:7: guide.ask: must be a list, e.g. [a, b]",
    ),
    (
        "no front matter",
        ("---\ntitle: First module\n", "title: First module\n"),
        f"{FIRST}:1: front matter: missing: a module file starts with a --- line, its title, "
        "and a --- line",
    ),
    (
        "text before the first page",
        ("---\n\n## Welcome", "---\n\nIntroduction.\n\n## Welcome"),
        f"{FIRST}:13: body: text before the first '## ' heading: a module starts with a page",
    ),
    (
        "a top-level heading inside a page",
        ("Hello **there**.", "# Hello"),
        f"{FIRST}:15: pages[1]: '# ' headings are not allowed: a '## ' heading starts a page, "
        "use '### ' inside a page",
    ),
    (
        "page without a title",
        ("## Welcome", "##"),
        f"{FIRST}:13: pages[1].title: required: the text after '## '",
    ),
    (
        "empty page",
        ("{{ homework: Write down three things you did. }}\n", ""),
        f"{FIRST}:19: pages[2]: empty page: write something under its heading",
    ),
    (
        "unknown exercise",
        ("{{ exercise: thought_record }}", "{{ exercise: diary }}"),
        f"{FIRST}:17: pages[1].exercise: unknown exercise 'diary' (one of: activity_plan, "
        "thought_record, goal_plan, problem_solving, journal)",
    ),
    (
        "unknown directive",
        ("{{ exercise: thought_record }}", "{{ video: intro }}"),
        f"{FIRST}:17: pages[1]: unknown directive {{{{ video: intro }}}} "
        "(use {{ exercise: KEY }} or {{ homework: TEXT }})",
    ),
    (
        "directive inside a sentence",
        ("Hello **there**.", "Hello {{ exercise: journal }} there."),
        f"{FIRST}:15: pages[1]: {{{{ exercise: journal }}}} must be on a line of its own",
    ),
    (
        "homework without text",
        ("{{ homework: Write down three things you did. }}", "{{ homework: }}"),
        f"{FIRST}:21: pages[2].homework: text required",
    ),
]


@pytest.mark.django_db
class TestModuleFileErrors:
    @pytest.mark.parametrize(
        "edit, error",
        [case[1:] for case in MODULE_FILE_ERRORS],
        ids=[case[0] for case in MODULE_FILE_ERRORS],
    )
    def test_it_names_file_line_and_field_and_imports_nothing(self, programs, edit, error):
        write_programme(programs, "test-programme", ("01-first.md", *edit))
        assert load_errors(programs) == [error]

    def test_it_refuses_a_module_with_no_pages(self, programs):
        text = "---\ntitle: First module\n---\n\nJust some text.\n"
        write_programme(programs, files={"01-first.md": text})
        assert load_errors(programs) == [
            f"{FIRST}:5: body: no pages: each '## ' heading starts a page"
        ]

    def test_it_refuses_a_guide_that_is_not_a_mapping(self, programs):
        text = "---\ntitle: First module\nguide: Read it.\n---\n\n## Page\n\nText.\n"
        write_programme(programs, files={"01-first.md": text})
        assert load_errors(programs) == [
            f"{FIRST}:3: guide: must be a mapping: online, look_at, ask, homework, call"
        ]

    def test_it_refuses_front_matter_that_is_not_closed(self, programs):
        write_programme(programs, files={"01-first.md": "---\ntitle: First module\n"})
        assert load_errors(programs) == [
            f"{FIRST}:1: front matter: not closed: end it with a --- line"
        ]

    def test_it_refuses_a_file_that_is_not_utf8(self, programs):
        write_programme(programs)
        (programs / "test-programme" / "01-first.md").write_bytes(b"---\ntitle: Caf\xe9\n---\n")
        assert load_errors(programs) == [f"{FIRST}:1: not UTF-8 text"]

    def test_it_does_not_split_pages_on_headings_inside_code(self, programs):
        code = "Hello **there**.\n\n```\n## not a page\n{{ not: a directive }}\n```"
        write_programme(programs, "test-programme", ("01-first.md", "Hello **there**.", code))
        content_load(directory=programs)
        page = Page.objects.get(module__key="first", position=1)
        assert "<pre><code>## not a page\n{{ not: a directive }}\n</code></pre>" in page.body_html
        assert Page.objects.filter(module__key="first").count() == 2


UNSAFE_HTML = [
    ("<script>alert(1)</script>", "a <script> element"),
    ("<style>p { color: red }</style>", "a <style> element"),
    ('<iframe src="https://video.example/x"></iframe>', "an <iframe> element"),
    ('<span onclick="steal()">Hello</span>', "the event handler onclick"),
    ("<img src=x onerror=alert(1)>", "the event handler onerror"),
    ('<a href="javascript:alert(1)">Hello</a>', "a javascript: link"),
    ("[Hello](javascript:alert(1))", "a javascript: link"),
    ('<a href="&#106;avascript:alert(1)">Hello</a>', "a javascript: link"),
    ('<a href=" JavaScript:alert(1)">Hello</a>', "a javascript: link"),
    ('<p style="color: red">Hello</p>', "a style attribute"),
]


@pytest.mark.django_db
class TestUnsafeHtml:
    @pytest.mark.parametrize("source, what", UNSAFE_HTML)
    def test_it_refuses_the_file_naming_the_line(self, programs, source, what):
        write_programme(programs, "test-programme", ("01-first.md", "Hello **there**.", source))
        assert load_errors(programs) == [
            f"{FIRST}:15: pages[1]: unsafe HTML: {what} is not allowed"
        ]

    def test_it_allows_unsafe_looking_text_inside_code(self, programs):
        code = "```\n<script>alert(1)</script>\n```\n\nAnd `<b onclick=x>` inline."
        write_programme(programs, "test-programme", ("01-first.md", "Hello **there**.", code))
        content_load(directory=programs)
        html = Page.objects.get(module__key="first", position=1).body_html
        assert "<pre><code>&lt;script&gt;alert(1)&lt;/script&gt;\n</code></pre>" in html
        assert "<code>&lt;b onclick=x&gt;</code>" in html


@pytest.mark.django_db
class TestSanitisation:
    def load_page(self, programs, markdown: str) -> Page:
        write_programme(programs, "test-programme", ("01-first.md", "Hello **there**.", markdown))
        content_load(directory=programs)
        return Page.objects.get(module__key="first", position=1)

    def test_it_keeps_the_allowed_markup(self, programs):
        markdown = (
            "### Steps\n\n1. **One** and *two*\n2. `code`\n\n> A quote\n\n"
            '[Help](https://help.example/ "Get help")\n\n| A | B |\n|:--|--:|\n| 1 | 2 |\n\n---'
        )
        html = self.load_page(programs, markdown).body_html
        assert "<h3>Steps</h3>" in html
        assert (
            "<ol>\n<li><strong>One</strong> and <em>two</em></li>\n<li><code>code</code></li>"
            in html
        )
        assert "<blockquote>\n<p>A quote</p>\n</blockquote>" in html
        assert (
            '<a href="https://help.example/" title="Get help" rel="noopener noreferrer">Help</a>'
        ) in html
        assert '<th align="left">A</th>' in html
        assert '<td align="right">2</td>' in html
        assert "<hr>" in html

    def test_it_removes_other_harmless_markup_keeping_its_text(self, programs):
        markdown = (
            '<div class="box" id="x"><span title="t">Kept text</span></div>\n\n'
            "![A picture](https://images.example/a.png)\n\n<h1>Big</h1>"
        )
        html = self.load_page(programs, markdown).body_html
        assert "Kept text" in html
        assert "<div" not in html and "<span" not in html and 'class="box"' not in html
        assert "<img" not in html
        assert "<h1>" not in html and "Big" in html

    def test_it_does_not_let_an_author_forge_an_exercise_slot(self, programs):
        forged = '<p class="exercise-slot" data-exercise="journal">Forged</p>'
        page = self.load_page(programs, forged)
        assert "<p>Forged</p>" in page.body_html
        assert 'data-exercise="journal"' not in page.body_html
        assert page.exercises == ["thought_record"]


@pytest.mark.django_db
class TestDirectives:
    def test_it_turns_an_exercise_line_into_a_slot_and_records_it(self, programs):
        content_load(directory=write_programme(programs))
        page = Page.objects.get(module__key="first", position=1)
        assert page.body_html == (
            "<p>Hello <strong>there</strong>.</p>\n"
            '<p class="exercise-slot" data-exercise="thought_record"></p>'
        )
        assert page.exercises == ["thought_record"]

    def test_it_records_several_exercises_in_order(self, programs):
        two = "{{ exercise: activity_plan }}\nText between.\n  {{ exercise: journal }}  "
        write_programme(
            programs, "test-programme", ("01-first.md", "{{ exercise: thought_record }}", two)
        )
        content_load(directory=programs)
        page = Page.objects.get(module__key="first", position=1)
        assert page.exercises == ["activity_plan", "journal"]
        assert page.body_html.index('"activity_plan"') < page.body_html.index("Text between")
        assert page.body_html.index("Text between") < page.body_html.index('"journal"')

    def test_it_shows_homework_on_the_page_and_adds_it_to_the_module(self, programs):
        content_load(directory=write_programme(programs))
        module = Module.objects.get(key="first")
        page = module.pages.get(position=2)
        assert page.body_html == '<p class="homework-note">Write down three things you did.</p>'
        assert page.exercises == []
        assert module.homework == ["Write down three things you did."]

    def test_it_escapes_homework_text(self, programs):
        write_programme(
            programs,
            "test-programme",
            ("01-first.md", "Write down three things you did.", "Read <b>this</b> & that"),
        )
        content_load(directory=programs)
        module = Module.objects.get(key="first")
        assert module.pages.get(position=2).body_html == (
            '<p class="homework-note">Read &lt;b&gt;this&lt;/b&gt; &amp; that</p>'
        )
        assert module.homework == ["Read <b>this</b> & that"]


@pytest.mark.django_db
class TestVersions:
    def test_it_leaves_an_unchanged_version_as_it_is(self, programs):
        first = content_load(directory=write_programme(programs)).programmes[0]
        again = content_load(directory=programs).programmes[0]
        assert again.status == UNCHANGED
        assert again.programme_id == first.programme_id
        assert (again.module_count, again.page_count) == (2, 3)
        assert Programme.objects.count() == 1
        assert Page.objects.count() == 3

    def test_it_refuses_changed_content_under_the_same_version(self, programs):
        content_load(directory=write_programme(programs))
        before = list(Page.objects.values_list("pk", "body_html"))
        write_programme(programs, "test-programme", ("01-first.md", "Hello", "Hi"))
        with pytest.raises(ContentError) as caught:
            content_load(directory=programs)
        assert caught.value.errors == [
            f"{YAML}:2: version: test-programme version 1 is already loaded with different "
            "content: raise version"
        ]
        assert list(Page.objects.values_list("pk", "body_html")) == before

    def test_it_refuses_a_whole_load_when_one_programme_changed_unversioned(self, programs):
        content_load(directory=write_programme(programs))
        write_programme(programs, "test-programme", ("01-first.md", "Hello", "Hi"))
        write_programme(programs, "z-new", ("programme.yaml", "key: test-programme", "key: new"))
        with pytest.raises(ContentError):
            content_load(directory=programs)
        assert not Programme.objects.filter(key="new").exists()

    def test_it_adds_a_new_version_and_leaves_the_old_rows_untouched(self, programs):
        content_load(directory=write_programme(programs))
        old = Programme.objects.get()
        old_rows = (
            list(Module.objects.values()),
            list(Page.objects.values()),
            old.loaded_at,
        )
        write_programme(
            programs,
            "test-programme",
            ("programme.yaml", "version: 1", "version: 2"),
            ("01-first.md", "Hello **there**.", "Hello again."),
        )
        report = content_load(directory=programs)
        assert [(p.version, p.status) for p in report.programmes] == [(2, LOADED)]
        new = Programme.objects.get(version=2)
        assert new.pk != old.pk
        assert new.content_hash != old.content_hash
        assert (
            "Hello again."
            in Page.objects.get(module__programme=new, module__key="first", position=1).body_html
        )
        assert (
            list(Module.objects.filter(programme=old).values()),
            list(Page.objects.filter(module__programme=old).values()),
            Programme.objects.get(pk=old.pk).loaded_at,
        ) == old_rows


class TestFolderHash:
    def test_it_changes_with_a_file_name_or_its_bytes_but_not_hidden_files(self, tmp_path):
        (tmp_path / "a.md").write_text("one")
        before = folder_hash(tmp_path)
        (tmp_path / ".a.md.swp").write_text("editor state")
        assert folder_hash(tmp_path) == before
        (tmp_path / "a.md").write_text("two")
        assert folder_hash(tmp_path) != before
        (tmp_path / "a.md").write_text("one")
        (tmp_path / "a.md").rename(tmp_path / "b.md")
        assert folder_hash(tmp_path) != before
