"""Research personas on top of the shared ones: Tomasz leads, Uma codes with him, Vic is a
researcher of Riverside outside the project, Wes researches at Hillside. Alice and Bob
consent to research and answered the feedback survey; Dora answered it but never
consented."""

import pytest

from alliance.accounts.models import Role
from alliance.conftest import make_patient, make_staff
from alliance.measures import services as measures
from alliance.research import selectors, services

ALICE_FEEDBACK = {
    "programme_helped": "The thought records helped. Sam was brilliant and called me back on "
    "07700 900123 whenever I asked.",
    "calls_helped": "Talking to Sam every week kept me going; I felt less alone.",
}
BOB_FEEDBACK = {
    "programme_helped": "Planning nice things each day. Email me at bob.s@example.com.",
    "programme_improve": "Fewer reminders please, my wife Jenny got fed up with the pings.",
}


def answer_feedback(patient, supporter, texts):
    request = measures.questionnaire_send(patient=patient, instrument="feedback", actor=supporter)
    response, _ = measures.response_submit(request=request, actor=patient.user, text_answers=texts)
    return response


def consent(patient):
    return services.consent_give(patient=patient, document=selectors.consent_document_current())[0]


@pytest.fixture
def uma(riverside):
    return make_staff(riverside, Role.RESEARCHER, "Uma Coder")


@pytest.fixture
def vic(riverside):
    return make_staff(riverside, Role.RESEARCHER, "Vic Elsewhere")


@pytest.fixture
def wes(hillside):
    return make_staff(hillside, Role.RESEARCHER, "Wes Hillresearcher")


@pytest.fixture
def dora(riverside, north, sam):
    return make_patient(riverside, north, "Dora Noconsent", supporter=sam)


@pytest.fixture
def answers(alice, bob, dora, sam, priya):
    consent(alice)
    consent(bob)
    return {
        "alice": answer_feedback(alice, sam.user, ALICE_FEEDBACK),
        "bob": answer_feedback(bob, priya.user, BOB_FEEDBACK),
        "dora": answer_feedback(dora, sam.user, {"programme_helped": "Dora's own words."}),
    }


@pytest.fixture
def project(tomasz, uma, answers):
    return services.project_create(
        lead=tomasz,
        title="Feedback study",
        instruments=["feedback"],
        coders=[uma],
        starter="supporter-qualities",
    )


def code_named(project, name):
    return project.codebook.codes.get(name=name)


def document_with(project, words):
    return next(d for d in project.documents.all() if words in d.text)
