"""The therapeutic alliance over an episode: WAI-SR ratings, subscales and ruptures.

Reads the stored WAI-SR scores (total 12–60, mean item score 1–5, and the goal, task and
bond subscale sums 4–20) of an episode and finds ruptures with the platform rule of
reference §8 (``alliance.measures.outcomes.find_ruptures``) on the sessional mean, with the
service's own parameters (``InsightSettings``). ``alliance_summary`` runs a fixed number of
queries (three at most) whatever the number of ratings.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from alliance.accounts.models import Patient, User
from alliance.care.models import Episode, EpisodeStatus
from alliance.insights.models import Alert, AlertKind, AlertState, InsightSettings
from alliance.insights.selectors import settings_for_service
from alliance.lib import charts
from alliance.measures.models import Response
from alliance.measures.outcomes import Rupture, find_ruptures

WAI_SR = "wai-sr"
SUBSCALES = ("goal", "task", "bond")
SUBSCALE_ITEMS = 4  # items per subscale: a subscale mean is its sum / 4
ITEMS = 12


@dataclass(frozen=True)
class RuptureParameters:
    sample_sd: float
    k: float
    repair_window: int
    min_sessions: int

    @classmethod
    def of(cls, settings: InsightSettings) -> "RuptureParameters":
        return cls(
            sample_sd=settings.rupture_sample_sd,
            k=settings.rupture_k,
            repair_window=settings.rupture_repair_window,
            min_sessions=settings.rupture_min_sessions,
        )


@dataclass(frozen=True)
class AllianceRating:
    response_id: int
    submitted_at: datetime
    total: int
    mean: float
    subscales: dict[str, int]  # sums, 4–20

    def subscale_mean(self, name: str) -> float | None:
        value = self.subscales.get(name)
        return round(value / SUBSCALE_ITEMS, 2) if value is not None else None

    @property
    def goal(self) -> int | None:
        return self.subscales.get("goal")

    @property
    def task(self) -> int | None:
        return self.subscales.get("task")

    @property
    def bond(self) -> int | None:
        return self.subscales.get("bond")

    @property
    def means(self) -> dict[str, float | None]:
        """The subscale means (1–5), for pages."""
        return {name: self.subscale_mean(name) for name in SUBSCALES}


@dataclass(frozen=True)
class RuptureFound:
    """A rupture, placed on the ratings: the one before the drop and the one at it."""

    rupture: Rupture
    before: AllianceRating
    at: AllianceRating

    @property
    def drop(self) -> float:
        return round(self.rupture.drop, 2)

    @property
    def repaired(self) -> bool | None:
        return self.rupture.repaired


@dataclass(frozen=True)
class AllianceSummary:
    episode: Episode | None
    ratings: list[AllianceRating]
    ruptures: list[RuptureFound]
    parameters: RuptureParameters

    @property
    def first(self) -> AllianceRating | None:
        return self.ratings[0] if self.ratings else None

    @property
    def latest(self) -> AllianceRating | None:
        return self.ratings[-1] if self.ratings else None

    @property
    def change(self) -> float | None:
        """Latest minus first mean item score; None with fewer than two ratings."""
        if len(self.ratings) < 2:
            return None
        return round(self.ratings[-1].mean - self.ratings[0].mean, 2)

    @property
    def threshold(self) -> float:
        """The smallest drop in the mean that counts as a rupture, before the patient's own
        SD counts (k × the reference SD)."""
        return round(self.parameters.k * self.parameters.sample_sd, 2)


def ruptures_in(ratings: list[AllianceRating], parameters: RuptureParameters) -> list[RuptureFound]:
    """The ruptures of a series of ratings in time order (pure)."""
    found = find_ruptures(
        [rating.mean for rating in ratings],
        sample_sd=parameters.sample_sd,
        k=parameters.k,
        repair_window=parameters.repair_window,
        min_sessions=parameters.min_sessions,
    )
    return [RuptureFound(r, ratings[r.index - 1], ratings[r.index]) for r in found]


def rating_of(response: Response) -> AllianceRating:
    mean = response.mean if response.mean is not None else response.total / ITEMS
    return AllianceRating(
        response_id=response.pk,
        submitted_at=response.submitted_at,
        total=response.total,
        mean=round(float(mean), 3),
        subscales={k: v for k, v in (response.subscales or {}).items() if k in SUBSCALES},
    )


def episode_of(patient_or_episode: Patient | Episode) -> Episode | None:
    """The episode itself, or the patient's active episode, else their latest."""
    if isinstance(patient_or_episode, Episode):
        return patient_or_episode
    return (
        Episode.objects.filter(patient=patient_or_episode)
        .select_related("patient")
        # "active" sorts before "ended": the active episode first, then the latest.
        .order_by("status", "-started_at")
        .first()
    )


