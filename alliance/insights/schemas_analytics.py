"""API schemas of the analytics: the engagement record, trajectories, the alliance, the
service report and the insight settings."""

from datetime import date, datetime

from ninja import Schema


class PatientDayOut(Schema):
    date: date
    active: bool
    sessions: int
    minutes: int
    pages_completed: int
    modules_completed: int
    exercises: int
    checkins: int
    messages_sent: int
    messages_received: int
    contacts_attended: int
    contacts_missed: int


class EngagementOut(Schema):
    patient_id: int
    start: date
    end: date
    days: list[PatientDayOut]  # only days with something in them


class OutcomesOut(Schema):
    ended: int
    finished: int
    paired: int
    at_caseness: int
    recovered: int
    reliably_improved: int
    reliably_deteriorated: int
    reliably_recovered: int
    dropped_out: int
    began_treatment: int
    recovery_rate: float | None
    reliable_improvement_rate: float | None
    reliable_deterioration_rate: float | None
    reliable_recovery_rate: float | None
    drop_out_rate: float | None


class TrajectoryClassOut(Schema):
    label: str
    name: str
    episodes: int
    mean_curve: list[float]
    outcomes: OutcomesOut


class TrajectoriesOut(Schema):
    classes: list[TrajectoryClassOut]
    too_early: int
    not_classified: int


class AllianceRatingOut(Schema):
    response_id: int
    submitted_at: datetime
    total: int
    mean: float
    goal: int | None
    task: int | None
    bond: int | None


class RuptureOut(Schema):
    response_id: int  # the rating at which the score dropped
    submitted_at: datetime
    before_mean: float
    after_mean: float
    drop: float
    sigma: float
    length: int
    repaired: bool | None


class RuptureParametersOut(Schema):
    k: float
    sample_sd: float
    repair_window: int
    min_sessions: int


class AllianceOut(Schema):
    patient_id: int
    episode_id: int | None
    ratings: list[AllianceRatingOut]
    ruptures: list[RuptureOut]
    change: float | None
    parameters: RuptureParametersOut


class ReportFigureOut(Schema):
    key: str
    label: str
    value: float | None
    numerator: int | None
    denominator: int | None
    unit: str


class ReportFilterOut(Schema):
    start: date
    end: date
    team_id: int | None
    programme: str
    care_model: str


class ReportMonthOut(OutcomesOut):
    month: str


class ServiceReportOut(Schema):
    filter: ReportFilterOut
    figures: list[ReportFigureOut]
    by_month: list[ReportMonthOut]


class InsightSettingsIn(Schema):
    """Only the settings given are changed."""

    inactivity_days: int | None = None
    rupture_k: float | None = None
    rupture_sample_sd: float | None = None
    rupture_repair_window: int | None = None
    rupture_min_sessions: int | None = None
    missed_in_a_row: int | None = None
    review_overdue_days: int | None = None
    deterioration_alerts: bool | None = None


class InsightSettingsOut(Schema):
    inactivity_days: int
    rupture_k: float
    rupture_sample_sd: float
    rupture_repair_window: int
    rupture_min_sessions: int
    missed_in_a_row: int
    review_overdue_days: int
    deterioration_alerts: bool
