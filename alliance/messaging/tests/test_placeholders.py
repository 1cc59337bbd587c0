"""Placeholders in templates: checked when saved, filled in plainly."""

from alliance.messaging.placeholders import fill, placeholder_problems


class TestPlaceholderProblems:
    def test_it_accepts_the_known_placeholders(self):
        body = "Hi {patient_first_name}, {supporter_name} of {service_name}: {module_title}."
        assert placeholder_problems(body) == []

    def test_it_names_each_unknown_placeholder(self):
        problems = placeholder_problems("Hi {first_name}, {first_name} and {name}")
        assert len(problems) == 2
        assert "{first_name} is not a placeholder" in problems[0]
        assert "{patient_first_name}" in problems[0]
        assert "{name} is not a placeholder" in problems[1]

    def test_it_refuses_attribute_access_and_stray_braces(self):
        assert placeholder_problems("{patient_first_name.__class__}")
        assert placeholder_problems("Hi {patient_first_name")
        assert placeholder_problems("a } b")


class TestFill:
    def test_it_fills_in_the_values(self):
        assert fill("Hi {patient_first_name}!", {"patient_first_name": "Alice"}) == "Hi Alice!"

    def test_it_never_evaluates_anything(self):
        assert fill("{0.__class__}", {}) == "{0.__class__}"
