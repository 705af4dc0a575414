"""Reference data: departments, communes (with their town-hall point) and postcodes."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Department(models.Model):
    code = models.CharField(_("code"), max_length=3, primary_key=True)
    name = models.CharField(_("nom"), max_length=100)
    region = models.CharField(_("région"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("département")
        verbose_name_plural = _("départements")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class CommuneQuerySet(models.QuerySet["Commune"]):
    def located(self) -> CommuneQuerySet:
        return self.filter(lat__isnull=False, lon__isnull=False)

    def in_bbox(self, *, min_lat: float, max_lat: float, min_lon: float, max_lon: float) -> CommuneQuerySet:
        return self.filter(lat__range=(min_lat, max_lat), lon__range=(min_lon, max_lon))


class Commune(models.Model):
    class Kind(models.TextChoices):
        COMMUNE = "COM", _("Commune")
        ARRONDISSEMENT = "ARM", _("Arrondissement municipal")

    class LocationSource(models.TextChoices):
        TOWN_HALL = "town_hall", _("Point de la mairie dans l’annuaire")
        OUTLINE = "outline", _("Point dans le contour (point de la mairie absent ou hors du contour)")
        RELATED = "related", _("Emprunté à une commune liée (parente ou arrondissement)")
        MANUAL = "manual", _("Fixé par un administrateur")
        NONE = "none", _("Inconnu")

    insee = models.CharField(_("code INSEE"), max_length=5, primary_key=True)
    name = models.CharField(
        _("nom"), max_length=200, help_text=_("Nom complet avec son article, tel qu’on l’écrit.")
    )
    search_name = models.CharField(
        _("nom de recherche"),
        max_length=200,
        db_index=True,
        help_text=_("Nom en minuscules ASCII, sans article ni ponctuation."),
    )
    kind = models.CharField(_("type"), max_length=3, choices=Kind.choices, default=Kind.COMMUNE)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("commune parente"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="arrondissements",
    )
    department = models.ForeignKey(
        Department, verbose_name=_("département"), on_delete=models.PROTECT, related_name="communes"
    )
    population = models.PositiveIntegerField(_("population"), null=True, blank=True)
    lat = models.FloatField(_("latitude"), null=True, blank=True)
    lon = models.FloatField(_("longitude"), null=True, blank=True)
    location_source = models.CharField(
        _("origine du point"), max_length=10, choices=LocationSource.choices, default=LocationSource.NONE
    )
    town_hall_address = models.TextField(_("adresse de la mairie"), blank=True)
    phone = models.CharField(_("téléphone"), max_length=50, blank=True)
    email = models.CharField(_("courriel"), max_length=254, blank=True)
    website = models.URLField(_("site web"), max_length=500, blank=True)
    opening_hours = models.JSONField(_("horaires d’ouverture"), default=list, blank=True)
    accessibility = models.CharField(_("accessibilité"), max_length=50, blank=True)

    objects = CommuneQuerySet.as_manager()

    class Meta:
        verbose_name = _("commune")
        verbose_name_plural = _("communes")
        ordering = ["insee"]
        indexes = [models.Index(fields=["lat", "lon"], name="commune_lat_lon")]

    def __str__(self) -> str:
        return f"{self.name} ({self.department_id})"

    @property
    def is_located(self) -> bool:
        return self.lat is not None and self.lon is not None


class PostalCode(models.Model):
    code = models.CharField(_("code postal"), max_length=5, primary_key=True)
    communes = models.ManyToManyField(Commune, verbose_name=_("communes"), related_name="postal_codes")

    class Meta:
        verbose_name = _("code postal")
        verbose_name_plural = _("codes postaux")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class OutOfScopeCommune(models.Model):
    """A commune or arrondissement of a department not imported: recognised only to say it is not covered.

    Written by the import from the same package data (name, code, postcodes, department), no geometry.
    """

    insee = models.CharField(_("code INSEE"), max_length=5, primary_key=True)
    name = models.CharField(_("nom"), max_length=200)
    search_name = models.CharField(_("nom de recherche"), max_length=200, db_index=True)
    # " 13001 13002 ": spaces at both ends, so that a postcode is matched whole with `contains`.
    postcodes = models.CharField(_("codes postaux"), max_length=400, blank=True)
    department_code = models.CharField(_("code du département"), max_length=3)
    department_name = models.CharField(_("département"), max_length=100)

    class Meta:
        ordering = ["insee"]
        verbose_name = _("commune non couverte")
        verbose_name_plural = _("communes non couvertes")

    def __str__(self) -> str:
        return f"{self.name} ({self.department_code})"


class ReferenceImport(models.Model):
    """The last import of one scope: lets a re-run with unchanged package data finish at once."""

    scope = models.CharField(
        _("périmètre"), max_length=400, unique=True, help_text=_("Codes des départements triés, ou « all ».")
    )
    fingerprint = models.CharField(
        _("empreinte"), max_length=64, help_text=_("SHA-256 du code d’import, des données et du périmètre.")
    )
    data_version = models.CharField(_("version des données"), max_length=100)
    communes = models.PositiveIntegerField(
        _("communes"), help_text=_("Communes et arrondissements du périmètre après l’import.")
    )
    postcodes = models.PositiveIntegerField(_("codes postaux"))
    postcode_links = models.PositiveIntegerField(_("liens code postal–commune"))
    imported_at = models.DateTimeField(_("importé le"), auto_now=True)

    class Meta:
        verbose_name = _("import de référence")
        verbose_name_plural = _("imports de référence")
        ordering = ["scope"]

    def __str__(self) -> str:
        return f"{self.scope} ({self.data_version})"
