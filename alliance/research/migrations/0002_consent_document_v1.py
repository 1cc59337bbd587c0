"""The first research consent text, so a service can ask for consent from the start.

A later text is a new ConsentDocument version (services.consent_document_publish); this
one is never changed.
"""

from django.db import migrations
from django.utils import timezone

TITLE = "Taking part in research"
TEXT = """\
Your service studies how well its online programmes work, so that they can be improved
for the people who use them next. You can help by letting researchers read the answers
you give to open questions, such as the feedback survey at the end of your programme.

What researchers see: your written answers only, with your name, your supporter's name,
e-mail addresses, phone numbers, dates, NHS numbers and postcodes taken out, under a code
instead of your name. They never see your record, your scores or who you are.

What they do with it: they read the answers, group what people say into themes, and
report those themes with short quotes. No report names or describes you.

It is your choice. Saying no, or changing your mind later, makes no difference at all to
your care. If you withdraw, your answers are taken out of every study that has not yet
finished. Studies that have already finished keep what they had, because their results
may already be written up.
"""


def add_first_version(apps, schema_editor):
    ConsentDocument = apps.get_model("research", "ConsentDocument")
    if not ConsentDocument.objects.exists():
        ConsentDocument.objects.create(
            version=1, title=TITLE, text=TEXT, published_at=timezone.now()
        )


class Migration(migrations.Migration):
    dependencies = [("research", "0001_initial")]

    operations = [migrations.RunPython(add_first_version, migrations.RunPython.noop)]
