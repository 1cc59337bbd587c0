"""The audit chain: appending, verifying, tampering caught, and the reads and changes that
write to it."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.http import Http404
from django.test import RequestFactory

from alliance.accounts import policy, services
from alliance.audit.models import AuditAction, AuditEntry, AuditHead
from alliance.audit.services import (
    GENESIS_HASH,
    ChainProblem,
    audit_record,
    audit_verify,
    entry_hash,
    hashed_fields,
)
from alliance.conftest import make_staff


@pytest.fixture
def chain(alice, sam):
    """Three entries: sam reads, changes and reads again alice's record."""
    return [
        audit_record(actor=sam.user, patient=alice, action=AuditAction.READ, what="record"),
        audit_record(
            actor=sam.user,
            patient=alice,
            action=AuditAction.UPDATE,
            what="named supporter",
            detail={"old": None, "new": "sam@riverside.example"},
        ),
        audit_record(actor=sam.user, patient=alice, action=AuditAction.READ, what="record"),
    ]


def raw_sql(sql, params=()):
    """Bypass the append-only manager, as someone with database access could."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def run_verify():
    """`alliance audit verify`: (stdout, stderr, the CommandError or None)."""
    out, err = StringIO(), StringIO()
    try:
        call_command("audit", "verify", stdout=out, stderr=err)
    except CommandError as error:
        return out.getvalue(), err.getvalue(), error
    return out.getvalue(), err.getvalue(), None


class TestAuditRecord:
    def test_it_writes_consecutive_sequence_numbers_and_linked_hashes(self, chain):
        entries = list(AuditEntry.objects.order_by("seq"))
        assert [e.seq for e in entries] == [1, 2, 3]
        assert entries[0].prev_hash == GENESIS_HASH
        assert entries[1].prev_hash == entries[0].hash
        assert entries[2].prev_hash == entries[1].hash
        assert len({e.hash for e in entries}) == 3

    def test_it_hashes_what_was_stored(self, chain):
        for entry in AuditEntry.objects.all():
            assert entry.hash == entry_hash(hashed_fields(entry))

    def test_it_moves_the_head_to_the_last_entry(self, chain):
        head = AuditHead.objects.get()
        assert (head.last_seq, head.last_hash) == (3, chain[-1].hash)

    def test_it_keeps_an_ipv6_address_verifiable(self, alice, sam):
        # Regression: the hash is taken over REMOTE_ADDR as given; the database stores the
        # normalised address (GenericIPAddressField), so the stored entry no longer
        # matches its hash and `audit verify` calls an honest entry "changed".
        request = RequestFactory().get("/", REMOTE_ADDR="2001:DB8:0:0:0:0:0:1")
        audit_record(
            actor=sam.user, patient=alice, action=AuditAction.READ, what="record", request=request
        )
        assert audit_verify() == []


class TestAppendOnly:
    def test_it_refuses_a_queryset_update(self, chain):
        with pytest.raises(PermissionError, match="append-only"):
            AuditEntry.objects.filter(seq=2).update(what="nothing to see")
        assert AuditEntry.objects.get(seq=2).what == "named supporter"

    def test_it_refuses_a_queryset_delete(self, chain):
        with pytest.raises(PermissionError, match="append-only"):
            AuditEntry.objects.all().delete()
        assert AuditEntry.objects.count() == 3

    def test_it_refuses_deleting_one_entry(self, chain):
        # Regression: Model.delete() goes through the deletion collector, not the queryset's
        # delete(), so one entry can still be deleted through the ORM.
        entry = AuditEntry.objects.get(seq=2)
        with pytest.raises(PermissionError):
            entry.delete()
        assert AuditEntry.objects.count() == 3

    def test_it_refuses_saving_a_changed_entry(self, chain):
        # Regression: Model.save() of an existing row updates through QuerySet._update(),
        # which the append-only queryset does not guard.
        entry = AuditEntry.objects.get(seq=2)
        entry.what = "nothing to see"
        with pytest.raises(PermissionError):
            entry.save()
        assert AuditEntry.objects.get(seq=2).what == "named supporter"


class TestAuditVerifyCommand:
    def test_it_passes_an_intact_chain(self, chain):
        out, err, error = run_verify()
        assert error is None
        assert "The audit chain is intact: 3 entries verified." in out
        assert err == ""

    def test_it_passes_an_empty_log(self, db):
        out, _, error = run_verify()
        assert error is None
        assert "0 entries verified" in out

    def test_it_names_an_entry_changed_in_the_database(self, chain):
        raw_sql("UPDATE audit_auditentry SET what = %s WHERE seq = %s", ["nothing", 2])

        assert audit_verify() == [ChainProblem(2, "was changed after it was written")]
        _, err, error = run_verify()
        assert "Entry 2 was changed after it was written." in err
        assert "broken in 1 place(s)" in str(error)

    def test_it_names_an_entry_whose_detail_was_changed(self, chain):
        raw_sql(
            "UPDATE audit_auditentry SET detail = %s WHERE seq = %s",
            ['{"old": null, "new": "someone@else.example"}', 2],
        )
        assert audit_verify() == [ChainProblem(2, "was changed after it was written")]

    def test_it_names_an_entry_deleted_from_the_middle(self, chain):
        raw_sql("DELETE FROM audit_auditentry WHERE seq = %s", [2])

        problems = audit_verify()
        assert [p.seq for p in problems] == [2, 3]
        assert "missing" in problems[0].reason
        assert problems[1].reason == "does not follow the entry before it"
        _, err, error = run_verify()
        assert error is not None
        assert "Entry 2 " in err and "missing" in err
        assert "Entry 3 does not follow the entry before it." in err

    def test_it_names_a_deleted_last_entry(self, chain):
        raw_sql("DELETE FROM audit_auditentry WHERE seq = %s", [3])

        problems = audit_verify()
        assert len(problems) == 1
        assert problems[0].seq == 3
        assert "missing" in problems[0].reason
        _, err, error = run_verify()
        assert error is not None
        assert "Entry 3 " in err and "missing" in err

    def test_it_names_the_next_entry_when_a_forger_recomputes_a_hash(self, chain):
        forged = AuditEntry.objects.get(seq=2)
        forged.what = "nothing to see"
        forged_hash = entry_hash(hashed_fields(forged))
        raw_sql(
            "UPDATE audit_auditentry SET what = %s, hash = %s WHERE seq = %s",
            [forged.what, forged_hash, 2],
        )

        assert audit_verify() == [ChainProblem(3, "does not follow the entry before it")]
        _, err, error = run_verify()
        assert "Entry 3 does not follow the entry before it." in err
        assert error is not None

    def test_it_reports_a_lost_head_row(self, chain):
        # Regression: with the head row gone, a lost tail goes unnoticed, and the next append
        # starts again at seq 1 and fails on the unique seq; verify should say so.
        raw_sql("DELETE FROM audit_audithead")
        raw_sql("DELETE FROM audit_auditentry WHERE seq = %s", [3])
        assert audit_verify() != []

    def test_it_exits_non_zero_from_the_command_line(self, chain):
        raw_sql("UPDATE audit_auditentry SET what = %s WHERE seq = %s", ["nothing", 1])
        with pytest.raises(CommandError, match="broken in 1 place"):
            call_command("audit", "verify")


class TestAuditedReads:
    def test_it_records_a_staff_read_with_actor_role_patient_and_address(self, alice, sam):
        request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.7")
        policy.access_patient(sam.user, alice.pk, what="patient record", request=request)

        entry = AuditEntry.objects.get()
        assert entry.action == AuditAction.READ
        assert entry.actor == sam.user
        assert entry.actor_email == "sam@riverside.example"
        assert entry.actor_role == "supporter"
        assert entry.patient == alice
        assert entry.what == "patient record"
        assert entry.ip_address == "192.0.2.7"

    def test_it_records_nothing_when_a_patient_reads_their_own_record(self, alice):
        policy.access_patient(alice.user, alice.pk, what="patient record")
        assert not AuditEntry.objects.exists()

    def test_it_records_nothing_for_a_refused_read(self, bob, sam):
        with pytest.raises(Http404):
            policy.access_patient(sam.user, bob.pk, what="patient record")
        assert not AuditEntry.objects.exists()

    def test_it_records_a_read_of_the_patient_page(self, login, alice, sam):
        response = login(sam).get(f"/patients/{alice.pk}/")

        assert response.status_code == 200
        entry = AuditEntry.objects.get()
        assert (entry.actor, entry.patient, entry.action) == (sam.user, alice, AuditAction.READ)
        assert entry.ip_address == "127.0.0.1"
        assert audit_verify() == []


class TestAuditedChanges:
    def test_it_records_the_old_and_new_supporter(self, riverside, north, alice, sam, morgan):
        sasha = make_staff(riverside, "supporter", "Sasha Second", [north])

        services.patient_assign_supporter(actor=morgan.user, patient=alice, supporter=sasha)

        entry = AuditEntry.objects.get()
        assert entry.action == AuditAction.UPDATE
        assert (entry.actor, entry.actor_role, entry.patient) == (
            morgan.user,
            "supervisor",
            alice,
        )
        assert entry.what == "named supporter"
        assert entry.detail == {"old": "sam@riverside.example", "new": "sasha@riverside.example"}
        assert audit_verify() == []

    def test_it_records_removing_the_supporter(self, alice, morgan):
        services.patient_assign_supporter(actor=morgan.user, patient=alice, supporter=None)
        assert AuditEntry.objects.get().detail == {"old": "sam@riverside.example", "new": None}
