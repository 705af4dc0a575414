"""The public status page's data (/etat): is each kind of source and each followed town hall collected?

Source health is scrapers.models.SourceQuerySet's definition (the one the admin, /healthz and /metrics use).
Only states and times leave this module: no source name, URL, token or error message.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case, Exists, IntegerField, Max, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from scrapers.models import MeetingPoint, ScrapeRun, Source, SourceHealth
from slots.models import TownHall

# Kinds of source as citizens may read them (scrapers/connectors/<kind>/).
KIND_LABELS = {
    "ants": _("Éditeurs de rendez-vous reliés à l’ANTS (API éditeurs)"),
    "rendezvousonline": _("Citopia (rendezvousonline.fr)"),
    "synbird": _("Synbird"),
    "clicrdv": _("ClicRDV"),
    "ics": _("Calendriers iCalendar publiés par les mairies"),
    "csv": _("Fichiers CSV publiés par les mairies"),
    "html": _("Pages de réservation des mairies"),
}
_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
UP, STALE, FAILING, PAUSED, PARTIAL = "up", "stale", "failing", "paused", "partial"
# Failing town halls first: the page is read to find what is wrong.
_RANK = {FAILING: 0, STALE: 1, PAUSED: 2, UP: 3}


@dataclass
class KindStatus:
    kind: str
    label: str
    sources: int = 0
    failing: int = 0
    last_success_at: dt.datetime | None = None
    failing_since: dt.datetime | None = None

    @property
    def state(self) -> str:
        if self.failing == 0:
            return UP
        return FAILING if self.failing == self.sources else PARTIAL


def _first_failure_after(moment: OuterRef | Coalesce, **source_filter: object) -> Subquery:
    """The start of the first run that did not succeed after `moment`: since when it is failing."""
    runs = (
        ScrapeRun.objects.filter(started_at__gt=moment, **source_filter)
        .exclude(status__in=[ScrapeRun.Status.SUCCESS, ScrapeRun.Status.RUNNING])
        .order_by("started_at")
        .values("started_at")[:1]
    )
    return Subquery(runs)


def kinds_status(*, now: dt.datetime | None = None) -> list[KindStatus]:
    """Each kind of active source: how many, how many failing, last success, and failing since when."""
    sources = (
        Source.objects.active()
        .with_health(now or timezone.now())
        .annotate(
            failing_since=_first_failure_after(
                Coalesce(OuterRef("last_success_at"), Value(_EPOCH)), source_id=OuterRef("pk")
            )
        )
        .values_list("kind", "computed_health", "last_success_at", "failing_since")
    )
    kinds: dict[str, KindStatus] = {}
    for kind, health, last_success_at, failing_since in sources:
        status = kinds.setdefault(kind, KindStatus(kind=kind, label=str(KIND_LABELS.get(kind, kind))))
        status.sources += 1
        if last_success_at and (status.last_success_at is None or last_success_at > status.last_success_at):
            status.last_success_at = last_success_at
        if health in (SourceHealth.ERROR, SourceHealth.FAILING):
            status.failing += 1
            if failing_since and (status.failing_since is None or failing_since < status.failing_since):
                status.failing_since = failing_since
    return sorted(kinds.values(), key=lambda status: status.label)


def last_ingestion() -> dt.datetime | None:
    return Source.objects.aggregate(moment=Max("last_success_at"))["moment"]


def town_halls_status(*, now: dt.datetime | None = None) -> QuerySet[TownHall]:
    """Followed town halls annotated with `collection_state` (up, stale, failing, paused) and
    `failing_since`, failing ones first."""
    now = now or timezone.now()
    points = MeetingPoint.objects.filter(town_hall=OuterRef("pk"), source__enabled=True, source__paused=False)
    state = Case(
        When(~Q(Exists(points)), then=Value(PAUSED)),
        When(~Q(Exists(points.filter(source__consecutive_failures=0))), then=Value(FAILING)),
        When(stale_at__lte=now, then=Value(STALE)),
        When(checked_at__isnull=True, then=Value(STALE)),
        default=Value(UP),
    )
    rank = Case(
        *(When(collection_state=key, then=Value(n)) for key, n in _RANK.items()), output_field=IntegerField()
    )
    return (
        TownHall.objects.active()
        .filter(online_booking=True)
        .select_related("commune")
        .annotate(
            collection_state=state,
            failing_since=_first_failure_after(
                Coalesce(OuterRef("checked_at"), Value(_EPOCH)),
                source__meeting_points__town_hall=OuterRef("pk"),
            ),
        )
        .annotate(rank=rank)
        .order_by("rank", "name", "pk")
    )