def alliance_summary(
    patient_or_episode: Patient | Episode, *, settings: InsightSettings | None = None
) -> AllianceSummary:
    """The WAI-SR ratings of an episode (or of the patient's current episode), their
    subscales and ruptures. Pass ``settings`` to save its query when you have them."""
    episode = episode_of(patient_or_episode)
    if isinstance(patient_or_episode, Patient):
        service_id = patient_or_episode.service_id
    else:
        service_id = None
    if episode is None:
        settings = settings or settings_for_service(service_id)
        return AllianceSummary(None, [], [], RuptureParameters.of(settings))
    if settings is None:
        if service_id is None:
            service_id = Patient.objects.filter(pk=episode.patient_id).values_list(
                "service_id", flat=True
            )[0]
        settings = settings_for_service(service_id)
    responses = Response.objects.filter(
        episode=episode, instrument=WAI_SR, total__isnull=False
    ).order_by("submitted_at", "pk")
    ratings = [rating_of(response) for response in responses]
    parameters = RuptureParameters.of(settings)
    return AllianceSummary(episode, ratings, ruptures_in(ratings, parameters), parameters)


def alliance_chart(summary: AllianceSummary, *, id_prefix: str = "alliance") -> SafeString:
    """The WAI-SR mean item score and the goal, task and bond means over the episode (1–5),
    with each rupture marked on the rating where the score dropped."""
    rupture_at = {found.at.response_id for found in summary.ruptures}
    total = charts.Series(
        _("WAI-SR mean"),
        [
            charts.Point(
                rating.submitted_at,
                rating.mean,
                marker="rupture" if rating.response_id in rupture_at else "",
            )
            for rating in summary.ratings
        ],
    )
    names = {"goal": _("Goal"), "task": _("Task"), "bond": _("Bond")}
    subscales = [
        charts.Series(
            names[name],
            [charts.Point(r.submitted_at, r.subscale_mean(name)) for r in summary.ratings],
        )
        for name in SUBSCALES
    ]
    return charts.line_chart(
        [total, *subscales],
        title=_("Working alliance (WAI-SR, mean item score 1–5)"),
        y_min=1,
        y_max=5,
        y_label=_("mean"),
        lower_is_better=False,
        id_prefix=id_prefix,
    )


def ratings_by_episode(episode_ids: list[int]) -> dict[int, list[AllianceRating]]:
    """The WAI-SR ratings of several episodes in time order: one query."""
    found: dict[int, list[AllianceRating]] = {}
    responses = Response.objects.filter(
        episode_id__in=episode_ids, instrument=WAI_SR, total__isnull=False
    ).order_by("episode_id", "submitted_at", "pk")
    fields = ("pk", "episode_id", "submitted_at", "total", "mean", "subscales")
    for response in responses.only(*fields):
        found.setdefault(response.episode_id, []).append(rating_of(response))
    return found


# --- Supervision: the patients whose alliance dropped -------------------------------------


@dataclass(frozen=True)
class AllianceDrop:
    patient: Patient
    episode: Episode
    found: RuptureFound
    ratings: int
    latest: AllianceRating
    alert_state: str | None  # the state of the rupture's alert, if one was raised

    @property
    def alert_state_label(self) -> str:
        return str(dict(AlertState.choices).get(self.alert_state, "")) if self.alert_state else ""


def alliance_drops(patients: QuerySet[Patient], user: User) -> list[AllianceDrop]:
    """Every rupture in the active episodes of ``patients``, unrepaired first, then the
    most recent: four queries whatever the number of patients and ratings."""
    profile = user.staff_profile_or_none
    service_id = profile.service_id if profile else None
    parameters = RuptureParameters.of(settings_for_service(service_id))
    episodes = {
        e.pk: e
        for e in Episode.objects.filter(
            patient__in=patients, status=EpisodeStatus.ACTIVE
        ).select_related("patient__user", "patient__team", "patient__supporter__user")
    }
    by_episode = ratings_by_episode(list(episodes))
    drops = []
    for episode_id, ratings in by_episode.items():
        episode = episodes[episode_id]
        for found in ruptures_in(ratings, parameters):
            drops.append((episode, found, ratings))
    causes = [f"rupture:response:{found.at.response_id}" for _e, found, _r in drops]
    states = dict(
        Alert.objects.filter(kind=AlertKind.RUPTURE, cause__in=causes)
        .order_by("raised_at")
        .values_list("cause", "state")
    )
    rows = [
        AllianceDrop(
            patient=episode.patient,
            episode=episode,
            found=found,
            ratings=len(ratings),
            latest=ratings[-1],
            alert_state=states.get(f"rupture:response:{found.at.response_id}"),
        )
        for episode, found, ratings in drops
    ]
    rows.sort(key=lambda row: (row.found.repaired is True, -row.found.at.submitted_at.timestamp()))
    return rows
