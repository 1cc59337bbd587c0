"""Contacts: booking (not in the past, no overlap), recording the outcome with notes, time
and homework, the patient's appointments and calendar files; pages, API and access."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from alliance.audit.models import AuditEntry
from alliance.care import services
from alliance.care.models import Contact, Homework
from alliance.conftest import make_patient
from alliance.measures.models import QuestionnaireRequest
from alliance.measures.selectors import attended_contacts


def soon(days=2, hour=10, minute=0):
    """A whole-minute time ``days`` from now, in UTC."""
    moment = timezone.now() + timedelta(days=days)
    return moment.replace(hour=hour, minute=minute, second=0, microsecond=0)


def book(episode, sam, when=None, **fields):
    return services.contact_book(
        episode=episode,
        kind=fields.pop("kind", "phone"),
        scheduled_at=when or soon(),
        actor=sam.user,
        **fields,
    )


def past_contact(episode, days_ago=1, **fields):
    """A contact that has happened (written as history, without an actor)."""
    return services.contact_book(
        episode=episode,
        kind=fields.pop("kind", "video"),
        scheduled_at=timezone.now() - timedelta(days=days_ago),
        **fields,
    )


@pytest.fixture
def other_episode(riverside, north, programme, sam):
    """Another of Sam's patients: Sam's appointments with any patient count for overlaps."""
    dana = make_patient(riverside, north, "Dana Northpatient", supporter=sam)
    return services.episode_start(
        patient=dana, programme=programme, care_model="blended", supporter=sam, actor=None
    )


class TestContactBook:
    def test_it_books_a_contact_and_sends_its_questionnaires(self, episode, sam):
        contact = book(episode, sam, duration_minutes=45)
        assert contact.supporter == sam and contact.duration_minutes == 45
        assert QuestionnaireRequest.objects.filter(occasion=f"contact:{contact.pk}").count() == 3
        assert AuditEntry.objects.filter(what="contact", actor=sam.user).exists()

    def test_it_refuses_a_time_in_the_past_and_books_nothing(self, episode, sam):
        with pytest.raises(ValidationError) as error:
            book(episode, sam, when=timezone.now() - timedelta(hours=1))
        assert "is in the past" in error.value.message_dict["scheduled_at"][0]
        assert not Contact.objects.exists()

    def test_it_refuses_an_overlap_with_the_supporters_other_patient(
        self, episode, other_episode, sam
    ):
        book(other_episode, sam, when=soon(hour=10), duration_minutes=60)
        with pytest.raises(ValidationError) as error:
            book(episode, sam, when=soon(hour=10, minute=30))
        message = error.value.message_dict["scheduled_at"][0]
        assert "Sam Supporter has another appointment" in message
        assert "Dana" not in message  # another patient's name is never told
        assert Contact.objects.filter(episode=episode).count() == 0

    def test_it_allows_back_to_back_contacts(self, episode, sam):
        book(episode, sam, when=soon(hour=10), duration_minutes=30)
        book(episode, sam, when=soon(hour=10, minute=30), duration_minutes=30)
        book(episode, sam, when=soon(hour=9, minute=30), duration_minutes=30)
        assert Contact.objects.count() == 3

    def test_a_cancelled_contact_frees_its_time(self, episode, sam):
        first = book(episode, sam, when=soon(hour=10))
        services.contact_record(contact=first, status="cancelled", actor=sam.user)
        book(episode, sam, when=soon(hour=10))
        assert Contact.objects.count() == 2

    @pytest.mark.parametrize("minutes", [0, 4, 241, "half an hour"])
    def test_it_refuses_a_bad_length(self, episode, sam, minutes):
        with pytest.raises(ValidationError) as error:
            book(episode, sam, duration_minutes=minutes)
        assert "from 5 to 240" in error.value.message_dict["duration_minutes"][0]
        assert not Contact.objects.exists()

    def test_it_refuses_an_unknown_kind(self, episode, sam):
        with pytest.raises(ValidationError) as error:
            book(episode, sam, kind="carrier pigeon")
        assert "kind" in error.value.message_dict
        assert not Contact.objects.exists()

    def test_a_retry_with_the_same_key_books_once(self, episode, sam):
        first = book(episode, sam, client_key="k-123456")
        again = book(episode, sam, client_key="k-123456")
        assert again.pk == first.pk and Contact.objects.count() == 1

    def test_history_without_an_actor_is_recorded_as_given(self, episode):
        contact = past_contact(episode, days_ago=30)
        assert contact.scheduled_at < timezone.now()

    def test_it_refuses_an_ended_episode(self, episode, sam):
        services.episode_end(episode=episode, reason="completed", actor=sam.user)
        with pytest.raises(ValidationError) as error:
            book(episode, sam)
        assert "episode" in error.value.message_dict


class TestContactRecord:
    def test_it_records_an_attended_contact_with_notes_time_and_homework(self, episode, sam, alice):
        contact = past_contact(episode)
        services.contact_record(
            contact=contact,
            status="attended",
            actor=sam.user,
            notes="Talked about sleep",
            homework=["Keep a sleep diary", "Wind down at 10"],
        )
        contact.refresh_from_db()
        assert contact.status == "attended" and contact.notes == "Talked about sleep"
        assert contact.minutes_spent == 30  # the booked length
        assert contact.recorded_by == sam.user and contact.recorded_at is not None
        texts = [h.text for h in Homework.objects.filter(contact=contact)]
        assert texts == ["Keep a sleep diary", "Wind down at 10"]
        from alliance.care.selectors import patient_week

        assert "Keep a sleep diary" in [h.text for h in patient_week(alice).homework]
        assert attended_contacts(episode) == 1  # counts for the outcome rules
        assert AuditEntry.objects.filter(what="contact outcome").exists()

    def test_it_records_a_did_not_attend(self, episode, sam):
        contact = past_contact(episode)
        services.contact_record(contact=contact, status="dna", actor=sam.user, minutes_spent=10)
        contact.refresh_from_db()
        assert contact.status == "dna" and contact.minutes_spent == 10
        assert attended_contacts(episode) == 0
        statuses = set(
            QuestionnaireRequest.objects.filter(occasion=f"contact:{contact.pk}").values_list(
                "status", flat=True
            )
        )
        assert statuses <= {"cancelled", "completed"}

    def test_it_refuses_attendance_of_a_contact_still_to_come(self, episode, sam):
        contact = book(episode, sam)
        with pytest.raises(ValidationError) as error:
            services.contact_record(contact=contact, status="attended", actor=sam.user, notes="x")
        assert "Record whether the patient attended once" in error.value.message_dict["status"][0]
        contact.refresh_from_db()
        assert contact.status == "scheduled" and contact.notes == ""

    def test_it_refuses_homework_for_a_missed_contact(self, episode, sam):
        contact = past_contact(episode)
        with pytest.raises(ValidationError) as error:
            services.contact_record(
                contact=contact, status="dna", actor=sam.user, homework=["Walk"]
            )
        assert "homework" in error.value.message_dict
        contact.refresh_from_db()
        assert contact.status == "scheduled" and not Homework.objects.exists()

    @pytest.mark.parametrize("status", ["", "scheduled", "maybe"])
    def test_it_refuses_an_unknown_outcome(self, episode, sam, status):
        contact = past_contact(episode)
        with pytest.raises(ValidationError) as error:
            services.contact_record(contact=contact, status=status, actor=sam.user)
        assert "status" in error.value.message_dict
        contact.refresh_from_db()
        assert contact.status == "scheduled"

    def test_recording_again_never_sets_homework_twice(self, episode, sam):
        contact = past_contact(episode)
        for notes in ("First", "Corrected"):
            services.contact_record(
                contact=contact, status="attended", actor=sam.user, notes=notes, homework=["Walk"]
            )
        contact.refresh_from_db()
        assert contact.notes == "Corrected"
        assert Homework.objects.filter(contact=contact).count() == 1

    def test_it_encrypts_notes_at_rest(self, episode, sam):
        contact = past_contact(episode)
        services.contact_record(
            contact=contact, status="attended", actor=sam.user, notes="Very private"
        )
        with connection.cursor() as cursor:
            cursor.execute("SELECT notes FROM care_contact WHERE id = %s", [contact.pk])
            assert "Very private" not in cursor.fetchone()[0]


class TestContactsPage:
    def test_it_lists_coming_and_past_contacts(self, login, sam, alice, episode):
        book(episode, sam, when=soon(days=3))
        past_contact(episode, days_ago=2)
        page = login(sam).get(f"/patients/{alice.pk}/contacts/").content.decode()
        assert "Coming up" in page and "Book a contact" in page
        assert "Not recorded yet" in page and "Record the outcome" in page
        assert AuditEntry.objects.filter(patient=alice, what="contacts").exists()

    def test_it_books_in_the_supporters_time_zone(self, login, sam, alice, episode):
        sam.user.time_zone = "America/New_York"
        sam.user.save(update_fields=["time_zone"])
        day = (timezone.now() + timedelta(days=10)).date()
        response = login(sam).post(
            f"/patients/{alice.pk}/contacts/",
            {
                "kind": "video",
                "date": day.isoformat(),
                "time": "14:30",
                "duration_minutes": "50",
                "client_key": "abc12345",
            },
        )
        assert response.status_code == 302
        contact = Contact.objects.get()
        local = contact.scheduled_at.astimezone(ZoneInfo("America/New_York"))
        assert (local.date(), local.hour, local.minute) == (day, 14, 30)
        assert contact.duration_minutes == 50 and contact.kind == "video"

    def test_it_names_a_date_in_the_past_and_books_nothing(self, login, sam, alice, episode):
        day = (timezone.localdate() - timedelta(days=1)).isoformat()
        response = login(sam).post(
            f"/patients/{alice.pk}/contacts/",
            {"kind": "phone", "date": day, "time": "10:00", "duration_minutes": "30"},
        )
        assert response.status_code == 400
        page = response.content.decode()
        assert "There is a problem" in page and "Date: " in page and "is in the past" in page
        assert not Contact.objects.exists()

    def test_it_names_an_overlapping_time_and_books_nothing(
        self, login, sam, alice, episode, other_episode
    ):
        day = (timezone.now() + timedelta(days=5)).date()
        client = login(sam)
        data = {"kind": "phone", "date": day.isoformat(), "time": "10:00", "duration_minutes": "60"}
        tz = ZoneInfo(sam.user.time_zone)
        services.contact_book(
            episode=other_episode,
            kind="phone",
            scheduled_at=timezone.datetime(day.year, day.month, day.day, 10, 15, tzinfo=tz),
            actor=sam.user,
        )
        response = client.post(f"/patients/{alice.pk}/contacts/", data)
        assert response.status_code == 400
        assert "Time: Sam Supporter has another appointment" in response.content.decode()
        assert not Contact.objects.filter(episode=episode).exists()

    def test_it_names_missing_fields(self, login, sam, alice, episode):
        response = login(sam).post(f"/patients/{alice.pk}/contacts/", {"kind": "phone"})
        assert response.status_code == 400
        page = response.content.decode()
        assert "Date: Give the date." in page and "Time: Give the time." in page
        assert not Contact.objects.exists()

    def test_it_lets_a_digital_navigator_look_but_not_book(self, login, nia, alice, episode):
        client = login(nia)
        page = client.get(f"/patients/{alice.pk}/contacts/").content.decode()
        assert "Book a contact" not in page
        day = (timezone.now() + timedelta(days=3)).date().isoformat()
        response = client.post(
            f"/patients/{alice.pk}/contacts/",
            {"kind": "phone", "date": day, "time": "10:00", "duration_minutes": "30"},
        )
        assert response.status_code == 403
        assert not Contact.objects.exists()

    def test_a_service_manager_reads_it(self, login, ruth, alice, episode):
        assert login(ruth).get(f"/patients/{alice.pk}/contacts/").status_code == 200

    @pytest.mark.parametrize("persona", ["priya", "oscar", "tomasz", "hana"])
    def test_it_answers_not_found_to_outsiders(self, request, login, alice, episode, persona):
        client = login(request.getfixturevalue(persona))
        assert client.get(f"/patients/{alice.pk}/contacts/").status_code == 404
        day = (timezone.now() + timedelta(days=3)).date().isoformat()
        response = client.post(
            f"/patients/{alice.pk}/contacts/",
            {"kind": "phone", "date": day, "time": "10:00", "duration_minutes": "30"},
        )
        assert response.status_code == 404
        assert not Contact.objects.exists()

    def test_it_runs_a_fixed_number_of_queries(
        self, login, sam, alice, episode, django_assert_num_queries
    ):
        client = login(sam)
        past_contact(episode, days_ago=1)
        client.get(f"/patients/{alice.pk}/contacts/")
        with django_assert_num_queries(30, exact=False) as before:
            client.get(f"/patients/{alice.pk}/contacts/")
        for n in range(6):
            contact = past_contact(episode, days_ago=3 + n)
            services.contact_record(
                contact=contact, status="attended", actor=sam.user, homework=[f"Task {n}"]
            )
            book(episode, sam, when=soon(days=2 + n))
        with django_assert_num_queries(len(before.captured_queries)):
            client.get(f"/patients/{alice.pk}/contacts/")


class TestContactOutcomePage:
    def test_it_records_attendance_with_notes_and_homework(
        self, login, client, sam, alice, episode
    ):
        contact = past_contact(episode)
        staff = login(sam)
        page = staff.get(f"/patients/{alice.pk}/contacts/{contact.pk}/").content.decode()
        assert "Record the outcome" in page and "How did it go?" in page
        response = staff.post(
            f"/patients/{alice.pk}/contacts/{contact.pk}/",
            {"status": "attended", "notes": "Good session", "homework": "Try the exercise\n"},
        )
        assert response.status_code == 302
        contact.refresh_from_db()
        assert contact.status == "attended" and contact.notes == "Good session"
        client.logout()
        assert "Try the exercise" in login(alice).get("/my/").content.decode()

    def test_it_names_a_missing_outcome_and_changes_nothing(self, login, sam, alice, episode):
        contact = past_contact(episode)
        response = login(sam).post(
            f"/patients/{alice.pk}/contacts/{contact.pk}/", {"notes": "Something"}
        )
        assert response.status_code == 400
        page = response.content.decode()
        assert "How did it go?: Choose attended, did not attend or cancelled." in page
        assert 'href="#id_status_0"' in page
        contact.refresh_from_db()
        assert contact.status == "scheduled" and contact.notes == ""

    def test_it_names_attendance_of_a_future_contact(self, login, sam, alice, episode):
        contact = book(episode, sam)
        response = login(sam).post(
            f"/patients/{alice.pk}/contacts/{contact.pk}/", {"status": "attended"}
        )
        assert response.status_code == 400
        assert "Record whether the patient attended once it has started" in (
            response.content.decode()
        )
        contact.refresh_from_db()
        assert contact.status == "scheduled"

    def test_it_cancels_a_future_contact(self, login, sam, alice, episode):
        contact = book(episode, sam)
        login(sam).post(f"/patients/{alice.pk}/contacts/{contact.pk}/", {"status": "cancelled"})
        contact.refresh_from_db()
        assert contact.status == "cancelled"

    def test_it_lets_a_digital_navigator_read_notes_but_not_record(
        self, login, sam, nia, alice, episode
    ):
        contact = past_contact(episode)
        services.contact_record(contact=contact, status="attended", actor=sam.user, notes="Seen")
        client = login(nia)
        page = client.get(f"/patients/{alice.pk}/contacts/{contact.pk}/").content.decode()
        assert "Seen" in page and "How did it go?" not in page
        response = client.post(f"/patients/{alice.pk}/contacts/{contact.pk}/", {"status": "dna"})
        assert response.status_code == 403
        contact.refresh_from_db()
        assert contact.status == "attended"

    def test_it_answers_not_found_for_another_patients_contact(
        self, login, sam, alice, riverside, north, episode, programme
    ):
        other = make_patient(riverside, north, "Dana Other", supporter=sam)
        contact = past_contact(episode)
        response = login(sam).get(f"/patients/{other.pk}/contacts/{contact.pk}/")
        assert response.status_code == 404

    @pytest.mark.parametrize("persona", ["priya", "oscar", "tomasz"])
    def test_it_answers_not_found_to_outsiders(self, request, login, alice, episode, persona):
        contact = past_contact(episode)
        client = login(request.getfixturevalue(persona))
        url = f"/patients/{alice.pk}/contacts/{contact.pk}/"
        assert client.get(url).status_code == 404
        assert client.post(url, {"status": "attended", "notes": "x"}).status_code == 404
        contact.refresh_from_db()
        assert contact.status == "scheduled" and contact.notes == ""


class TestMyContacts:
    def test_it_shows_the_patients_upcoming_contacts(self, login, sam, alice, episode):
        contact = book(episode, sam, when=soon(days=3))
        past_contact(episode, days_ago=2)
        page = login(alice).get("/my/contacts/").content.decode()
        assert "Phone" in page and "with Sam Supporter" in page
        assert f'href="/my/contacts/{contact.pk}.ics"' in page
        assert 'href="/my/contacts.ics"' in page

    def test_the_week_links_the_next_contact_to_the_calendar(self, login, sam, alice, episode):
        contact = book(episode, sam, when=soon(days=3))
        page = login(alice).get("/my/").content.decode()
        assert f'href="/my/contacts/{contact.pk}.ics"' in page

    def test_it_gives_a_calendar_file_in_utc_with_stable_uids(self, login, sam, alice, episode):
        first = book(episode, sam, when=soon(days=3, hour=9))
        second = book(episode, sam, when=soon(days=4, hour=15), kind="video")
        services.contact_record(contact=second, status="cancelled", actor=sam.user)
        client = login(alice)
        response = client.get("/my/contacts.ics")
        assert response["Content-Type"].startswith("text/calendar")
        calendar = icalendar.Calendar.from_ical(response.content)
        assert str(calendar["X-WR-TIMEZONE"]) == "Europe/London"
        events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
        uid = f"contact-{first.pk}@127.0.0.1"
        assert events[uid].decoded("DTSTART") == first.scheduled_at
        assert events[uid].decoded("DTSTART").utcoffset() == timedelta(0)
        assert str(events[uid]["SUMMARY"]) == "Phone call with Sam Supporter"
        assert str(events[f"contact-{second.pk}@127.0.0.1"]["STATUS"]) == "CANCELLED"
        again = icalendar.Calendar.from_ical(client.get("/my/contacts.ics").content)
        assert {str(e["UID"]) for e in again.walk("VEVENT")} == set(events)

    def test_it_says_nothing_clinical_in_the_calendar(self, login, sam, alice, episode):
        book(episode, sam)
        body = login(alice).get("/my/contacts.ics").content.decode()
        for word in ("Riverside", "therapy", "depression", "CBT"):
            assert word not in body

    def test_it_gives_one_contact_as_a_file(self, login, sam, alice, episode):
        contact = book(episode, sam)
        response = login(alice).get(f"/my/contacts/{contact.pk}.ics")
        assert f'filename="appointment-{contact.pk}.ics"' in response["Content-Disposition"]
        events = icalendar.Calendar.from_ical(response.content).walk("VEVENT")
        assert [str(e["UID"]) for e in events] == [f"contact-{contact.pk}@127.0.0.1"]

    def test_it_answers_not_found_for_another_patients_contact(self, login, sam, bob, episode):
        contact = book(episode, sam)
        assert login(bob).get(f"/my/contacts/{contact.pk}.ics").status_code == 404

    @pytest.mark.parametrize("persona", ["sam", "oscar", "tomasz"])
    def test_it_is_for_patients(self, request, login, sam, episode, persona):
        contact = book(episode, sam)
        client = login(request.getfixturevalue(persona))
        assert client.get("/my/contacts/").status_code == 404
        assert client.get("/my/contacts.ics").status_code == 404
        assert client.get(f"/my/contacts/{contact.pk}.ics").status_code == 404

    def test_it_runs_a_fixed_number_of_queries(
        self, login, sam, alice, episode, django_assert_num_queries
    ):
        client = login(alice)
        book(episode, sam)
        client.get("/my/contacts/")
        with django_assert_num_queries(12, exact=False) as before:
            client.get("/my/contacts/")
        with django_assert_num_queries(12, exact=False) as calendar:
            client.get("/my/contacts.ics")
        for n in range(6):
            book(episode, sam, when=soon(days=3 + n))
        with django_assert_num_queries(len(before.captured_queries)):
            client.get("/my/contacts/")
        with django_assert_num_queries(len(calendar.captured_queries)):
            client.get("/my/contacts.ics")


class TestContactApi:
    @pytest.mark.parametrize(
        "persona, status",
        [
            ("sam", 200),
            ("nia", 200),
            ("morgan", 200),
            ("ruth", 200),
            ("priya", 404),
            ("oscar", 404),
            ("tomasz", 404),
            ("alice", 403),
        ],
    )
    def test_it_lists_contacts_to_the_care_team(
        self, request, login, sam, alice, episode, persona, status
    ):
        contact = past_contact(episode)
        services.contact_record(
            contact=contact, status="attended", actor=sam.user, notes="N", homework=["H"]
        )
        response = login(request.getfixturevalue(persona)).get(
            f"/api/v1/patients/{alice.pk}/contacts"
        )
        assert response.status_code == status
        if status == 200:
            [item] = response.json()
            assert item["status"] == "attended" and item["notes"] == "N"
            assert [h["text"] for h in item["homework"]] == ["H"]

    def test_it_books_a_contact_once_per_key(self, login, sam, alice, episode):
        client = login(sam)
        payload = {
            "kind": "video",
            "scheduled_at": soon(days=3).isoformat(),
            "duration_minutes": 45,
            "client_key": "retry-me-1",
        }
        url = f"/api/v1/patients/{alice.pk}/contacts"
        first = client.post(url, payload, content_type="application/json")
        assert first.status_code == 201
        again = client.post(url, payload, content_type="application/json")
        assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
        assert Contact.objects.count() == 1

    @pytest.mark.parametrize(
        "scheduled_at, field",
        [
            ((timezone.now() - timedelta(days=1)).isoformat(), "scheduled_at"),
            ("2099-01-01T10:00:00", "scheduled_at"),
            ("next tuesday", "scheduled_at"),
        ],
    )
    def test_it_names_a_bad_time_and_books_nothing(
        self, login, sam, alice, episode, scheduled_at, field
    ):
        response = login(sam).post(
            f"/api/v1/patients/{alice.pk}/contacts",
            {"kind": "phone", "scheduled_at": scheduled_at},
            content_type="application/json",
        )
        assert response.status_code == 422
        assert field in response.json()["error"]["fields"]
        assert not Contact.objects.exists()

    def test_it_records_an_outcome(self, login, sam, alice, episode):
        contact = past_contact(episode)
        body = (
            login(sam)
            .post(
                f"/api/v1/patients/{alice.pk}/contacts/{contact.pk}/outcome",
                {"status": "attended", "notes": "Went well", "homework": ["Walk"]},
                content_type="application/json",
            )
            .json()
        )
        assert body["status"] == "attended" and body["minutes_spent"] == 30
        assert body["recorded_by"] == "Sam Supporter"
        assert [h["text"] for h in body["homework"]] == ["Walk"]

    def test_it_names_an_unknown_outcome(self, login, sam, alice, episode):
        contact = past_contact(episode)
        response = login(sam).post(
            f"/api/v1/patients/{alice.pk}/contacts/{contact.pk}/outcome",
            {"status": "late"},
            content_type="application/json",
        )
        assert response.status_code == 422
        assert "status" in response.json()["error"]["fields"]
        contact.refresh_from_db()
        assert contact.status == "scheduled"

    def test_a_digital_navigator_cannot_book_or_record(self, login, nia, alice, episode):
        contact = past_contact(episode)
        client = login(nia)
        response = client.post(
            f"/api/v1/patients/{alice.pk}/contacts",
            {"kind": "phone", "scheduled_at": soon().isoformat()},
            content_type="application/json",
        )
        assert response.status_code == 403
        response = client.post(
            f"/api/v1/patients/{alice.pk}/contacts/{contact.pk}/outcome",
            {"status": "dna"},
            content_type="application/json",
        )
        assert response.status_code == 403
        assert Contact.objects.count() == 1
        contact.refresh_from_db()
        assert contact.status == "scheduled"

    @pytest.mark.parametrize("persona", ["priya", "oscar", "tomasz"])
    def test_it_answers_not_found_to_outsiders(self, request, login, alice, episode, persona):
        contact = past_contact(episode)
        client = login(request.getfixturevalue(persona))
        response = client.post(
            f"/api/v1/patients/{alice.pk}/contacts",
            {"kind": "phone", "scheduled_at": soon().isoformat()},
            content_type="application/json",
        )
        assert response.status_code == 404
        response = client.post(
            f"/api/v1/patients/{alice.pk}/contacts/{contact.pk}/outcome",
            {"status": "attended"},
            content_type="application/json",
        )
        assert response.status_code == 404
        assert Contact.objects.count() == 1
        contact.refresh_from_db()
        assert contact.status == "scheduled"

    def test_it_gives_the_patient_their_calendar(self, login, sam, alice, episode):
        book(episode, sam)
        response = login(alice).get("/api/v1/me/contacts.ics")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/calendar")
        assert len(icalendar.Calendar.from_ical(response.content).walk("VEVENT")) == 1

    def test_the_calendar_is_for_patients(self, login, sam):
        response = login(sam).get("/api/v1/me/contacts.ics")
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"

    def test_the_week_gives_the_next_contact(self, login, sam, alice, episode):
        contact = book(episode, sam)
        body = login(alice).get("/api/v1/me/week").json()["next_contact"]
        assert body["id"] == contact.pk and body["status"] == "scheduled"
        assert "notes" not in body


@pytest.mark.django_db(transaction=True)
class TestBookingRace:
    def test_two_bookings_of_one_supporter_at_once_make_one_contact(
        self, episode, other_episode, sam
    ):
        if connection.vendor != "postgresql":
            pytest.skip(
                "Racing two connections needs PostgreSQL (set DATABASE_URL); SQLite serialises "
                "every write anyway."
            )
        import threading

        from django.db import connections

        when = soon(days=4, hour=11)
        barrier = threading.Barrier(2)
        outcomes = []

        def attempt(target):
            try:
                barrier.wait()
                book(target, sam, when=when)
                outcomes.append("booked")
            except ValidationError as error:
                outcomes.append(error.message_dict)
            finally:
                connections.close_all()

        threads = [threading.Thread(target=attempt, args=(e,)) for e in (episode, other_episode)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert outcomes.count("booked") == 1
        assert Contact.objects.filter(supporter=sam).count() == 1
