"""Demo data of the research app: a feedback study, coded by two researchers.

Called by ``alliance demo`` after the accounts, care and measures demo data. Most demo
patients agree to research and answer the feedback survey in their own words (some naming
their supporter, a relative or a phone number, to show pseudonymisation); a second
researcher (researcher2@demo.example) joins the demo researcher in coding the answers with
the supporter-qualities codebook, partly disagreeing; reconciliation is open with most
disagreements decided, and two themes make a report. Seeded and idempotent: running it
again adds nothing.
"""

import random
import re

from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from alliance.accounts.models import Patient, Role, Service, StaffProfile, User
from alliance.accounts.services import staff_create
from alliance.measures import services as measures
from alliance.measures.models import Response
from alliance.research import selectors, services
from alliance.research.models import (
    Code,
    Coding,
    ConsensusCoding,
    ProjectStatus,
    ResearchConsent,
    ResearchProject,
)

DEMO_DOMAIN = "demo.example"
LEAD_EMAIL = f"researcher@{DEMO_DOMAIN}"
CODER_EMAIL = f"researcher2@{DEMO_DOMAIN}"
CODER_NAME = "Grace Whitfield"
PROJECT_TITLE = "What helped: participants on their supporter"
PROJECT_DESCRIPTION = (
    "Which qualities of the supporter do participants describe when they say what helped "
    "and what could be better? Answers to the end-of-programme feedback survey."
)
# Every sixth demo patient has not agreed to research: their answers never reach it.
NO_CONSENT_EVERY = 6
# Disagreements left for the demo's reconciliation queue.
LEFT_TO_DECIDE = 3

W, E, G, N, A = (
    "Warmth",
    "Empathy",
    "Genuineness",
    "Normalising",
    "Encouragement and accountability",
)

CALLS_HELPED, CALLS_IMPROVE = "calls_helped", "calls_improve"
PROGRAMME_HELPED, PROGRAMME_IMPROVE = "programme_helped", "programme_improve"

