"""Rates as settings write them: "30/m", "100/h", "10/5m" (ten per five minutes) or "off".

Plain Python (no Django), so that settings can refuse a malformed rate at start-up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Rate:
    limit: int
    window: int  # seconds


def parse_rate(value: str) -> Rate | None:
    """Read "30/m", "100/h" or "10/5m" (ten per five minutes); "off" means no limit."""
    if value.strip().lower() == "off":
        return None
    match = _RATE.match(value)
    if not match:
        raise ValueError(f"Not a rate: {value!r} (expected like 30/m, 100/h, 10/5m or off)")
    count, multiplier, unit = match.groups()
    window = int(multiplier or 1) * _UNIT_SECONDS[unit]
    if window == 0:  # "10/0m": a window of no time at all would divide by zero on every request
        raise ValueError(f"Not a rate: {value!r} (the period must be longer than zero)")
    return Rate(limit=int(count), window=window)
