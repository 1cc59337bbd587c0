"""Fixtures of the content tests: a programmes folder in tmp_path, loaded programmes."""

import pytest

from alliance.content.models import Programme
from alliance.content.services import content_load
from alliance.content.tests.programme_files import write_programme


@pytest.fixture
def programs(tmp_path):
    """An empty programmes folder named like the real one, so messages read programs/..."""
    folder = tmp_path / "programs"
    folder.mkdir()
    return folder


@pytest.fixture
def loaded(db, programs):
    """The test programme loaded as version 1, then as version 2; returns both."""
    content_load(directory=write_programme(programs))
    write_programme(
        programs,
        "test-programme",
        ("programme.yaml", "version: 1", "version: 2"),
        ("programme.yaml", "title: Test programme", "title: Test programme, new"),
    )
    content_load(directory=programs)
    return Programme.objects.get(version=1), Programme.objects.get(version=2)
