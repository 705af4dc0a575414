"""Phone numbers as people write them, and as links."""

from __future__ import annotations

import re


def tel_href(phone: str) -> str:
    """A tel: link for a phone number as people write it ("01 47 15 30 00" → "tel:0147153000")."""
    digits = re.sub(r"[^\d+]", "", phone)
    digits = digits[:1] + digits[1:].replace("+", "")
    return f"tel:{digits}" if len(digits.lstrip("+")) >= 3 else ""
