"""Demo data of messaging: the starter templates, conversations, and one request for a
different supporter.

Called by ``alliance demo`` after the accounts, care and measures demo data exist. The
conversations are written through ``message_send`` (backdated), so threads, read marks and
alerts are exactly what real use makes: most threads are answered; Ben Carter's question
waits for a reply; Daniel Osei's is overdue; Ella Jones's message uses risk language and
raised an alert; Amira Hassan has an unread reply. A patient who has a thread already is
left alone, so running it again adds nothing. Seeded: every demo looks the same.
"""

import random
from datetime import timedelta

from django.utils import timezone

from alliance.accounts.models import Patient, Service, User
from alliance.messaging import selectors, services
from alliance.messaging.models import SupporterChangeRequest, Thread

NAVIGATOR = "navigator@demo.example"
# (who, text, days before now), who being "patient" or "supporter"; or ("template:KEY",
# days) for a starter template from the supporter, ("navigator:KEY", days) from the digital
# navigator, and ("navigator:no-reply", days) when the navigator marks that no reply is needed.
CONVERSATIONS = {
    "patient01@demo.example": [
        ("template:welcome", 20.2),
        (
            "patient",
            "Thanks Sam. I've read the first module and the bit about the vicious cycle made "
            "a lot of sense. I hadn't realised how much I'd stopped doing.",
            19.6,
        ),
        (
            "supporter",
            "That's a really important thing to notice, Amira. Lots of people find that when "
            "their mood drops, the things that used to give them a lift quietly fall away. "
            "Next week's module looks at bringing a few of them back, gently. What's one "
            "thing you miss doing?",
            18.9,
        ),
        (
            "patient",
            "Swimming, probably. I used to go every Saturday with my sister.",
            18.1,
        ),
        ("template:module-finished", 3.2),
    ],
    "patient02@demo.example": [
        ("template:welcome", 12.0),
        (
            "patient",
            "Hi Priya, quick question. The thought record asks how much I believe the "
            "thought as a percentage. What if I don't know? Is a guess OK?",
            0.12,
        ),
    ],
    "patient04@demo.example": [
        ("template:welcome", 26.0),
        (
            "patient",
            "I haven't managed much this week. Work has been full on and by the evening I "
            "just sit there. I'm not sure the activity plan is realistic for me right now.",
            8.0,
        ),
    ],
    "patient05@demo.example": [
        ("template:welcome", 15.0),
        (
            "patient",
            "I'm finding the evenings really hard. The baby won't settle and I'm so tired I "
            "can barely think.",
            9.0,
        ),
        ("template:hard-week", 8.2),
        (
            "patient",
            "Honestly I don't know why I'm doing this. Some nights I feel like they'd all be "
            "better off without me.",
            0.2,
        ),
    ],
    "patient06@demo.example": [
        ("template:welcome", 30.0),
        (
            "patient",
            "I did the self-care plan. Had a bath with my phone in another room. It sounds "
            "small but it helped.",
            6.5,
        ),
        ("template:self-care", 5.9),
        ("patient", "Thank you, that's kind. I'll try the walk idea this week.", 5.5),
        (
            "supporter",
            "Lovely. Let me know how the walk goes, even if it's only ten minutes.",
            5.1,
        ),
    ],
    "patient07@demo.example": [
        (
            "patient",
            "The sign-in link in my e-mail says it has expired. How do I get back in?",
            4.0,
        ),
        ("navigator:technical-help", 3.8),
        ("patient", "That worked, thank you!", 3.7),
        ("navigator:no-reply", 3.6),
    ],
    "patient09@demo.example": [
        ("template:welcome", 22.0),
        ("template:quiet-spell", 7.0),
        (
            "patient",
            "Sorry, I went quiet. Things got on top of me. I'd like to start again.",
            2.0,
        ),
        ("template:welcome-back", 1.5),
    ],
}
SUPPORTER_CHANGE = (
    "patient08@demo.example",
    "Our call times never fit around my shifts. Is there someone who works later in the day?",
)
# Patients who get only a welcome from their supporter (and sometimes answer it).
WELCOME_ONLY = range(10, 21)
SUPPORTER_REPLIES = [
    "Lovely, thanks for letting me know. I'll look out for how you get on.",
    "Great. Any questions at all as you go, just write here.",
]
SHORT_REPLIES = [
    "Thank you, I'll make a start this weekend.",
    "Thanks. I've had a look and it seems manageable.",
    "Hi, thanks for the message. Looking forward to getting going.",
]


def populate(*, now=None) -> int:
    """Write the demo's templates, conversations and request. Returns how many messages were
    sent (0 when they are there already)."""
    now = now or timezone.now()
    rng = random.Random(61)  # noqa: S311  (demo data, not security)
    for service in Service.objects.filter(slug="riverside"):
        services.templates_load_starters(service=service)
    patients = {
        p.user.email: p
        for p in Patient.objects.filter(user__email__endswith="@demo.example").select_related(
            "user", "service", "supporter__user"
        )
    }
    navigator = User.objects.filter(email=NAVIGATOR).first()
    sent = 0
    for email, script in CONVERSATIONS.items():
        patient = patients.get(email)
        if patient is not None and patient.supporter is not None:
            sent += converse(patient, script, now=now, navigator=navigator)
    for number in WELCOME_ONLY:
        patient = patients.get(f"patient{number:02d}@demo.example")
        if patient is None or patient.supporter is None:
            continue
        script = [("template:welcome", rng.uniform(10, 40))]
        if rng.random() < 0.5:
            answered = script[0][1] - 1.5
            script.append(("patient", rng.choice(SHORT_REPLIES), answered))
            script.append(("supporter", rng.choice(SUPPORTER_REPLIES), answered - 0.6))
        sent += converse(patient, script, now=now, navigator=navigator)
    email, reason = SUPPORTER_CHANGE
    patient = patients.get(email)
    if patient is not None and not SupporterChangeRequest.objects.filter(patient=patient).exists():
        services.supporter_change_request(patient=patient, actor=patient.user, reason=reason)
    return sent


def converse(patient: Patient, script, *, now, navigator) -> int:
    if Thread.objects.filter(patient=patient).exists():
        return 0
    templates = {t.key: t for t in selectors.templates_for(patient.service_id) if t.key}
    thread = selectors.thread_for(patient)
    sent = 0
    for step in script:
        who, text, days_ago = step if len(step) == 3 else (*step[0].split(":", 1), step[1])
        author = {
            "patient": patient.user,
            "supporter": patient.supporter.user,
            "template": patient.supporter.user,
            "navigator": navigator or patient.supporter.user,
        }[who]
        if text == "no-reply":
            services.thread_mark_no_reply_needed(thread=thread, actor=author)
            continue
        if who in ("template", "navigator"):
            template = templates.get(text)
            if template is None:  # the service deleted this starter template
                continue
            text = services.template_render(template, selectors.template_context(patient, author))
        services.message_send(
            thread=thread, author=author, body=text, now=now - timedelta(days=days_ago)
        )
        thread = selectors.thread_for(patient)
        sent += 1
    return sent
