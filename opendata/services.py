"""Writes of the opendata app: API tokens (creation, use, revocation)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from opendata.models import LAST_USED_PRECISION, ApiToken, token_hash


def api_token_create(*, name: str) -> tuple[ApiToken, str]:
    """A new token named `name`, and its clear value (never stored, to be shown once)."""
    token = ApiToken(name=name)
    clear = token.set_new_token()
    token.save()
    return token, clear


def api_token_authenticate(*, clear: str, now: dt.datetime | None = None) -> ApiToken | None:
    """The valid token whose clear value is `clear` (its last use recorded), or None."""
    if not clear:
        return None
    token = ApiToken.objects.valid().filter(hash=token_hash(clear)).first()
    if token is None:
        return None
    now = now or timezone.now()
    # One write a minute at most, and a conditional one: concurrent calls do not queue on the row.
    ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_PRECISION)
    ).update(last_used_at=now)
    return token


@transaction.atomic
def api_tokens_revoke(*, ids: list[int], now: dt.datetime | None = None) -> int:
    """Revoke the given tokens not revoked yet; return how many were."""
    return ApiToken.objects.valid().filter(pk__in=ids).update(revoked_at=now or timezone.now())
