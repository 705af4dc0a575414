"""Booking sources, the meeting points they manage, and the record of every scrape run."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Coalesce
from django.db.models.lookups import LessThan
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from slots.horizon import DEFAULT_HORIZON_DAYS, MAX_HORIZON_DAYS
from slots.models import TownHall

# Upper bounds of a source's intervals, for the admin form and the sources file (larger ones would overflow
# the dates and the integer arithmetic computed from them).
INTERVAL_MINUTES_MAX = 7 * 24 * 60
DISCOVERY_INTERVAL_HOURS_MAX = 24 * 30


class SourceHealth(models.TextChoices):
    OK = "ok", _("OK")
    STALE = "stale", _("Données anciennes")
    ERROR = "error", _("En erreur")
    FAILING = "failing", _("En échec")
    PAUSED = "paused", _("En pause ou désactivée")


class _PlusMinutes(models.Func):
    """A datetime plus a whole number of minutes, computed by the database.

    Django has no portable "datetime + integer × interval"; this is the SQL of PostgreSQL (and standard SQL)
    and of SQLite, the two databases the project runs on.
    """

    arity = 2
    output_field = models.DateTimeField()

    def as_sql(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, list[Any]]:
        (moment, moment_params), (minutes, minutes_params) = self._compiled(compiler)
        return f"({moment} + ({minutes}) * INTERVAL '1 minute')", [*moment_params, *minutes_params]

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> tuple[str, list[Any]]:
        # Django stores SQLite datetimes as 'YYYY-MM-DD HH:MM:SS[.ffffff]' text in UTC, as datetime() writes.
        (moment, moment_params), (minutes, minutes_params) = self._compiled(compiler)
        return f"datetime({moment}, ({minutes}) || ' minutes')", [*moment_params, *minutes_params]

    def _compiled(self, compiler: Any) -> list[tuple[str, list[Any]]]:
        return [
            (sql, list(params))
            for sql, params in (compiler.compile(e) for e in self.get_source_expressions())
        ]


def _active_q() -> models.Q:
    return models.Q(enabled=True, paused=False)


def _paused_q() -> models.Q:
    return models.Q(enabled=False) | models.Q(paused=True)


def _failing_q() -> models.Q:
    # A source that never succeeded has no good data to keep showing: its first failure is already failing.
    never_succeeded = models.Q(consecutive_failures__gte=1, last_success_at__isnull=True)
    return _active_q() & (
        models.Q(consecutive_failures__gte=settings.HEALTH_SOURCE_FAILURES) | never_succeeded
    )


def _error_q() -> models.Q:
    return _active_q() & models.Q(consecutive_failures__gte=1) & ~_failing_q()


def _stale_deadline() -> _PlusMinutes:
    """When an active source without a success becomes stale: its last success (or its creation, if it
    never succeeded) plus HEALTH_SOURCE_STALE_INTERVALS of its intervals."""
    return _PlusMinutes(
        Coalesce("last_success_at", "created_at"),
        models.F("interval_minutes") * settings.HEALTH_SOURCE_STALE_INTERVALS,
    )


def _stale_q(now: dt.datetime) -> models.Q:
    last_run_succeeded = models.Q(consecutive_failures=0)
    return _active_q() & last_run_succeeded & models.Q(LessThan(_stale_deadline(), models.Value(now)))


class SourceQuerySet(models.QuerySet["Source"]):
    """The one definition of a source's health, used by the admin, the ops dashboard, /healthz and /metrics.

    - paused: disabled (enabled=False) or paused by an operator; never failing nor stale.
    - failing: active, and HEALTH_SOURCE_FAILURES failed runs in a row or more (the circuit breaker only
      slows a source down from the third), or a failed run when it never succeeded.
    - error: active, its last run failed, not failing yet: never "ok", though the last good data is kept.
    - stale: active, its last run (if any) succeeded, and no success for HEALTH_SOURCE_STALE_INTERVALS of
      its intervals (counted from its creation if it never succeeded).
    - ok: every other source: active, not run yet or last run succeeded, recently enough.
    """

    def due(self, now: dt.datetime | None = None) -> SourceQuerySet:
        now = now or timezone.now()
        return self.filter(enabled=True, paused=False).filter(
            models.Q(next_run_at__isnull=True) | models.Q(next_run_at__lte=now)
        )

    def active(self) -> SourceQuerySet:
        return self.filter(_active_q())

    def paused(self) -> SourceQuerySet:
        return self.filter(_paused_q())

    def failing(self) -> SourceQuerySet:
        return self.filter(_failing_q())

    def in_error(self) -> SourceQuerySet:
        return self.filter(_error_q())

    def stale(self, now: dt.datetime | None = None) -> SourceQuerySet:
        return self.filter(_stale_q(now or timezone.now()))

    def healthy(self, now: dt.datetime | None = None) -> SourceQuerySet:
        return (
            self.active().exclude(_failing_q()).exclude(_error_q()).exclude(_stale_q(now or timezone.now()))
        )

    def with_health(self, now: dt.datetime | None = None) -> SourceQuerySet:
        """Annotate `computed_health` ("ok", "stale", "error", "failing" or "paused"), which Source.health
        returns."""
        return self.annotate(
            computed_health=models.Case(
                models.When(_paused_q(), then=models.Value(SourceHealth.PAUSED)),
                models.When(_failing_q(), then=models.Value(SourceHealth.FAILING)),
                models.When(_error_q(), then=models.Value(SourceHealth.ERROR)),
                models.When(_stale_q(now or timezone.now()), then=models.Value(SourceHealth.STALE)),
                default=models.Value(SourceHealth.OK),
                output_field=models.CharField(),
            )
        )

    def in_health(self, health: str, now: dt.datetime | None = None) -> SourceQuerySet:
        """Sources in one health state; an unknown state selects nothing."""
        if health == SourceHealth.OK:
            return self.healthy(now)
        if health == SourceHealth.STALE:
            return self.stale(now)
        if health == SourceHealth.ERROR:
            return self.in_error()
        if health == SourceHealth.FAILING:
            return self.failing()
        if health == SourceHealth.PAUSED:
            return self.paused()
        return self.none()

    def with_counts(self, now: dt.datetime | None = None) -> SourceQuerySet:
        """Annotate `town_halls_total` (distinct town halls of its meeting points) and `slots_total`
        (the upcoming slots it offers), in subqueries: one query however many sources."""
        from slots.models import Slot

        town_halls = (
            MeetingPoint.objects.filter(source_id=models.OuterRef("pk"))
            .order_by()
            .values(n=_Count("town_hall_id", template="COUNT(DISTINCT %(expressions)s)"))
        )
        slots = (
            Slot.objects.upcoming(now)
            .filter(source_id=models.OuterRef("pk"))
            .order_by()
            .values(n=_Count("pk"))
        )
        return self.annotate(
            town_halls_total=Coalesce(models.Subquery(town_halls, output_field=models.IntegerField()), 0),
            slots_total=Coalesce(models.Subquery(slots, output_field=models.IntegerField()), 0),
        )

    def with_last_runs(self, count: int = 5) -> SourceQuerySet:
        """Annotate `run_<n>_status` and `run_<n>_at` for the last `count` runs (n = 1 is the latest).

        Correlated subqueries each read a few rows of the (source, -started_at) index, whereas a window
        over the runs table would read every run kept (30 days of them).
        """
        annotations: dict[str, models.Subquery] = {}
        for n in range(1, count + 1):
            runs = ScrapeRun.objects.filter(source_id=models.OuterRef("pk")).order_by("-started_at", "-pk")
            annotations[f"run_{n}_status"] = models.Subquery(runs.values("status")[n - 1 : n])
            annotations[f"run_{n}_at"] = models.Subquery(runs.values("started_at")[n - 1 : n])
        return self.annotate(**annotations)


class _Count(models.Func):
    function = "COUNT"
    output_field = models.IntegerField()


class Source(models.Model):
    """Somewhere slots come from: a booking editor's API, a feed, a file or a page."""

    name = models.CharField(_("nom"), max_length=200, unique=True)
    kind = models.CharField(
        _("type"), max_length=30, help_text=_("Le connecteur qui lit cette source (scrapers/connectors/).")
    )
    base_url = models.URLField(_("URL de base"), max_length=1000)
    auth_header = models.CharField(
        _("en-tête d’authentification"),
        max_length=100,
        blank=True,
        default="",
        help_text=_("L’en-tête HTTP qui porte le jeton ; vide : l’en-tête standard du type, s’il en a un."),
    )
    token = models.CharField(
        _("jeton"), max_length=500, blank=True, help_text=_("Jamais affiché dans les listes ni les journaux.")
    )
    config = models.JSONField(
        _("configuration"),
        default=dict,
        blank=True,
        help_text=_(
            "Les options du type de la source, vérifiées à l’enregistrement (tableau des connecteurs du README)."
        ),
    )
    enabled = models.BooleanField(_("activée"), default=True)
    paused = models.BooleanField(_("en pause"), default=False, help_text=_("Mise en pause par un opérateur."))
    is_demo = models.BooleanField(
        _("démonstration"), default=False, help_text=_("Le serveur local de réservation de démonstration.")
    )
    interval_minutes = models.PositiveIntegerField(
        _("intervalle (minutes)"), default=5, validators=[MinValueValidator(1)]
    )
    discovery_interval_hours = models.PositiveIntegerField(
        _("intervalle de découverte (heures)"), default=24, validators=[MinValueValidator(1)]
    )
    horizon_days = models.PositiveSmallIntegerField(
        _("horizon (jours)"),
        default=DEFAULT_HORIZON_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_HORIZON_DAYS)],
        help_text=_(
            "Jours à l’avance dont les créneaux sont collectés ; les recherches ne vont jamais au-delà "
            "du plus lointain horizon des sources actives."
        ),
    )
    max_documents = models.PositiveSmallIntegerField(
        _("documents au plus"),
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(6)],
        help_text=_("Demander des créneaux pour 1 personne jusqu’à ce nombre."),
    )

    next_run_at = models.DateTimeField(_("prochaine collecte"), null=True, blank=True)
    last_run_at = models.DateTimeField(_("dernière collecte"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("dernier succès"), null=True, blank=True)
    last_discovery_at = models.DateTimeField(_("dernière découverte"), null=True, blank=True)
    last_error = models.TextField(_("dernière erreur"), blank=True)
    consecutive_failures = models.PositiveIntegerField(_("échecs consécutifs"), default=0)
    claimed_until = models.DateTimeField(
        _("réservée jusqu’à"),
        null=True,
        blank=True,
        help_text=_("Un worker traite cette source jusqu’à ce moment."),
    )

    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)

    objects = SourceQuerySet.as_manager()

    class Meta:
        verbose_name = _("source")
        verbose_name_plural = _("sources")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        # Never leak the token through a repr in a log line.
        return f"<Source {self.pk} {self.kind} {self.name!r}>"

    @property
    def interval(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.interval_minutes)

    @property
    def health(self) -> str:
        """ "ok", "stale", "error", "failing" or "paused" (SourceQuerySet's definition).

        Read from the `computed_health` annotation of SourceQuerySet.with_health() when the source was
        loaded with it (lists: no per-row work); otherwise computed from this row with the same rules.
        """
        annotated = getattr(self, "computed_health", None)
        return annotated if annotated is not None else self.health_at(timezone.now())

    def health_at(self, now: dt.datetime) -> str:
        if not self.enabled or self.paused:
            return SourceHealth.PAUSED
        if self.consecutive_failures >= settings.HEALTH_SOURCE_FAILURES or (
            self.consecutive_failures and self.last_success_at is None
        ):
            return SourceHealth.FAILING
        if self.consecutive_failures:
            return SourceHealth.ERROR
        reference = self.last_success_at or self.created_at or now
        if reference + settings.HEALTH_SOURCE_STALE_INTERVALS * self.interval < now:
            return SourceHealth.STALE
        return SourceHealth.OK

    def last_runs(self) -> list[tuple[str, dt.datetime]]:
        """(status, started_at) of the last runs annotated by SourceQuerySet.with_last_runs(), latest first."""
        runs = []
        n = 1
        while (status := getattr(self, f"run_{n}_status", None)) is not None:
            runs.append((status, getattr(self, f"run_{n}_at")))
            n += 1
        return runs


