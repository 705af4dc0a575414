"""Town halls (where applications are filed) and their free appointment slots.

This app knows nothing of how slots were fetched: the scrapers write `checked_at` and `stale_at`
on each successful run, and the search reads them to tell citizens how fresh each result is.
"""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from communes.models import Commune
from slots.phones import tel_href
from slots.reasons import Reason  # also imported from here by most of the code


class TownHallQuerySet(models.QuerySet["TownHall"]):
    def active(self) -> TownHallQuerySet:
        return self.filter(active=True, lat__isnull=False, lon__isnull=False)

    def in_bbox(self, *, min_lat: float, max_lat: float, min_lon: float, max_lon: float) -> TownHallQuerySet:
        return self.filter(lat__range=(min_lat, max_lat), lon__range=(min_lon, max_lon))

    def for_reason(self, reason: str) -> TownHallQuerySet:
        """Town halls taking applications for `reason` (both documents for CNI-PASSPORT)."""
        if reason == Reason.CNI:
            return self.filter(takes_cni=True)
        if reason == Reason.PASSPORT:
            return self.filter(takes_passport=True)
        return self.filter(takes_cni=True, takes_passport=True)

    def with_source_kind(self) -> TownHallQuerySet:
        """Annotate `source_kind`: the kind of the oldest source following each town hall, if any."""
        # Through the relation, not an import: slots sits below scrapers.
        meeting_point = self.model._meta.get_field("meeting_points").related_model
        kinds = meeting_point.objects.filter(town_hall=models.OuterRef("pk")).order_by("pk")
        return self.annotate(source_kind=models.Subquery(kinds.values("source__kind")[:1]))

    def with_next_slot(self, slots: SlotQuerySet) -> TownHallQuerySet:
        """Annotate `next_slot_at` and `next_slot_url`: each town hall's first slot among `slots`, if any."""
        first = slots.filter(town_hall=models.OuterRef("pk")).order_by("starts_at")
        return self.annotate(
            next_slot_at=models.Subquery(first.values("starts_at")[:1]),
            next_slot_url=models.Subquery(first.values("booking_url")[:1]),
        )


