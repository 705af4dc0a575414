"""The tokens of the clients of our ANTS editor API (the national hub, a partner's test bench).

A token is shown once, when it is created, and stored only as its SHA-256 hash: a database leak gives no
working token. Its first characters (`prefix`) are kept in clear so that an admin can tell tokens apart.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.db import models
from django.utils.translation import gettext_lazy as _

TOKEN_PREFIX = "rdvp_"
PREFIX_LENGTH = len(TOKEN_PREFIX) + 6
# last_used_at is written at most once per this period: the hub calls many times a minute.
LAST_USED_PRECISION = dt.timedelta(minutes=1)


def token_hash(clear: str) -> str:
    return hashlib.sha256(clear.encode("utf-8")).hexdigest()


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def valid(self) -> ApiTokenQuerySet:
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    name = models.CharField(
        _("nom"),
        max_length=100,
        unique=True,
        help_text=_("Qui s’en sert : « Portail national ANTS (production) », « Recette ANTS »…"),
    )
    prefix = models.CharField(_("début du jeton"), max_length=PREFIX_LENGTH, editable=False)
    hash = models.CharField(_("empreinte SHA-256"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("dernière utilisation"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("révoqué le"), null=True, blank=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("jeton de l’API éditeur ANTS")
        verbose_name_plural = _("jetons de l’API éditeur ANTS")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None

    def set_new_token(self) -> str:
        """Give this (unsaved) token a new secret value and return it in clear: the only time it is seen."""
        clear = TOKEN_PREFIX + secrets.token_urlsafe(32)
        self.prefix = clear[:PREFIX_LENGTH]
        self.hash = token_hash(clear)
        return clear