class MeetingPoint(models.Model):
    """A source's own identifier for a town hall (an ANTS meeting point, a structure id, ...)."""

    source = models.ForeignKey(
        Source, verbose_name=_("source"), on_delete=models.CASCADE, related_name="meeting_points"
    )
    external_id = models.CharField(_("identifiant externe"), max_length=200)
    town_hall = models.ForeignKey(
        TownHall, verbose_name=_("mairie"), on_delete=models.CASCADE, related_name="meeting_points"
    )
    config = models.JSONField(
        _("configuration"),
        default=dict,
        blank=True,
        help_text=_("Options du connecteur propres à cette mairie."),
    )
    last_seen = models.DateTimeField(_("vu pour la dernière fois"), default=timezone.now)

    class Meta:
        verbose_name = _("point de rendez-vous")
        verbose_name_plural = _("points de rendez-vous")
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="meeting_point_unique_per_source")
        ]

    def __str__(self) -> str:
        return f"{self.source} #{self.external_id}"


class ScrapeRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", _("En cours")
        SUCCESS = "success", _("Réussie")
        FAILED = "failed", _("Échouée (dernières bonnes données gardées)")
        SUSPICIOUS = "suspicious", _("Suspecte (dernières bonnes données gardées)")
        INTERRUPTED = (
            "interrupted",
            _("Interrompue (worker arrêté ou base perdue ; dernières bonnes données gardées)"),
        )

    source = models.ForeignKey(
        Source, verbose_name=_("source"), on_delete=models.CASCADE, related_name="runs"
    )
    started_at = models.DateTimeField(_("début"), default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(_("fin"), null=True, blank=True)
    status = models.CharField(_("statut"), max_length=12, choices=Status.choices, default=Status.RUNNING)
    discovery = models.BooleanField(
        _("découverte"),
        default=False,
        help_text=_("Cette collecte a aussi mis à jour les points de rendez-vous."),
    )
    town_halls = models.PositiveIntegerField(_("mairies"), default=0)
    slots_new = models.PositiveIntegerField(_("nouveaux créneaux"), default=0)
    slots_kept = models.PositiveIntegerField(_("créneaux gardés"), default=0)
    slots_removed = models.PositiveIntegerField(_("créneaux retirés"), default=0)
    parse_errors = models.PositiveIntegerField(_("erreurs de lecture"), default=0)
    http_calls = models.PositiveIntegerField(_("appels HTTP"), default=0)
    bytes_received = models.PositiveBigIntegerField(_("octets reçus"), default=0)
    error = models.TextField(
        _("erreur"), blank=True, help_text=_("Extrait de ce qui a échoué (jamais le jeton).")
    )

    class Meta:
        verbose_name = _("collecte")
        verbose_name_plural = _("collectes")
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["source", "-started_at"], name="run_source_recent")]

    def __str__(self) -> str:
        return f"{self.source} {self.started_at:%Y-%m-%d %H:%M} {self.status}"

    @property
    def duration(self) -> dt.timedelta | None:
        return self.finished_at - self.started_at if self.finished_at else None
