"""Writing and verifying the audit chain. The only code that appends to the audit log."""

import hashlib
import json
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from alliance.audit.models import AuditEntry, AuditHead

GENESIS_HASH = "0" * 64


def role_of(user) -> str:
    if user is None:
        return "system"
    profile = user.staff_profile_or_none
    if profile is not None:
        return profile.role
    return "patient" if user.patient_or_none is not None else "user"


def entry_hash(fields: dict) -> str:
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def hashed_fields(entry: AuditEntry) -> dict:
    return {
        "seq": entry.seq,
        "at": entry.at.isoformat(),
        "actor_id": entry.actor_id,
        "actor_email": entry.actor_email,
        "actor_role": entry.actor_role,
        "patient_id": entry.patient_id,
        "action": entry.action,
        "what": entry.what,
        "detail": entry.detail,
        "ip_address": entry.ip_address,
        "prev_hash": entry.prev_hash,
    }


def client_ip(request) -> str | None:
    """The address as the database will store it (IPv6 normalised), so the hash matches."""
    address = request.META.get("REMOTE_ADDR") if request is not None else None
    return AuditEntry._meta.get_field("ip_address").get_prep_value(address or None)


def audit_record(*, actor, patient, action: str, what: str, detail=None, request=None):
    """Append one entry to the chain, inside the caller's transaction if there is one."""
    with transaction.atomic():
        head, _ = AuditHead.objects.select_for_update().get_or_create(
            pk=1, defaults={"last_seq": 0, "last_hash": GENESIS_HASH}
        )
        entry = AuditEntry(
            seq=head.last_seq + 1,
            at=timezone.now(),
            actor=actor,
            actor_email=actor.email if actor else "",
            actor_role=role_of(actor),
            patient=patient,
            action=action,
            what=what,
            detail=detail or {},
            ip_address=client_ip(request),
            prev_hash=head.last_hash,
        )
        entry.hash = entry_hash(hashed_fields(entry))
        entry.save(force_insert=True)
        AuditHead.objects.filter(pk=1).update(last_seq=entry.seq, last_hash=entry.hash)
    return entry


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    reason: str


def audit_verify() -> list[ChainProblem]:
    """Every break in the chain: a changed entry, a missing one, or a lost tail."""
    problems: list[ChainProblem] = []
    expected_prev, expected_seq = GENESIS_HASH, 1
    for entry in AuditEntry.objects.order_by("seq").iterator(chunk_size=2000):
        if entry.seq != expected_seq:
            problems.append(ChainProblem(expected_seq, f"to {entry.seq - 1} are missing"))
        if entry.prev_hash != expected_prev:
            problems.append(ChainProblem(entry.seq, "does not follow the entry before it"))
        if entry_hash(hashed_fields(entry)) != entry.hash:
            problems.append(ChainProblem(entry.seq, "was changed after it was written"))
        expected_prev, expected_seq = entry.hash, entry.seq + 1
    head = AuditHead.objects.filter(pk=1).first()
    last_seq = expected_seq - 1
    if head is None and last_seq > 0:
        problems.append(
            ChainProblem(last_seq + 1, "and any after it cannot be checked: the chain head is lost")
        )
    elif head is not None and (head.last_seq != last_seq or head.last_hash != expected_prev):
        problems.append(ChainProblem(last_seq + 1, f"to {head.last_seq} are missing"))
    return problems
