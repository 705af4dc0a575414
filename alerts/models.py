"""Email alerts on a search, their grid cells (what makes matching follow the town halls that changed) and
their send history.

An alert keeps only what it needs: the address, the search, and the dates and outcomes of the emails sent.
Everything of it is deleted when it ends, is unsubscribed, or stays unconfirmed for 48 hours.
"""

from __future__ import annotations

import datetime as dt
import math

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communes.geo import bounding_box
from slots.models import Reason

# Side of a grid cell, in degrees of latitude and longitude (about 28 km by 19 km in France). An alert is
# filed under every cell its bounding box touches; a town hall that changed looks up its one cell.
CELL_DEGREES = 0.25
# Cell numbers: latitude index * CELL_ROW + longitude index (longitude indexes stay within ±720).
CELL_ROW = 10_000


def cell_of(lat: float, lon: float) -> int:
    return math.floor(lat / CELL_DEGREES) * CELL_ROW + math.floor(lon / CELL_DEGREES)


def mask_email(address: str) -> str:
    """ "j***@e***.fr": enough for an admin to tell two addresses apart, not to write to them."""
    local, _, domain = address.partition("@")
    name, dot, tld = domain.rpartition(".")
    if not dot:
        name, tld = domain, ""
    return f"{local[:1]}***@{name[:1]}***{dot}{tld}"


class AlertQuerySet(models.QuerySet["Alert"]):
    def active(self) -> AlertQuerySet:
        return self.filter(state=Alert.State.ACTIVE)

    def for_email_key(self, email_key: str) -> AlertQuerySet:
        return self.filter(email_key=email_key)


class Alert(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("alerte à confirmer")
        ACTIVE = "active", _("alerte active")
        PAUSED = "paused", _("alerte en pause")
        # Its last email is on its way; it is deleted once sent.
        ENDING = "ending", _("alerte terminée")

    email = models.EmailField(_("adresse électronique"), max_length=254)
    # A keyed hash of the normalised address: the management links and the per-address rate limit name it
    # instead of the address, which then never appears in a URL, a log line or a Redis key.
    email_key = models.CharField(_("empreinte de l’adresse"), max_length=64, db_index=True)
    state = models.CharField(_("état"), max_length=10, choices=State.choices, default=State.PENDING)
    language = models.CharField(_("langue"), max_length=8, default="fr")

    # The search, as the results page had it.
    place = models.CharField(_("lieu"), max_length=150)
    query = models.CharField(_("texte recherché"), max_length=100, blank=True)
    insee = models.CharField(_("code INSEE"), max_length=5, blank=True)
    lat = models.FloatField(_("latitude"))
    lon = models.FloatField(_("longitude"))
    radius_km = models.PositiveSmallIntegerField(_("rayon (km)"))
    reason = models.CharField(_("motif"), max_length=12, choices=Reason.choices)
    people = models.PositiveSmallIntegerField(_("personnes"), default=1)
    before = models.DateField(_("au plus tard le"), null=True, blank=True)
    min_lat = models.FloatField()
    max_lat = models.FloatField()
    min_lon = models.FloatField()
    max_lon = models.FloatField()

    created_at = models.DateTimeField(_("créée le"), default=timezone.now)
    confirmed_at = models.DateTimeField(_("confirmée le"), null=True, blank=True)
    # Slots first seen before this moment were there when the alert started or were already announced.
    seen_until = models.DateTimeField(_("créneaux connus jusqu’au"), null=True, blank=True)
    last_sent_at = models.DateTimeField(_("dernier courriel d’alerte"), null=True, blank=True)
    emails_sent = models.PositiveSmallIntegerField(_("courriels d’alerte envoyés"), default=0)
    # Alert emails sent on `day_sent` (Paris), for the daily cap.
    day_sent = models.DateField(null=True, blank=True)
    day_count = models.PositiveSmallIntegerField(default=0)

    objects = AlertQuerySet.as_manager()

    class Meta:
        verbose_name = _("alerte")
        verbose_name_plural = _("alertes")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "created_at"], name="alert_state_created")]

    def __str__(self) -> str:
        return f"{self.place} ({self.radius_km} km, {self.reason})"

    @property
    def masked_email(self) -> str:
        return mask_email(self.email)

    def set_area(self) -> None:
        box = bounding_box(lat=self.lat, lon=self.lon, radius_km=self.radius_km)
        self.min_lat, self.max_lat, self.min_lon, self.max_lon = (
            box.min_lat,
            box.max_lat,
            box.min_lon,
            box.max_lon,
        )

    def cells(self) -> list[int]:
        """Every grid cell the alert's bounding box touches."""
        lat_range = range(
            math.floor(self.min_lat / CELL_DEGREES), math.floor(self.max_lat / CELL_DEGREES) + 1
        )
        lon_range = range(
            math.floor(self.min_lon / CELL_DEGREES), math.floor(self.max_lon / CELL_DEGREES) + 1
        )
        return [lat_index * CELL_ROW + lon_index for lat_index in lat_range for lon_index in lon_range]

    def contains(self, lat: float, lon: float) -> bool:
        return self.min_lat <= lat <= self.max_lat and self.min_lon <= lon <= self.max_lon

    def ends_on(self, max_days: int) -> dt.date:
        """The last Paris day the alert runs: its « au plus tard le » date, or `max_days` after confirmation."""
        start = timezone.localdate(self.confirmed_at or self.created_at)
        limit = start + dt.timedelta(days=max_days)
        return min(limit, self.before) if self.before else limit

    def search_params(self) -> dict[str, str]:
        """The search page's parameters for this alert (its results, or a new alert like it)."""
        motif = {Reason.CNI: "cni", Reason.PASSPORT: "passeport", Reason.CNI_PASSPORT: "cni-passeport"}
        params = {
            "rayon": str(self.radius_km),
            "motif": motif[Reason(self.reason)],
            "personnes": str(self.people),
        }
        if self.insee or self.query:
            params.update(q=self.query or self.place, insee=self.insee)
        else:
            params.update(lat=f"{self.lat:.5f}", lon=f"{self.lon:.5f}")
        if self.before:
            params["avant"] = self.before.isoformat()
        return {key: value for key, value in params.items() if value}


