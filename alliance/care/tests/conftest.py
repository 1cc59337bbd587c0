"""A small programme and an add-on, made directly (the loader has its own tests)."""

import pytest

from alliance.care import services
from alliance.content.models import Module, Page, Programme


def make_programme(key="depression", kind="programme", modules=None, version=1):
    programme = Programme.objects.create(
        key=key, version=version, title=key.title(), summary="S", kind=kind,
        problems=["depression"], care_models=["blended"], content_hash=f"{key}{version}",
    )
    specs = modules or [
        ("start", True, "after_previous", None, 3),
        ("active", True, "after_previous", None, 2),
        ("thoughts", False, "days_after_start", 14, 2),
        ("extra", False, "by_supporter", None, 1),
    ]
    for position, (mkey, mandatory, rule, days, pages) in enumerate(specs, start=1):
        module = Module.objects.create(
            programme=programme, key=mkey, position=position, title=f"Module {mkey}",
            mandatory=mandatory, unlock_rule=rule, unlock_days=days, minutes=15,
            guide={"ask": ["How was it?"]}, homework=[f"Practise {mkey}"],
        )
        for n in range(1, pages + 1):
            exercises = ["thought_record"] if n == 1 else []
            slot = '<p class="exercise-slot" data-exercise="thought_record"></p>' if n == 1 else ""
            Page.objects.create(module=module, position=n, title=f"{mkey} page {n}",
                                body_html=f"<p>Text of {mkey} {n}</p>{slot}",
                                exercises=exercises)
    return programme


@pytest.fixture
def programme(db):
    return make_programme()


@pytest.fixture
def addon(db):
    return make_programme(key="worry", kind="addon", modules=[
        ("worry-time", False, "by_supporter", None, 2),
        ("sleep", False, "by_supporter", None, 1),
    ])


@pytest.fixture
def episode(alice, programme, sam):
    return services.episode_start(patient=alice, programme=programme, care_model="blended",
                                  supporter=sam, actor=sam.user)


def assignment(episode, key):
    return episode.assignments.select_related("module").get(module__key=key)