# (question, answer, [(code, exact words it applies to)]) — written for the demo.
ANSWERS = [
    (
        CALLS_HELPED,
        "She was so warm and friendly, I actually looked forward to the calls.",
        [(W, "so warm and friendly")],
    ),
    (
        CALLS_HELPED,
        "Sam really listened. He understood how hard the nights were with a newborn.",
        [(E, "He understood how hard the nights were")],
    ),
    (
        CALLS_HELPED,
        "It felt like talking to a real person, not someone reading a script.",
        [(G, "talking to a real person, not someone reading a script")],
    ),
    (
        CALLS_HELPED,
        "Being told that lots of new mums feel this way made me feel less of a failure.",
        [(N, "lots of new mums feel this way"), (E, "made me feel less of a failure")],
    ),
    (
        CALLS_HELPED,
        "Knowing she would ask about my week made me do the exercises.",
        [(A, "Knowing she would ask about my week")],
    ),
    (
        CALLS_HELPED,
        "Priya was kind and never made me feel judged for missing a week.",
        [(W, "was kind"), (N, "never made me feel judged")],
    ),
    (
        CALLS_HELPED,
        "The calls kept me going when I wanted to give up.",
        [(A, "kept me going when I wanted to give up")],
    ),
    (
        CALLS_HELPED,
        "My coach was honest with me, even about what the programme could not fix.",
        [(G, "was honest with me")],
    ),
    (
        CALLS_HELPED,
        "I felt heard. Nobody else in my life asks how I am and means it.",
        [(E, "I felt heard"), (G, "asks how I am and means it")],
    ),
    (
        CALLS_HELPED,
        "Friendly, patient and never rushed. I could ring back on 07700 900456 if I missed her.",
        [(W, "Friendly, patient and never rushed")],
    ),
    (
        CALLS_HELPED,
        "He noticed small changes I had not noticed myself and said well done.",
        [(A, "said well done"), (E, "noticed small changes")],
    ),
    (
        CALLS_HELPED,
        "She explained that feeling flat after a baby is really common, which was a relief.",
        [(N, "feeling flat after a baby is really common")],
    ),
    (
        CALLS_HELPED,
        "The warmth in her voice made it easier to be honest about the bad days.",
        [(W, "The warmth in her voice")],
    ),
    (
        CALLS_HELPED,
        "Having someone check in every week made me accountable.",
        [(A, "check in every week made me accountable")],
    ),
    (
        CALLS_IMPROVE,
        "Sometimes the calls felt a bit rushed at the end.",
        [],
    ),
    (
        CALLS_IMPROVE,
        "I would have liked calls in the evening when my husband Tom is home to help.",
        [],
    ),
    (
        CALLS_IMPROVE,
        "More flexibility on times. Otherwise she was lovely and I have no complaints.",
        [(W, "she was lovely")],
    ),
    (
        CALLS_IMPROVE,
        "The first call felt scripted; after that it was much more natural.",
        [(G, "after that it was much more natural")],
    ),
    (
        CALLS_IMPROVE,
        "Longer calls when things were hard, because she always understood.",
        [(E, "she always understood")],
    ),
    (
        CALLS_IMPROVE,
        "Nothing really. Knowing other people struggle too was what I needed.",
        [(N, "Knowing other people struggle too")],
    ),
    (
        CALLS_IMPROVE,
        "A reminder text the day before would help, I kept forgetting.",
        [],
    ),
    (
        CALLS_IMPROVE,
        "It would be good to speak to the same person every time.",
        [],
    ),
    (
        PROGRAMME_HELPED,
        "The thought records. And my supporter cheering me on to keep filling them in.",
        [(A, "cheering me on to keep filling them in")],
    ),
    (
        PROGRAMME_HELPED,
        "Planning one nice thing a day, and being told it was normal to find it hard at first.",
        [(N, "it was normal to find it hard at first")],
    ),
    (
        PROGRAMME_HELPED,
        "Short modules I could do while feeding the baby.",
        [],
    ),
    (
        PROGRAMME_HELPED,
        "Seeing my mood chart go up. Sam pointed it out on a call and I was proud.",
        [(A, "pointed it out on a call and I was proud")],
    ),
    (
        PROGRAMME_HELPED,
        "The stories of other mums made me feel normal again.",
        [],
    ),
    (
        PROGRAMME_HELPED,
        "Having a kind person behind the website, not just pages to read.",
        [(W, "a kind person behind the website"), (G, "not just pages to read")],
    ),
    (
        PROGRAMME_HELPED,
        "Learning to catch my unhelpful thoughts. My coach understood when I got stuck.",
        [(E, "understood when I got stuck")],
    ),
    (
        PROGRAMME_HELPED,
        "The weekly plan told me what to do next, and someone checked I had done it.",
        [(A, "someone checked I had done it")],
    ),
    (
        PROGRAMME_HELPED,
        "Being able to go at my own pace. My partner Jess said I seemed calmer.",
        [],
    ),
    (
        PROGRAMME_HELPED,
        "Realising I am not the only one who feels like this.",
        [(N, "I am not the only one who feels like this")],
    ),
    (
        PROGRAMME_HELPED,
        "It was practical, and the person supporting me was genuinely interested.",
        [(G, "genuinely interested")],
    ),
    (
        PROGRAMME_HELPED,
        "The breathing exercises, and a supporter who remembered what I told her.",
        [(E, "remembered what I told her")],
    ),
    (
        PROGRAMME_IMPROVE,
        "Fewer notifications. Some days there were far too many reminders.",
        [],
    ),
    (
        PROGRAMME_IMPROVE,
        "The log-in kept failing on my phone. I emailed help@riverside.example twice.",
        [],
    ),
    (
        PROGRAMME_IMPROVE,
        "More on anxiety, not only low mood.",
        [],
    ),
    (
        PROGRAMME_IMPROVE,
        "Videos with subtitles so I can watch with the baby asleep.",
        [],
    ),
    (
        PROGRAMME_IMPROVE,
        "Sometimes it was a lot of reading after a long day.",
        [],
    ),
    (
        PROGRAMME_IMPROVE,
        "It would help to know who to call out of hours.",
        [],
    ),
    (
        PROGRAMME_IMPROVE,
        "The mandatory modules did not all fit me, but my coach was reassuring about skipping.",
        [(W, "my coach was reassuring about skipping")],
    ),
    (
        PROGRAMME_IMPROVE,
        "An option to message my supporter between calls, she always made me feel understood.",
        [(E, "she always made me feel understood")],
    ),
    (
        PROGRAMME_IMPROVE,
        "A printable summary at the end to keep.",
        [],
    ),
    (
        PROGRAMME_IMPROVE,
        "Nothing. It felt personal because a real person was following my progress.",
        [(G, "a real person was following my progress"), (A, "following my progress")],
    ),
]

