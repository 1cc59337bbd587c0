"""The starter library of message templates, loaded with ``alliance messaging
load-templates`` (and by the demo). Written for Alliance.

They aim to sound like a person, after what participants valued in their coaches: warmth,
empathy and genuineness; feeling normalised ("lots of people find..."); being encouraged
to reflect and to look after themselves. Each is complete as it stands, so nothing is
sent with a gap, but reads best with a line of the supporter's own added.
"""

from django.utils.translation import gettext_lazy as _

# (key, title, body). Keys are stable: loading again adds only the missing ones.
STARTER_TEMPLATES = [
    (
        "welcome",
        _("Welcome and introduction"),
        _(
            "Hi {patient_first_name},\n\n"
            "I'm {supporter_name}, and I'll be supporting you while you work through the "
            "programme with {service_name}. I'm really glad you've made a start.\n\n"
            "This is how it works: you do the modules in your own time, and I look at how "
            "you're getting on, read anything you'd like to share, and write back. You can "
            "message me here whenever you like; the messages page shows when to expect my "
            "reply.\n\n"
            "There's no right or wrong way to do this. If something doesn't make sense, or "
            "doesn't fit around your life, tell me and we'll work it out together.\n\n"
            "Looking forward to hearing how you get on,\n{supporter_name}"
        ),
    ),
    (
        "module-finished",
        _("Well done on finishing a module"),
        _(
            "Hi {patient_first_name},\n\n"
            "I can see you've finished {module_title}. Well done: getting started is often "
            "the hardest part, and you've done it.\n\n"
            "What stood out for you? It might be something that helped make sense of how "
            "you've been feeling, or something you weren't sure about. Both are useful to "
            "hear.\n\n"
            "Take a moment to notice the effort you've put in this week.\n\n"
            "{supporter_name}"
        ),
    ),
    (
        "quiet-spell",
        _("Checking in after a quiet spell"),
        _(
            "Hi {patient_first_name},\n\n"
            "It's been a little while since you logged in, so I wanted to check in. Life "
            "gets busy, and energy can be low when you're feeling down. Lots of people find "
            "a week slips away from them; it doesn't mean you've done anything wrong.\n\n"
            "Whenever you're ready, you can pick up where you left off with {module_title}. "
            "Even ten minutes counts.\n\n"
            "If something is getting in the way, I'd like to hear about it. We can change "
            "the pace or find a way that suits you better.\n\n"
            "{supporter_name}"
        ),
    ),
    (
        "hard-week",
        _("After a hard week"),
        _(
            "Hi {patient_first_name},\n\n"
            "Thank you for telling me how hard this week has been. It sounds really tough, "
            "and it makes sense that you feel the way you do.\n\n"
            "Ups and downs are a normal part of getting better. A difficult week doesn't "
            "undo the progress you've made.\n\n"
            "Would you be willing to try one small, kind thing for yourself in the next day "
            "or two? Something that usually brings you a bit of comfort, however small.\n\n"
            "If you ever feel you can't keep yourself safe, please use the numbers at the "
            "bottom of every page straight away; don't wait for my reply.\n\n"
            "{supporter_name}"
        ),
    ),
    (
        "thought-record",
        _("Feedback on a thought record"),
        _(
            "Hi {patient_first_name},\n\n"
            "Thank you for sharing your thought record. It takes courage to write thoughts "
            "like these down, and you've done it carefully.\n\n"
            "You've done something really useful: you caught the thought, noticed how "
            "strongly you believed it, and weighed up the evidence. That's the heart of this "
            "skill, and it gets easier with practice.\n\n"
            "Looking back at it now, is there anything you'd add to your balanced thought? "
            "How much do you believe it today?\n\n"
            "Have a go at one more this week, when you notice your mood dip.\n\n"
            "{supporter_name}"
        ),
    ),
    (
        "self-care",
        _("Encouraging self-care"),
        _(
            "Hi {patient_first_name},\n\n"
            "I notice how much you look after everyone else. It's easy to let your own needs "
            "slip to the bottom of the list, especially when you're tired.\n\n"
            "Looking after yourself isn't selfish; it's part of getting better. What's one "
            "small thing you could do for yourself this week? A walk, a bath, a call with a "
            "friend, or ten minutes with a cup of tea and nothing else to do.\n\n"
            "Let me know what you choose, and how it goes.\n\n"
            "{supporter_name}"
        ),
    ),
    (
        "reflection",
        _("Encouraging reflection"),
        _(
            "Hi {patient_first_name},\n\n"
            "As you work through {module_title}, it can help to pause now and then and ask "
            "yourself: what am I noticing about my mood, my thoughts, and what I do? There "
            "are no wrong answers.\n\n"
            "If you'd like to, write me a few lines about one thing you've noticed this "
            "week. I'd really like to hear it.\n\n"
            "{supporter_name}"
        ),
    ),
    (
        "message-received",
        _("Your message has been read"),
        _(
            "Hi {patient_first_name},\n\n"
            "Thank you for your message. I've read it, and I want to give it the time it "
            "deserves, so I'll write back properly soon.\n\n"
            "In the meantime, be gentle with yourself.\n\n"
            "{supporter_name}"
        ),
    ),
    (
        "before-session",
        _("Before our next session"),
        _(
            "Hi {patient_first_name},\n\n"
            "Just a note ahead of our next session. If you can, have a look at "
            "{module_title} beforehand, but please don't worry if you don't get through "
            "all of it. We'll talk about whatever you managed, and anything that came up.\n\n"
            "Is there anything in particular you'd like us to make time for?\n\n"
            "{supporter_name}"
        ),
    ),
    (
        "progress",
        _("Noticing progress"),
        _(
            "Hi {patient_first_name},\n\n"
            "I've been looking back over the last few weeks and wanted to share something: "
            "you've kept going, even when it's been hard. Things seem to have shifted a "
            "little, and that's down to the work you've put in.\n\n"
            "What do you think has helped most? It's worth holding on to, for the future.\n\n"
            "{supporter_name}"
        ),
    ),
    (
        "setback",
        _("After a setback"),
        _(
            "Hi {patient_first_name},\n\n"
            "It sounds as if this week didn't go the way you hoped. That's completely "
            "understandable: setbacks happen to everyone working on their mood, and they're "
            "a chance to learn, not a sign of failure.\n\n"
            "What got in the way, do you think? Sometimes a plan is just a bit too big, and "
            "making it smaller is a skill in itself.\n\n"
            "Let's choose one step that feels manageable for the next few days.\n\n"
            "{supporter_name}"
        ),
    ),
    (
        "welcome-back",
        _("Welcome back"),
        _(
            "Hi {patient_first_name},\n\n"
            "It's really good to see you back. However long it's been, you're very welcome, "
            "and you haven't lost what you've learned.\n\n"
            "You can carry on with {module_title} whenever it suits you. Is there anything "
            "that would make it easier this time?\n\n"
            "{supporter_name}"
        ),
    ),
    (
        "ending",
        _("Coming to the end of the programme"),
        _(
            "Hi {patient_first_name},\n\n"
            "We're coming towards the end of your programme with {service_name}, and I "
            "wanted to say how much I've valued working with you.\n\n"
            "It's worth taking some time to write down what has helped: the skills, the "
            "small changes, and the signs that tell you it's time to look after yourself. "
            "Then you have your own plan to come back to.\n\n"
            "Thank you for everything you've put into this.\n\n"
            "{supporter_name}"
        ),
    ),
    (
        "technical-help",
        _("Help with signing in"),
        _(
            "Hi {patient_first_name},\n\n"
            "Thanks for letting us know you've had trouble with the website. That's "
            "frustrating, and I'm sorry.\n\n"
            "You can always ask for a sign-in link by e-mail on the sign-in page, instead of "
            "using your password. If things still don't work, tell me what you see on the "
            "screen and which phone or computer you're using, and I'll help you sort it "
            "out.\n\n"
            "{supporter_name}"
        ),
    ),
]
