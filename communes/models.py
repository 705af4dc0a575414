"""Reference data: departments, communes (with their town-hall point) and postcodes."""

from __future__ import annotations

from django.db import models


class Department(models.Model):
    code = models.CharField(max_length=3, primary_key=True)
    name = models.CharField(max_length=100)
    region = models.CharField(max_length=100, blank=True)

    class Meta:
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
        COMMUNE = "COM", "Commune"
        ARRONDISSEMENT = "ARM", "Municipal arrondissement"

    class LocationSource(models.TextChoices):
        TOWN_HALL = "town_hall", "Town-hall point from the directory"
        OUTLINE = "outline", "Point inside the outline (town-hall point missing or outside it)"
        RELATED = "related", "Borrowed from a related commune (parent or arrondissement)"
        MANUAL = "manual", "Set by an admin"
        NONE = "none", "Unknown"

    insee = models.CharField("INSEE code", max_length=5, primary_key=True)
    name = models.CharField(max_length=200, help_text="Full name with its article, as people write it.")
    search_name = models.CharField(
        max_length=200, db_index=True, help_text="Lower-case ASCII name without article or punctuation."
    )
    kind = models.CharField(max_length=3, choices=Kind.choices, default=Kind.COMMUNE)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="arrondissements"
    )
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="communes")
    population = models.PositiveIntegerField(null=True, blank=True)
    lat = models.FloatField("latitude", null=True, blank=True)
    lon = models.FloatField("longitude", null=True, blank=True)
    location_source = models.CharField(
        max_length=10, choices=LocationSource.choices, default=LocationSource.NONE
    )
    town_hall_address = models.TextField(blank=True)
    phone = models.CharField(max_length=50, blank=True)
    email = models.CharField(max_length=254, blank=True)
    website = models.URLField(max_length=500, blank=True)
    opening_hours = models.JSONField(default=list, blank=True)
    accessibility = models.CharField(max_length=50, blank=True)

    objects = CommuneQuerySet.as_manager()

    class Meta:
        ordering = ["insee"]
        indexes = [models.Index(fields=["lat", "lon"], name="commune_lat_lon")]

    def __str__(self) -> str:
        return f"{self.name} ({self.department_id})"

    @property
    def is_located(self) -> bool:
        return self.lat is not None and self.lon is not None


class PostalCode(models.Model):
    code = models.CharField(max_length=5, primary_key=True)
    communes = models.ManyToManyField(Commune, related_name="postal_codes")

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class ReferenceImport(models.Model):
    """The last import of one scope: lets a re-run with unchanged package data finish at once."""

    scope = models.CharField(max_length=400, unique=True, help_text='Sorted department codes, or "all".')
    fingerprint = models.CharField(
        max_length=64, help_text="SHA-256 of the import code, the data and the scope."
    )
    data_version = models.CharField(max_length=100)
    communes = models.PositiveIntegerField(
        help_text="Communes and arrondissements in the scope after import."
    )
    postcodes = models.PositiveIntegerField()
    postcode_links = models.PositiveIntegerField()
    imported_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["scope"]

    def __str__(self) -> str:
        return f"{self.scope} ({self.data_version})"