class TownHall(models.Model):
    class Booking(models.TextChoices):
        """How citizens book at a town hall no source follows."""

        ONLINE = "online", _("En ligne, sur une page de réservation que nous ne lisons pas")
        PHONE = "phone", _("Par téléphone")
        WALK_IN = "walk_in", _("Sans rendez-vous")

    name = models.CharField(_("nom"), max_length=255)
    address = models.CharField(_("adresse"), max_length=500, blank=True)
    postcode = models.CharField(_("code postal"), max_length=5, blank=True)
    commune = models.ForeignKey(
        Commune,
        verbose_name=_("commune"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="town_halls",
    )
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    location_locked = models.BooleanField(
        _("emplacement verrouillé"),
        default=False,
        help_text=_("Un administrateur a corrigé l’emplacement : les collectes ne le remplacent jamais."),
    )
    locked_fields = models.JSONField(
        _("champs verrouillés"),
        default=list,
        blank=True,
        help_text=_(
            "Champs corrigés par un administrateur (noms parmi TownHall.LOCKABLE_FIELDS) : la découverte ne "
            "les remplace jamais."
        ),
    )
    phone = models.CharField(_("téléphone"), max_length=50, blank=True)
    email = models.EmailField(_("courriel"), max_length=254, blank=True)
    website = models.URLField(_("site web"), max_length=500, blank=True)
    booking_url = models.URLField(
        _("lien de réservation par défaut"),
        max_length=1000,
        blank=True,
        help_text=_("Affiché quand un créneau n’a pas de lien propre."),
    )
    online_booking = models.BooleanField(
        _("réservation en ligne"),
        default=False,
        help_text=_(
            "Les créneaux de cette mairie sont collectés auprès d’une source de réservation en ligne."
        ),
    )
    active = models.BooleanField(
        _("active"), default=True, help_text=_("Décochez pour cacher cette mairie aux usagers.")
    )
    booking = models.CharField(
        _("réservation sans source"),
        max_length=10,
        choices=Booking.choices,
        blank=True,
        help_text=_(
            "Comment réserver quand aucune source ne suit cette mairie (ignoré tant qu’une source la suit)."
        ),
    )
    # Read by the opendata app's ANTS editor endpoints: None follows the default rule there (published when
    # no ANTS source follows it, so that an editor already connected to the national hub is not listed twice).
    published = models.BooleanField(
        _("publiée comme éditeur ANTS"),
        null=True,
        blank=True,
        default=None,
        choices=[
            (None, _("Par défaut : oui, sauf si un éditeur ANTS la suit déjà")),
            (True, _("Toujours")),
            (False, _("Jamais")),
        ],
        help_text=_(
            "Ses créneaux sont-ils servis au portail national par notre API éditeur (/ants/) ? Par défaut, "
            "seulement ceux des sources qui ne sont pas des éditeurs ANTS, jamais publiés deux fois."
        ),
    )
    takes_cni = models.BooleanField(_("reçoit les demandes de carte d’identité"), default=True)
    takes_passport = models.BooleanField(_("reçoit les demandes de passeport"), default=True)
    checked_at = models.DateTimeField(
        _("vérifiée le"), null=True, blank=True, help_text=_("Dernière collecte réussie de ses créneaux.")
    )
    stale_at = models.DateTimeField(
        _("périmée à partir du"),
        null=True,
        blank=True,
        help_text=_("Passé ce moment, ses créneaux sont signalés comme anciens."),
    )
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)

    objects = TownHallQuerySet.as_manager()

    # What a source's discovery may refresh, hence what an admin's correction locks (the location has its
    # own flag, location_locked).
    LOCKABLE_FIELDS = ("name", "address", "postcode", "phone", "website", "booking_url")

    class Meta:
        verbose_name = _("mairie")
        verbose_name_plural = _("mairies")
        ordering = ["name"]
        indexes = [models.Index(fields=["lat", "lon"], name="townhall_lat_lon")]

    def __str__(self) -> str:
        return self.name

    def locked_field_names(self) -> set[str]:
        """The fields discovery must leave as they are."""
        locked = {name for name in self.locked_fields or () if name in self.LOCKABLE_FIELDS}
        if self.location_locked:
            locked |= {"lat", "lon"}
        return locked

    @property
    def booking_mode(self) -> str:
        """How citizens book here: "source" when a source follows it, else a Booking value or ""."""
        return "source" if self.online_booking else self.booking

    def api_booking(self) -> str:
        """The API's `booking`: the following source's kind (needs `with_source_kind`), else how it books."""
        if self.online_booking:
            return getattr(self, "source_kind", None) or self.Booking.ONLINE
        return self.booking

    def reasons_taken(self) -> list[str]:
        """The documents it takes applications for: "CNI", "PASSPORT" or both."""
        taken = ((Reason.CNI, self.takes_cni), (Reason.PASSPORT, self.takes_passport))
        return [str(reason.value) for reason, takes in taken if takes]

    # The directory's data about the commune's town hall fills what the town hall's own record lacks
    # (select_related("commune") keeps this free of queries).
    @property
    def contact_phone(self) -> str:
        return self.phone or (self.commune.phone if self.commune else "")

    @property
    def contact_tel_href(self) -> str:
        return tel_href(self.contact_phone)

    @property
    def contact_email(self) -> str:
        return self.email or (self.commune.email if self.commune else "")

    @property
    def contact_website(self) -> str:
        return self.website or (self.commune.website if self.commune else "")

    @property
    def contact_opening_hours(self) -> list:
        return self.commune.opening_hours if self.commune else []

    def data_age(self, now: dt.datetime | None = None) -> dt.timedelta | None:
        if self.checked_at is None:
            return None
        return (now or timezone.now()) - self.checked_at

    def is_stale(self, now: dt.datetime | None = None) -> bool:
        return self.stale_at is not None and (now or timezone.now()) >= self.stale_at


class SlotQuerySet(models.QuerySet["Slot"]):
    def upcoming(self, now: dt.datetime | None = None) -> SlotQuerySet:
        return self.filter(starts_at__gt=now or timezone.now())

    def for_reason(self, reason: str) -> SlotQuerySet:
        return self.filter(reason=reason)

    def for_people(self, people: int) -> SlotQuerySet:
        # A slot whose capacity the source does not tell is kept: better shown than hidden.
        if people <= 1:
            return self
        return self.filter(models.Q(people_max__isnull=True) | models.Q(people_max__gte=people))

    def between(self, start: dt.datetime | None, end: dt.datetime | None) -> SlotQuerySet:
        qs = self
        if start is not None:
            qs = qs.filter(starts_at__gte=start)
        if end is not None:
            qs = qs.filter(starts_at__lt=end)
        return qs


