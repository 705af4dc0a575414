"""Waiting-time statistics: a daily snapshot per town hall and reason, its daily aggregates per department
and for the whole covered area, and how long vanished slots had lived (a per-day histogram).

All three are written by stats.services (the snapshot once a day, idempotent: one row per day and key,
replaced when the task runs again that day; the lifetimes by the ingestion, in the transaction that deletes
the slots). The pages read the aggregates only: a few rows per day whatever the number of town halls.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from slots.models import Reason, TownHall

# The aggregate rows of the whole covered area have this scope; a department's have its code.
ALL_SCOPE = ""


class TownHallDay(models.Model):
    """One town hall's waiting time for one reason, as seen by the daily snapshot."""

    day = models.DateField(_("jour"))
    town_hall = models.ForeignKey(
        TownHall, verbose_name=_("mairie"), on_delete=models.CASCADE, related_name="stats_days"
    )
    reason = models.CharField(_("motif"), max_length=12, choices=Reason.choices)
    # Its department at the time, so that aggregates and the CSV need no join (a town hall may move).
    department_code = models.CharField(_("département"), max_length=3, blank=True)
    days_to_next = models.PositiveIntegerField(
        _("jours avant le premier créneau (1 personne)"),
        null=True,
        blank=True,
        help_text=_("Vide quand la mairie n’offrait aucun créneau en ligne."),
    )
    days_to_next_4 = models.PositiveIntegerField(
        _("jours avant le premier créneau (4 personnes)"), null=True, blank=True
    )
    slots_7_days = models.PositiveIntegerField(_("créneaux dans les 7 jours"), default=0)
    slots_30_days = models.PositiveIntegerField(_("créneaux dans les 30 jours"), default=0)
    fresh = models.BooleanField(
        _("données à jour"), help_text=_("Faux quand la dernière collecte réussie était trop ancienne.")
    )

    class Meta:
        verbose_name = _("relevé quotidien d’une mairie")
        verbose_name_plural = _("relevés quotidiens des mairies")
        ordering = ["-day", "town_hall_id", "reason"]
        constraints = [
            models.UniqueConstraint(fields=["day", "town_hall", "reason"], name="stats_townhallday_unique")
        ]
        indexes = [models.Index(fields=["town_hall", "reason", "day"], name="stats_thday_history")]

    def __str__(self) -> str:
        return f"{self.day} {self.town_hall_id} {self.reason}"


class AreaDay(models.Model):
    """The figures of one day for one reason over a department (`scope` its code) or the whole covered
    area (`scope` empty), computed from that day's TownHallDay rows of fresh town halls."""

    day = models.DateField(_("jour"))
    scope = models.CharField(
        _("périmètre"), max_length=3, blank=True, help_text=_("Code du département, vide pour l’ensemble.")
    )
    reason = models.CharField(_("motif"), max_length=12, choices=Reason.choices)
    town_halls = models.PositiveIntegerField(_("mairies suivies"))
    fresh_town_halls = models.PositiveIntegerField(_("mairies aux données à jour"))
    # Percentiles over the fresh town halls, those without any slot counting as the longest waits; empty
    # when the percentile falls among them (the wait is longer than anything the sources show).
    median_days = models.FloatField(_("médiane des jours d’attente"), null=True, blank=True)
    p90_days = models.FloatField(_("9e décile des jours d’attente"), null=True, blank=True)
    within_7_days = models.PositiveIntegerField(_("mairies avec un créneau sous 7 jours"))
    within_30_days = models.PositiveIntegerField(_("mairies avec un créneau sous 30 jours"))
    slots_week = models.PositiveIntegerField(_("créneaux offerts dans les 7 jours"))

    class Meta:
        verbose_name = _("relevé quotidien d’un territoire")
        verbose_name_plural = _("relevés quotidiens des territoires")
        ordering = ["-day", "scope", "reason"]
        constraints = [
            models.UniqueConstraint(fields=["day", "scope", "reason"], name="stats_areaday_unique")
        ]
        indexes = [models.Index(fields=["scope", "reason", "day"], name="stats_areaday_history")]

    def __str__(self) -> str:
        return f"{self.day} {self.scope or '*'} {self.reason}"

    @property
    def share_7_days(self) -> float | None:
        return self.within_7_days / self.fresh_town_halls if self.fresh_town_halls else None

    @property
    def share_30_days(self) -> float | None:
        return self.within_30_days / self.fresh_town_halls if self.fresh_town_halls else None


class SlotLifetime(models.Model):
    """How many slots that vanished before their start, on one day in one department, had lived between
    two bounds (`bucket`, an index into stats.lifetimes.BUCKETS): a fixed-size histogram, not a row per slot."""

    day = models.DateField(_("jour"))
    department_code = models.CharField(_("département"), max_length=3, blank=True)
    bucket = models.PositiveSmallIntegerField(_("tranche de durée"))
    count = models.PositiveBigIntegerField(_("créneaux"), default=0)

    class Meta:
        verbose_name = _("durée de vie des créneaux disparus")
        verbose_name_plural = _("durées de vie des créneaux disparus")
        ordering = ["-day", "department_code", "bucket"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "department_code", "bucket"], name="stats_slotlifetime_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.department_code or '?'} #{self.bucket}: {self.count}"