THEMES = [
    (
        "The supporter as a person",
        "Participants describe the supporter's warmth, understanding and sincerity as what "
        "made the calls worth having.",
        [W, E, G],
    ),
    (
        "Feeling normal and kept on track",
        "Being told their experience was common, and being expected to report back, kept "
        "participants going.",
        [N, A],
    ),
]


def demo_service() -> Service | None:
    return Service.objects.filter(slug="riverside").first()


def second_researcher(service: Service) -> StaffProfile:
    """researcher2@demo.example: a coder for the demo, with the demo password and key."""
    from alliance.accounts.management.commands.demo import DEMO_PASSWORD, demo_key_hex

    user = User.objects.filter(email=CODER_EMAIL).first()
    if user is not None:
        return user.staff_profile
    profile = staff_create(
        service=service,
        role=Role.RESEARCHER,
        email=CODER_EMAIL,
        full_name=CODER_NAME,
        password=DEMO_PASSWORD,
    )
    profile.job_title = "Research assistant"
    profile.save(update_fields=["job_title"])
    TOTPDevice.objects.create(
        user=profile.user, name="demo authenticator", key=demo_key_hex(), confirmed=True
    )
    return profile


def demo_patients(service: Service) -> list[Patient]:
    return list(
        Patient.objects.filter(service=service, user__email__endswith=f"@{DEMO_DOMAIN}")
        .select_related("user", "supporter__user")
        .order_by("user__email")
    )


def number_of(patient: Patient) -> int:
    digits = "".join(c for c in patient.user.email.split("@")[0] if c.isdigit())
    return int(digits or 0)


def give_consents(patients: list[Patient]) -> None:
    document = selectors.consent_document_current()
    if document is None:
        return
    for patient in patients:
        if number_of(patient) % NO_CONSENT_EVERY == 0:
            continue
        if not ResearchConsent.objects.filter(patient=patient).exists():
            services.consent_give(patient=patient, document=document)


def answer_surveys(patients: list[Patient], rng: random.Random) -> int:
    """Two or three answers (to different questions) from each demo patient with a
    supporter, once; every demo answer is used once, so no two participants write alike."""
    stored = 0
    if Response.objects.filter(instrument="feedback", patient__in=patients).exists():
        return 0  # answered in an earlier run
    queues: dict[str, list[str]] = {}
    for question, text, _codes in ANSWERS:
        queues.setdefault(question, []).append(text)
    for texts in queues.values():
        rng.shuffle(texts)
    for patient in patients:
        if patient.supporter is None:
            continue
        open_questions = sorted(q for q, texts in queues.items() if texts)
        if not open_questions:
            break
        chosen = rng.sample(open_questions, min(len(open_questions), rng.choice([2, 2, 3])))
        texts = {question: queues[question].pop() for question in chosen}
        request = measures.questionnaire_send(
            patient=patient, instrument="feedback", actor=patient.supporter.user
        )
        measures.response_submit(request=request, actor=patient.user, text_answers=texts)
        stored += 1
    return stored


def words_of(text: str) -> set[str]:
    return set(re.findall(r"[a-z']+", text.lower()))


def planned_codes(text: str) -> list[tuple[str, str]]:
    """The planned codes of the demo answer this pseudonymised text came from (the one
    sharing most words with it: names and numbers became tags)."""
    words = words_of(text)
    best, score = None, 0.0
    for _question, answer, codes in ANSWERS:
        theirs = words_of(answer)
        overlap = len(words & theirs) / len(words | theirs)
        if overlap > score:
            best, score = codes, overlap
    return best if best is not None and score > 0.6 else []