class Slot(models.Model):
    """A free appointment for one reason at one town hall, as one source offers it.

    A slot offered for several reasons is stored once per reason, because booking editors give a
    different booking link (and sometimes different availability) for each. Two sources following the same
    town hall each keep their own rows (a run replaces only its source's): pages count a start and reason
    once whatever the number of sources offering it.
    """

    # By name, not import: slots sits below scrapers, yet a source's slots must go with it.
    # No index of their own: the unique constraint's index starts with the source, and slot_search with the
    # town hall (each extra index is one more write for every slot a run inserts).
    source = models.ForeignKey(
        "scrapers.Source",
        verbose_name=_("source"),
        on_delete=models.CASCADE,
        related_name="slots",
        db_index=False,
    )
    town_hall = models.ForeignKey(
        TownHall, verbose_name=_("mairie"), on_delete=models.CASCADE, related_name="slots", db_index=False
    )
    starts_at = models.DateTimeField(_("début"))
    reason = models.CharField(_("motif"), max_length=12, choices=Reason.choices)
    people_max = models.PositiveSmallIntegerField(
        _("personnes au plus"),
        null=True,
        blank=True,
        help_text=_("Nombre de personnes que ce créneau peut recevoir au plus, quand la source le dit."),
    )
    booking_url = models.URLField(_("lien de réservation"), max_length=1000, blank=True)
    # No "last seen": a slot that is here was in its source's last answer for its town hall (a run deletes
    # the others), and TownHall.checked_at says when that was. Refreshing a date on every slot a run finds
    # again rewrote the whole table at every collection.
    first_seen = models.DateTimeField(_("vu pour la première fois"), default=timezone.now)

    objects = SlotQuerySet.as_manager()

    class Meta:
        verbose_name = _("créneau")
        verbose_name_plural = _("créneaux")
        ordering = ["starts_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "town_hall", "starts_at", "reason"], name="slot_unique_per_source"
            )
        ]
        # The one index for reading slots: (town hall, reason, start). A (reason, start) index used to sit beside
        # it, and PostgreSQL took it to count each town hall's slots when its statistics were off (every town
        # hall's slots of the period visited per town hall); nothing needs it since the search reads SlotDay.
        indexes = [
            models.Index(fields=["town_hall", "reason", "starts_at"], name="slot_search"),
        ]

    def __str__(self) -> str:
        return f"{self.town_hall} {self.starts_at:%Y-%m-%d %H:%M} {self.reason}"


class SlotDay(models.Model):
    """How many distinct slot starts a town hall offers for one reason on one Paris day, by party size.

    A summary of the Slot table that the search reads instead of the slots: its cost then follows the town
    halls and the days of the window, not the number of slots. A start offered by several sources counts
    once, with the largest party any of them takes (`capacity`; UNKNOWN_CAPACITY when a source does not
    tell, since such a slot is shown whatever the party). On PostgreSQL, triggers on the slot table keep it
    exact in the same transaction as every write (ingestion, purge, merges, cascades); elsewhere
    `slots.summary.slots_changed` rebuilds it. Days are whole: the search reads today's slots from the Slot
    table, since some of them may have started already.
    """

    UNKNOWN_CAPACITY = 32767  # smallint's largest: "any party"

    # The unique constraint's index, which starts with the town hall, serves the foreign key too.
    town_hall = models.ForeignKey(
        TownHall,
        verbose_name=_("mairie"),
        on_delete=models.CASCADE,
        related_name="slot_days",
        db_index=False,
    )
    reason = models.CharField(_("motif"), max_length=12, choices=Reason.choices)
    day = models.DateField(_("jour"))
    capacity = models.PositiveSmallIntegerField(_("personnes au plus"))
    count = models.PositiveIntegerField(_("créneaux"))
    first_at = models.DateTimeField(_("premier créneau"))
    first_url = models.CharField(_("lien du premier créneau"), max_length=1000, blank=True)

    class Meta:
        verbose_name = _("résumé de créneaux par jour")
        verbose_name_plural = _("résumés de créneaux par jour")
        constraints = [
            models.UniqueConstraint(fields=["town_hall", "reason", "day", "capacity"], name="slotday_unique")
        ]

    def __str__(self) -> str:
        return f"{self.town_hall_id} {self.reason} {self.day}: {self.count}"
