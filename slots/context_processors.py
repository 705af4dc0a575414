"""Template context every citizen page gets from the slots app."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def contact(request: HttpRequest) -> dict[str, str]:
    """The operator's contact address (CONTACT_EMAIL), shown in the footer and the privacy section."""
    return {"contact_email": settings.CONTACT_EMAIL}
