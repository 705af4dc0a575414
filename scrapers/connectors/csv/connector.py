"""An open-data CSV file of free slots, for one or several town halls.

Layout (documented for town halls that publish one): a header row, then one row per free slot:

    town_hall_id,date,time,reason,people_max,booking_url
    clichy,2026-12-01,09:00,CNI,2,https://rdv.ville-clichy.fr/creneau/123
    clichy,01/12/2026,09:30,,,

- `date`: YYYY-MM-DD or DD/MM/YYYY; `time`: HH:MM (Paris time);
- `reason`: CNI, PASSPORT or CNI-PASSPORT (PASSEPORT is accepted); empty = every configured reason;
- `people_max` (optional): how many people the slot takes; `booking_url` (optional): the slot's own link;
- `town_hall_id` may be left out when the source has a single town hall;
- the delimiter (`,` or `;`) is sniffed from the header; UTF-8 with or without a byte-order mark.

Source fields: `base_url` is the file's URL (text/csv or text/plain); `auth_header`/`token` sent when set.
Options: see Config (scrapers/connectors/csv/config.py): `town_hall` or `town_halls` (a town hall's
booking_url is the link of a slot without its own), `reasons` (those of a row whose reason is empty).
A row that cannot be read (bad date, unknown town hall, unknown reason...) is skipped and counted.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from collections.abc import Iterator

from scrapers.connectors.base import (
    FetchResult,
    MeetingPointData,
    SlotData,
    TownHallConnector,
    in_window,
    paris,
)
from scrapers.connectors.csv.config import Config
from scrapers.fetching.errors import ConnectorError
from scrapers.fetching.http import CSV
from slots.reasons import REASONS

REQUIRED_COLUMNS = ("date", "time")
KNOWN_COLUMNS = ("town_hall_id", "date", "time", "reason", "people_max", "booking_url")
_REASON_ALIASES = {"PASSEPORT": "PASSPORT", "CNI-PASSEPORT": "CNI-PASSPORT", "CNI+PASSPORT": "CNI-PASSPORT"}


class CsvConnector(TownHallConnector):
    kind = "csv"
    label = "CSV open-data file of free slots"
    source_fields = "`base_url`: the file; `auth_header` and `token` sent when set."
    Config = Config
    config: Config

    def fetch_slots(self, meeting_point_ids: list[str], *, start: dt.date, end: dt.date) -> FetchResult:
        counters = self._start_counters()
        town_halls = {t.external_id: t for t in self.town_halls()}
        wanted = {str(i) for i in meeting_point_ids} & set(town_halls)
        if not wanted:
            return self._finish(counters, slots=[], covered=set(), errors=[])
        default_reasons = self.config.reasons

        response = self.http.get(self.spec.base_url).expect(CSV)
        rows = _rows(response.text, where=response.url)
        if "town_hall_id" not in (rows.fieldnames or []) and len(town_halls) > 1:
            raise ConnectorError(
                f"{response.url} has no town_hall_id column "
                f"but the source configures {len(town_halls)} town halls"
            )

        slots: dict[tuple[str, dt.datetime, str], SlotData] = {}
        problems: Counter[str] = Counter()
        only = next(iter(town_halls)) if len(town_halls) == 1 else None
        for row in _checked(rows, where=response.url):
            try:
                town_hall, starts_at, reasons, people_max, url = _read_row(
                    row, town_halls=town_halls, only=only, default_reasons=default_reasons
                )
            except ValueError as exc:
                problems[str(exc)] += 1
                continue
            if town_hall.external_id not in wanted or not in_window(starts_at, start, end):
                continue
            for reason in reasons:
                slots[(town_hall.external_id, starts_at, reason)] = SlotData(
                    meeting_point_id=town_hall.external_id,
                    starts_at=starts_at,
                    reason=reason,
                    people_max=people_max,
                    booking_url=url or town_hall.booking_url or town_hall.website,
                )
        parse_errors = sum(problems.values())
        errors = [f"{count} row(s) skipped: {problem}" for problem, count in problems.most_common(5)]
        return self._finish(
            counters,
            slots=slots.values(),
            covered=wanted,
            errors=errors,
            parse_errors=parse_errors,
        )


def _rows(text: str, *, where: str) -> csv.DictReader[str]:
    text = text.lstrip("\ufeff")
    header = text.split("\n", 1)[0]
    if not header.strip():
        raise ConnectorError(f"{where} is empty: a header row is expected ({','.join(KNOWN_COLUMNS)})")
    delimiter = ";" if header.count(";") > header.count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header_names = reader.fieldnames or []
    except csv.Error as exc:  # the header row is read here, under the same strict rules as the others
        raise ConnectorError(f"{where} is not a readable CSV file (header row): {exc}") from None
    fieldnames = [name.strip().lower() for name in header_names]
    reader.fieldnames = fieldnames
    missing = [column for column in REQUIRED_COLUMNS if column not in fieldnames]
    if missing:
        raise ConnectorError(
            f"{where} lacks the column(s) {', '.join(missing)}; expected header {','.join(KNOWN_COLUMNS)}"
        )
    return reader


def _checked(rows: csv.DictReader[str], *, where: str) -> Iterator[dict[str, str | None]]:
    try:
        yield from rows
    except csv.Error as exc:
        raise ConnectorError(
            f"{where} is not a readable CSV file (line {rows.line_num + 1}): {exc}"
        ) from None


def _read_row(
    row: dict[str, str | None],
    *,
    town_halls: dict[str, MeetingPointData],
    only: str | None,
    default_reasons: list[str],
) -> tuple[MeetingPointData, dt.datetime, list[str], int | None, str]:
    def cell(name: str) -> str:
        value = row.get(name)
        return value.strip() if isinstance(value, str) else ""

    town_hall_id = cell("town_hall_id") or (only or "")
    if town_hall_id not in town_halls:
        raise ValueError(f"unknown town_hall_id {town_hall_id[:40]!r}")
    day = _date(cell("date"))
    try:
        time = dt.datetime.strptime(cell("time"), "%H:%M").time()
    except ValueError:
        raise ValueError(f"time {cell('time')[:20]!r} is not HH:MM") from None
    raw_reason = cell("reason").upper()
    raw_reason = _REASON_ALIASES.get(raw_reason, raw_reason)
    if raw_reason and raw_reason not in REASONS:
        raise ValueError(f"unknown reason {cell('reason')[:20]!r}")
    reasons = [raw_reason] if raw_reason else default_reasons
    people_max: int | None = None
    if cell("people_max"):
        if not cell("people_max").isdigit() or not 1 <= int(cell("people_max")) <= 20:
            raise ValueError(f"people_max {cell('people_max')[:10]!r} is not a number from 1 to 20")
        people_max = int(cell("people_max"))
    url = cell("booking_url")
    if url and not url.startswith(("https://", "http://")):
        raise ValueError(f"booking_url {url[:40]!r} is not an http(s) URL")
    return town_halls[town_hall_id], paris(dt.datetime.combine(day, time)), reasons, people_max, url


def _date(value: str) -> dt.date:
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"date {value[:20]!r} is neither YYYY-MM-DD nor DD/MM/YYYY")
