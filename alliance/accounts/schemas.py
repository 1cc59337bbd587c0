"""API schemas of the accounts app: ``ThingIn`` for input, ``ThingOut`` for output."""

from ninja import Schema


class TeamOut(Schema):
    id: int
    name: str


class MeOut(Schema):
    id: int
    email: str
    display_name: str
    time_zone: str
    role: str
    service: str | None
    patient_id: int | None


class SupporterOut(Schema):
    id: int
    name: str


class PatientOut(Schema):
    id: int
    name: str
    email: str
    team: TeamOut
    supporter: SupporterOut | None


class SupporterIn(Schema):
    supporter_id: int | None