def code_documents(project: ResearchProject, lead: User, coder: User, rng: random.Random) -> int:
    """The lead codes as planned; the second coder mostly agrees, sometimes misses a code,
    sometimes codes a wider passage or adds a code of their own."""
    codes = {c.name: c for c in Code.objects.filter(codebook__project=project)}
    codable = [c for c in codes.values() if c.is_codable]
    made = 0
    for document in project.documents.order_by("pk"):
        if document.completions.exists():
            continue  # coded in an earlier run
        for name, words in planned_codes(document.text):
            if words not in document.text:
                continue
            made += apply(document, lead, codes[name], words)
            roll = rng.random()
            if roll < 0.15:
                continue  # the second coder missed it
            if roll < 0.30:
                made += apply(document, coder, codes[name], None)  # the whole answer
            else:
                made += apply(document, coder, codes[name], words)
        if rng.random() < 0.12:
            made += apply(document, coder, rng.choice(codable), None)
        for user in (lead, coder):
            services.document_set_done(document=document, coder=user)
    return made


def apply(document, user: User, code: Code, words: str | None) -> int:
    before = Coding.objects.filter(document=document, coder=user, code=code).count()
    if words is None:
        services.codings_apply(
            document=document, coder=user, codes=[code], start=0, end=len(document.text)
        )
    else:
        start = document.text.index(words)
        services.codings_apply(
            document=document, coder=user, codes=[code], start=start, end=start + len(words)
        )
    return Coding.objects.filter(document=document, coder=user, code=code).count() - before


REASONS_APPLY = [
    "The words describe this quality directly; the definition fits.",
    "On rereading, the participant is describing the supporter, not the programme.",
]
REASONS_NOT = [
    "The passage is about the programme, not the supporter: see 'when not to use'.",
    "Too indirect for this code; it does not meet the definition.",
]


def reconcile(project: ResearchProject, lead: User, rng: random.Random) -> None:
    if project.status == ProjectStatus.OPEN:
        services.project_set_status(
            project=project, status=ProjectStatus.RECONCILIATION, actor=lead
        )
        project.refresh_from_db()
    if project.status != ProjectStatus.RECONCILIATION:
        return
    rows = [r for r in selectors.disagreement_rows(project) if r.decision is None]
    for row in rows[:-LEFT_TO_DECIDE] if len(rows) > LEFT_TO_DECIDE else []:
        planned = dict(planned_codes(row.document.text))
        words = planned.get(row.code.name)
        if words and words in row.document.text:
            start = row.document.text.index(words)
            services.consensus_decide(
                document=row.document,
                code=row.code,
                actor=lead,
                applied=True,
                start=start,
                end=start + len(words),
                reason=rng.choice(REASONS_APPLY),
            )
        else:
            services.consensus_decide(
                document=row.document,
                code=row.code,
                actor=lead,
                applied=False,
                reason=rng.choice(REASONS_NOT),
            )


def add_themes(project: ResearchProject) -> None:
    codes = {c.name: c for c in Code.objects.filter(codebook__project=project)}
    for name, description, names in THEMES:
        if not project.themes.filter(name=name).exists():
            services.theme_create(
                project=project,
                name=name,
                description=description,
                codes=[codes[n] for n in names if n in codes],
            )


def populate(*, now=None) -> int:
    """Create the demo's feedback study. Returns how many feedback answers were stored."""
    service = demo_service()
    lead_user = User.objects.filter(email=LEAD_EMAIL).first()
    if service is None or lead_user is None:
        return 0
    rng = random.Random(8)  # noqa: S311  (demo data)
    with transaction.atomic():
        coder = second_researcher(service)
        patients = demo_patients(service)
        give_consents(patients)
        stored = answer_surveys(patients, rng)
        project = ResearchProject.objects.filter(service=service, title=PROJECT_TITLE).first()
        if project is None:
            project = services.project_create(
                lead=lead_user.staff_profile,
                title=PROJECT_TITLE,
                description=PROJECT_DESCRIPTION,
                instruments=["feedback"],
                coders=[coder],
                starter="supporter-qualities",
            )
        elif project.status == ProjectStatus.OPEN:
            services.project_refresh_documents(project=project)
        if project.status == ProjectStatus.OPEN:
            code_documents(project, lead_user, coder.user, rng)
        reconcile(project, lead_user, rng)
        add_themes(project)
    return stored


def summary() -> dict:
    """What the demo study holds (for the demo command's output and tests)."""
    project = ResearchProject.objects.filter(title=PROJECT_TITLE).first()
    if project is None:
        return {}
    return {
        "documents": project.documents.count(),
        "codings": Coding.objects.filter(document__project=project).count(),
        "consensus": ConsensusCoding.objects.filter(document__project=project).count(),
        "themes": project.themes.count(),
    }