class AlertCell(models.Model):
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="cell_rows")
    cell = models.IntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["alert", "cell"], name="alertcell_unique")]
        indexes = [models.Index(fields=["cell", "alert"], name="alertcell_cell")]

    def __str__(self) -> str:
        return f"{self.alert_id}@{self.cell}"


class AlertEmail(models.Model):
    """One email of an alert: its kind and what became of it (never its content or address)."""

    class Kind(models.TextChoices):
        CONFIRM = "confirm", _("confirmation")
        MATCH = "match", _("nouveaux créneaux")
        ENDED = "ended", _("fin de l’alerte")
        MANAGE = "manage", _("lien de gestion")

    class Status(models.TextChoices):
        QUEUED = "queued", _("en attente")
        SENT = "sent", _("envoyé")
        FAILED = "failed", _("échec")
        SKIPPED = "skipped", _("sans objet")

    alert = models.ForeignKey(
        Alert, verbose_name=_("alerte"), on_delete=models.CASCADE, related_name="emails"
    )
    kind = models.CharField(_("type"), max_length=10, choices=Kind.choices)
    status = models.CharField(_("statut"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    created_at = models.DateTimeField(_("créé le"), default=timezone.now)
    sent_at = models.DateTimeField(_("envoyé le"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("tentatives"), default=0)
    town_halls = models.PositiveSmallIntegerField(_("mairies listées"), default=0)
    error = models.CharField(_("erreur"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("courriel d’alerte")
        verbose_name_plural = _("courriels d’alerte")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_status_display()})"


class EmailTally(models.Model):
    """Emails sent or failed per day and kind: what /metrics counts, kept after the alerts are deleted."""

    day = models.DateField()
    kind = models.CharField(max_length=10, choices=AlertEmail.Kind.choices)
    status = models.CharField(max_length=10, choices=AlertEmail.Status.choices)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["day", "kind", "status"], name="emailtally_unique")]

    def __str__(self) -> str:
        return f"{self.day} {self.kind} {self.status}: {self.count}"
