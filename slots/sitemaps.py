"""sitemap.xml: the pages worth indexing (never the search results, which are endless)."""

from __future__ import annotations

from typing import Any

from django.contrib.sitemaps import Sitemap
from django.db.models import Exists, OuterRef, QuerySet
from django.urls import reverse

from communes.models import Commune, Department
from slots.models import TownHall


class StaticPagesSitemap(Sitemap):
    changefreq = "weekly"

    def items(self) -> list[str]:
        return ["slots:home", "slots:about", "slots:departments"]

    def location(self, item: str) -> str:
        return reverse(item)


class DepartmentSitemap(Sitemap):
    changefreq = "daily"

    def items(self) -> QuerySet[Department]:
        return Department.objects.order_by("code")

    def location(self, item: Department) -> str:
        return reverse("slots:department", args=[item.code])


class TownHallSitemap(Sitemap):
    changefreq = "hourly"
    priority = 0.8

    def items(self) -> QuerySet[TownHall]:
        return TownHall.objects.active().only("pk").order_by("pk")

    def location(self, item: TownHall) -> str:
        return reverse("slots:town_hall", args=[item.pk])


class CommuneSitemap(Sitemap):
    changefreq = "daily"

    def items(self) -> QuerySet[Commune]:
        return communes_with_town_halls().only("insee").order_by("insee")

    def location(self, item: Commune) -> str:
        return reverse("slots:commune", args=[item.insee])


def communes_with_town_halls() -> QuerySet[Commune]:
    """Communes with an active town hall, or whose arrondissements have one (Paris, Lyon, Marseille)."""
    active = TownHall.objects.active()
    return Commune.objects.filter(
        Exists(active.filter(commune=OuterRef("pk"))) | Exists(active.filter(commune__parent=OuterRef("pk")))
    )


SITEMAPS: dict[str, Any] = {
    "pages": StaticPagesSitemap,
    "departements": DepartmentSitemap,
    "communes": CommuneSitemap,
    "mairies": TownHallSitemap,
}
