"""Booking sources, the meeting points they manage, and the record of every scrape run."""

from __future__ import annotations

import datetime as dt

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from slots.models import TownHall


class SourceQuerySet(models.QuerySet["Source"]):
    def due(self, now: dt.datetime | None = None) -> SourceQuerySet:
        now = now or timezone.now()
        return self.filter(enabled=True, paused=False).filter(
            models.Q(next_run_at__isnull=True) | models.Q(next_run_at__lte=now)
        )


class Source(models.Model):
    """Somewhere slots come from: a booking editor's API, a feed, a file or a page."""

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(
        max_length=30, help_text="Connector kind: ants, rendezvousonline, synbird, ics, csv, html."
    )
    base_url = models.URLField("base URL", max_length=1000)
    auth_header = models.CharField(max_length=100, blank=True, default="X-HUB-RDV-AUTH-TOKEN")
    token = models.CharField(max_length=500, blank=True, help_text="Never shown in lists or logs.")
    config = models.JSONField(
        default=dict, blank=True, help_text="Kind-specific options (see the README's connector table)."
    )
    enabled = models.BooleanField(default=True)
    paused = models.BooleanField(default=False, help_text="Paused by an operator.")
    is_demo = models.BooleanField(default=False, help_text="The local demo booking server.")
    interval_minutes = models.PositiveIntegerField(default=5, validators=[MinValueValidator(1)])
    discovery_interval_hours = models.PositiveIntegerField(default=24, validators=[MinValueValidator(1)])
    max_documents = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(6)],
        help_text="Ask for slots for 1 up to this many people.",
    )

    next_run_at = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_discovery_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    claimed_until = models.DateTimeField(
        null=True, blank=True, help_text="A worker holds this source until then."
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SourceQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        # Never leak the token through a repr in a log line.
        return f"<Source {self.pk} {self.kind} {self.name!r}>"

    @property
    def interval(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.interval_minutes)

    def is_failing(self) -> bool:
        return self.consecutive_failures > 0


class MeetingPoint(models.Model):
    """A source's own identifier for a town hall (an ANTS meeting point, a structure id, ...)."""

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="meeting_points")
    external_id = models.CharField(max_length=200)
    town_hall = models.ForeignKey(TownHall, on_delete=models.CASCADE, related_name="meeting_points")
    config = models.JSONField(default=dict, blank=True, help_text="Per-town-hall options of the connector.")
    last_seen = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="meeting_point_unique_per_source")
        ]

    def __str__(self) -> str:
        return f"{self.source} #{self.external_id}"


class ScrapeRun(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCESS = "success", "Success"
        FAILED = "failed", "Failed (last good data kept)"
        SUSPICIOUS = "suspicious", "Suspicious (last good data kept)"

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="runs")
    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.RUNNING)
    discovery = models.BooleanField(default=False, help_text="This run also refreshed the meeting points.")
    town_halls = models.PositiveIntegerField(default=0)
    slots_new = models.PositiveIntegerField(default=0)
    slots_kept = models.PositiveIntegerField(default=0)
    slots_removed = models.PositiveIntegerField(default=0)
    parse_errors = models.PositiveIntegerField(default=0)
    http_calls = models.PositiveIntegerField(default=0)
    bytes_received = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True, help_text="Excerpt of what went wrong (never the token).")

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["source", "-started_at"], name="run_source_recent")]

    def __str__(self) -> str:
        return f"{self.source} {self.started_at:%Y-%m-%d %H:%M} {self.status}"

    @property
    def duration(self) -> dt.timedelta | None:
        return self.finished_at - self.started_at if self.finished_at else None
