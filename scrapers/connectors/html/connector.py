"""A town hall's booking page read with CSS selectors (many small towns publish a plain list of dates).

Source fields: `base_url` is the page URL (text/html); `auth_header`/`token` are sent when set.
Options: see Config (scrapers/connectors/html/config.py). Without a link_selector an <a href> slot element
is its own link; otherwise the town hall's booking_url, then the page itself. Every slot gives one slot per
configured reason.
The page's HTML is parsed in memory only: it is never stored nor returned, errors quote at most a short text.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urljoin

import soupsieve
from bs4 import BeautifulSoup, Tag

from scrapers.connectors.base import (
    SLOT_YEARS,
    FetchResult,
    SlotData,
    TownHallConnector,
    in_window,
    paris,
    parse_iso_datetime,
)
from scrapers.connectors.html.config import Config
from scrapers.fetching.errors import ConnectorError
from scrapers.fetching.http import HTML

_FRENCH_NAMES = {
    "janvier": "January",
    "février": "February",
    "fevrier": "February",
    "mars": "March",
    "avril": "April",
    "mai": "May",
    "juin": "June",
    "juillet": "July",
    "août": "August",
    "aout": "August",
    "septembre": "September",
    "octobre": "October",
    "novembre": "November",
    "décembre": "December",
    "decembre": "December",
    "lundi": "Monday",
    "mardi": "Tuesday",
    "mercredi": "Wednesday",
    "jeudi": "Thursday",
    "vendredi": "Friday",
    "samedi": "Saturday",
    "dimanche": "Sunday",
}
_FRENCH_WORD = re.compile(r"\b(" + "|".join(_FRENCH_NAMES) + r")\b", re.IGNORECASE)
_FIRST_OF_MONTH = re.compile(r"\b1er\b", re.IGNORECASE)


class HtmlConnector(TownHallConnector):
    kind = "html"
    label = "Booking web page read with CSS selectors (one town hall)"
    source_fields = "`base_url`: the page (never stored); `auth_header` and `token` sent when set."
    Config = Config
    config: Config

    def fetch_slots(self, meeting_point_ids: list[str], *, start: dt.date, end: dt.date) -> FetchResult:
        counters = self._start_counters()
        town_hall = self.requested_town_hall(meeting_point_ids)
        if town_hall is None:
            return self._finish(counters, slots=[], covered=set(), errors=[])
        config = self.config
        slot_selector, link_selector, require_selector = (
            config.slot_selector,
            config.link_selector,
            config.require_selector,
        )
        attribute = config.datetime_attribute
        date_format = config.date_format
        pattern = re.compile(config.datetime_pattern) if config.datetime_pattern else None
        reasons = config.reasons
        people_max = config.people_max

        response = self.http.get(self.spec.base_url).expect(HTML)
        soup = BeautifulSoup(response.text, "html.parser")
        try:
            if require_selector and soup.select_one(require_selector) is None:
                raise ConnectorError(
                    f"{response.url} has no element matching require_selector {require_selector!r}: "
                    "the page layout probably changed"
                )
            elements = soup.select(slot_selector)
        except soupsieve.SelectorSyntaxError as exc:
            raise ConnectorError(f"invalid CSS selector in config: {str(exc).splitlines()[0]}") from None

        default_url = town_hall.booking_url or response.url
        slots: dict[tuple[dt.datetime, str], SlotData] = {}
        parse_errors = 0
        example = ""
        for element in elements:
            raw = element.get(attribute) if attribute else element.get_text(" ", strip=True)
            text = " ".join(str(raw or "").split())
            try:
                starts_at = parse_datetime(text, date_format=date_format, pattern=pattern)
            except ValueError:
                parse_errors += 1
                example = example or text[:40]
                continue
            if not in_window(starts_at, start, end):
                continue
            try:
                url = _link(element, link_selector, base=response.url) or default_url
            except soupsieve.SelectorSyntaxError as exc:
                raise ConnectorError(f"invalid link_selector: {str(exc).splitlines()[0]}") from None
            for reason in reasons:
                slots[(starts_at, reason)] = SlotData(
                    meeting_point_id=town_hall.external_id,
                    starts_at=starts_at,
                    reason=reason,
                    people_max=people_max,
                    booking_url=url,
                )
        errors = []
        if parse_errors:
            errors.append(
                f"{parse_errors} slot element(s) could not be read with date_format "
                f"{date_format or 'ISO 8601'!r} and were skipped, e.g. {example!r}"
            )
        return self._finish(
            counters,
            slots=slots.values(),
            covered={town_hall.external_id},
            errors=errors,
            parse_errors=parse_errors,
        )


def parse_datetime(text: str, *, date_format: str, pattern: re.Pattern[str] | None = None) -> dt.datetime:
    """A slot's datetime from its text: cut by `pattern`, read with `date_format` (or ISO), Paris if naive."""
    if pattern is not None:
        match = pattern.search(text)
        if not match:
            raise ValueError("datetime_pattern does not match")
        # An optional first group may match nothing: then there is no datetime to read.
        text = (match.group(1) if match.groups() else match.group(0)) or ""
    if not date_format:
        return parse_iso_datetime(text)
    if any(directive in date_format for directive in ("%B", "%b", "%A", "%a")):
        text = _FIRST_OF_MONTH.sub("1", text)
        text = _FRENCH_WORD.sub(lambda m: _FRENCH_NAMES[m.group(1).lower()], text)
    parsed = dt.datetime.strptime(text, date_format)
    if parsed.year not in SLOT_YEARS:
        # Year 1 or 9999 is a page's bug, and with %z it cannot even be converted to Paris time.
        raise ValueError(f"year {parsed.year} out of range")
    return parsed if parsed.tzinfo else paris(parsed)


def _link(element: Tag, link_selector: str, *, base: str) -> str:
    target: Any = element.select_one(link_selector) if link_selector else element
    if not isinstance(target, Tag) or target.name != "a":
        return ""
    href = str(target.get("href") or "").strip()
    if not href:
        return ""
    try:
        url = urljoin(base, href)
    except ValueError:  # an unbalanced IPv6 bracket: no link
        return ""
    return url if url.startswith(("https://", "http://")) else ""
