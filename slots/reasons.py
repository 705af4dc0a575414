"""Why a citizen books: the documents a slot is for. Importable without the app registry."""

from __future__ import annotations

from django.db.models import TextChoices
from django.utils.translation import gettext_lazy as _


class Reason(TextChoices):
    CNI = "CNI", _("Carte d’identité")
    PASSPORT = "PASSPORT", _("Passeport")
    CNI_PASSPORT = "CNI-PASSPORT", _("Carte d’identité et passeport")


# The reasons' values, in the order sources are asked for them.
REASONS: tuple[str, ...] = tuple(Reason.values)
