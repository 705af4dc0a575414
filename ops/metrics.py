"""Prometheus metrics: what the database says about sources, runs, slots and town halls, plus search latency.

The database figures are computed when /metrics is scraped (a handful of aggregate queries). The search
latency histogram is observed in-process by SearchLatencyMiddleware, labelled by the URL name of the view
that answered (so a change of path in slots/urls.py keeps its series); under gunicorn, whose workers are
separate processes, set PROMETHEUS_MULTIPROC_DIR (docker/gunicorn.conf.py does) so every worker's
observations are added up.
"""

from __future__ import annotations

import datetime as dt
import hmac
import ipaddress
import os
import time
from collections.abc import Callable, Iterable, Iterator

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from prometheus_client import REGISTRY, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from alerts.models import Alert, AlertEmail, EmailTally
from ops.health import beat_heartbeat
from rdvpasseport.ratelimit import client_ip
from scrapers.models import ScrapeRun, Source, SourceHealth
from slots.models import Reason, Slot, TownHall

SEARCH_LATENCY = Histogram(
    "rdvpasseport_search_latency_seconds",
    "Time to answer a search, from the rate limit to the rendered response.",
    ["endpoint"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)

# The views whose latency is observed, by URL name: the value of the "endpoint" label.
SEARCH_VIEWS = frozenset({"slots:search", "slots:api_search"})


class SearchLatencyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # The view is only known once the handler has resolved the URL, inside get_response: every request
        # is timed, and only the search views' times are kept.
        started = time.perf_counter()
        try:
            return self.get_response(request)
        finally:
            match = getattr(request, "resolver_match", None)
            if match is not None and match.view_name in SEARCH_VIEWS:
                SEARCH_LATENCY.labels(endpoint=match.view_name).observe(time.perf_counter() - started)


class DatabaseCollector:
    """Figures read from the database at scrape time."""

    def collect(self) -> Iterator[Metric]:
        now = timezone.now()
        yield from self._runs(now)
        yield from self._sources(now)
        yield from self._slots(now)
        yield from self._town_halls(now)
        yield from self._beat(now)
        yield from self._alerts()

    def _runs(self, now: dt.datetime) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "rdvpasseport_scrape_runs_last_24h",
            "Scrape runs started in the last 24 hours, by status.",
            labels=["status"],
        )
        counts = dict(
            ScrapeRun.objects.filter(started_at__gte=now - dt.timedelta(hours=24))
            .values_list("status")
            .annotate(n=Count("id"))
            .values_list("status", "n")
        )
        for status in ScrapeRun.Status.values:
            family.add_metric([status], counts.get(status, 0))
        yield family

    def _sources(self, now: dt.datetime) -> Iterator[Metric]:
        age = GaugeMetricFamily(
            "rdvpasseport_source_data_age_seconds",
            "Seconds since the last successful scrape of each enabled source (absent if it never succeeded).",
            labels=["source", "kind"],
        )
        failures = GaugeMetricFamily(
            "rdvpasseport_source_consecutive_failures",
            "Failed runs in a row of each enabled source.",
            labels=["source", "kind"],
        )
        states = GaugeMetricFamily(
            "rdvpasseport_sources",
            "Sources by state: enabled (and not paused), paused, disabled; failing, error and stale as in the "
            "admin's Health column (active sources only).",
            labels=["state"],
        )
        tally = {"enabled": 0, "paused": 0, "disabled": 0, "failing": 0, "error": 0, "stale": 0}
        for source in Source.objects.with_health(now).only(
            "name", "kind", "enabled", "paused", "last_success_at", "consecutive_failures"
        ):
            if not source.enabled:
                tally["disabled"] += 1
                continue
            tally["paused" if source.paused else "enabled"] += 1
            if source.health in (SourceHealth.FAILING, SourceHealth.ERROR, SourceHealth.STALE):
                tally[source.health] += 1
            labels = [source.name, source.kind]
            failures.add_metric(labels, source.consecutive_failures)
            if source.last_success_at is not None:
                age.add_metric(labels, (now - source.last_success_at).total_seconds())
        for state, value in tally.items():
            states.add_metric([state], value)
        yield from (age, failures, states)

    def _slots(self, now: dt.datetime) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            "rdvpasseport_slots_upcoming", "Free slots still to come, by reason.", labels=["reason"]
        )
        counts = dict(
            Slot.objects.upcoming(now)
            .values_list("reason")
            .annotate(n=Count("id"))
            .values_list("reason", "n")
        )
        for reason in Reason.values:
            family.add_metric([reason], counts.get(reason, 0))
        yield family

    def _town_halls(self, now: dt.datetime) -> Iterator[Metric]:
        family = GaugeMetricFamily("rdvpasseport_town_halls", "Town halls by state.", labels=["state"])
        # Aliases must not be field names ("active" is one), hence the prefix.
        counts = TownHall.objects.aggregate(
            state_total=Count("id"),
            state_active=Count("id", filter=Q(active=True)),
            state_online_booking=Count("id", filter=Q(active=True, online_booking=True)),
            state_stale=Count("id", filter=Q(active=True, online_booking=True, stale_at__lte=now)),
        )
        for alias, value in counts.items():
            family.add_metric([alias.removeprefix("state_")], value)
        yield family

    def _beat(self, now: dt.datetime) -> Iterator[Metric]:
        heartbeat = beat_heartbeat()
        if heartbeat is not None:
            yield GaugeMetricFamily(
                "rdvpasseport_beat_heartbeat_age_seconds",
                "Seconds since a worker last ran the heartbeat task that beat sends every minute.",
                value=(now - heartbeat).total_seconds(),
            )

    def _alerts(self) -> Iterator[Metric]:
        # Counts only: no address, no search.
        states = GaugeMetricFamily("rdvpasseport_alerts", "Email alerts by state.", labels=["state"])
        counts = dict(
            Alert.objects.order_by().values_list("state").annotate(n=Count("id")).values_list("state", "n")
        )
        for state in Alert.State.values:
            states.add_metric([state], counts.get(state, 0))
        yield states
        emails = CounterMetricFamily(
            "rdvpasseport_alert_emails",
            "Alert emails sent or failed (after their retries), by kind, since the service started counting.",
            labels=["kind", "status"],
        )
        totals = {
            (kind, status): total
            for kind, status, total in EmailTally.objects.order_by()
            .values_list("kind", "status")
            .annotate(total=Sum("count"))
            .values_list("kind", "status", "total")
        }
        for kind in AlertEmail.Kind.values:
            for status in (AlertEmail.Status.SENT, AlertEmail.Status.FAILED):
                emails.add_metric([kind, status], totals.get((kind, status), 0))
        yield emails


class _Collectors:
    """What generate_latest needs: something with collect()."""

    def __init__(self, collectors: Iterable[object]) -> None:
        self.collectors = list(collectors)

    def collect(self) -> Iterator[Metric]:
        for collector in self.collectors:
            yield from collector.collect()  # type: ignore[attr-defined]


def metrics_exposition() -> bytes:
    """The Prometheus text exposition of every metric of this process (or of all gunicorn workers)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        process_metrics = CollectorRegistry()
        MultiProcessCollector(process_metrics)
    else:
        process_metrics = REGISTRY
    return generate_latest(_Collectors([process_metrics, DatabaseCollector()]))  # type: ignore[arg-type]


def metrics_allowed(request: HttpRequest) -> bool | None:
    """True with the right bearer token or from an allowed network; None when /metrics is turned off."""
    token = settings.METRICS_TOKEN
    networks = settings.METRICS_ALLOWED_NETWORKS
    if not token and not networks:
        return None
    if token:
        scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(), token.encode()):
            return True
    try:
        address = ipaddress.ip_address(client_ip(request))
    except ValueError:
        return False
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in ipaddress.ip_network(network, strict=False) for network in networks)
