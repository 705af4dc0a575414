"""Facts about France the whole project shares: its time zone, how INSEE writes codes, the default scope.

Plain Python (no Django, no I/O), so that settings may import it.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

# Every slot is shown, and every day counted, in Paris time (Metropolitan France: one time zone).
PARIS = ZoneInfo("Europe/Paris")

# Codes as INSEE writes them: five digits, or 2A/2B and three digits for Corsica's communes; two digits,
# three for overseas, or 2A/2B for departments. Either case is accepted: callers upper-case before a lookup.
INSEE_CODE = re.compile(r"^(?:\d{5}|2[AB]\d{3})$", re.IGNORECASE)
DEPARTMENT_CODE = re.compile(r"^(?:\d{2,3}|2[AB])$", re.IGNORECASE)

ILE_DE_FRANCE = ("75", "77", "78", "91", "92", "93", "94", "95")
# The former Rhône-Alpes region (now part of Auvergne-Rhône-Alpes).
RHONE_ALPES = ("01", "07", "26", "38", "42", "69", "73", "74")
# The departments imported when none is named (settings.DEFAULT_DEPARTMENTS, from the environment, wins).
DEFAULT_DEPARTMENTS = (*ILE_DE_FRANCE, *RHONE_ALPES)
