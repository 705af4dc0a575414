"""Alerts: subscribing, matching new slots after an ingestion run, sending the emails, ending alerts.

Matching follows the town halls that changed, not the number of alerts: each town hall looks up its grid
cell in the indexed AlertCell table, which lists the alerts whose area touches that cell; the exact
distance and the new slots are then checked for those alerts only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import smtplib
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import BooleanField, Case, ExpressionWrapper, F, Max, Q, Value, When
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from alerts.models import Alert, AlertCell, AlertEmail, EmailTally, cell_of
from communes.geo import haversine_km
from communes.geocoding import GeocodingError, commune_point, geocode
from communes.models import Commune
from slots.forms import SearchForm
from slots.models import Reason, Slot, TownHall
from slots.search import SearchResult, paris_day_start, town_halls_search

logger = logging.getLogger(__name__)

# How long a confirmation or management link works.
LINK_MAX_AGE = dt.timedelta(hours=48)
# Unconfirmed alerts are deleted after this.
PENDING_MAX_AGE = dt.timedelta(hours=48)
# A queued email still unsent after this (its task lost, all retries long over) is queued again.
STUCK_AFTER = dt.timedelta(hours=3)
# Town halls listed in an alert email.
TOWN_HALLS_PER_EMAIL = 5

CONFIRM_SALT = "alerts.confirm"
MANAGE_SALT = "alerts.manage"
UNSUBSCRIBE_SALT = "alerts.unsubscribe"

# What a failed send may raise, retried by the task with backoff.
SEND_ERRORS: tuple[type[BaseException], ...] = (smtplib.SMTPException, OSError)


def email_key(address: str) -> str:
    """A keyed hash of the normalised address: the same address gives the same key, nobody can reverse it."""
    normalised = address.strip().lower().encode()
    return hmac.new(settings.SECRET_KEY.encode(), b"alerts:" + normalised, hashlib.sha256).hexdigest()


# --- Signed links ---------------------------------------------------------------------------------------------


def confirm_token(alert: Alert) -> str:
    return signing.dumps(alert.pk, salt=CONFIRM_SALT)


def manage_token(key: str) -> str:
    return signing.dumps(key, salt=MANAGE_SALT)


def unsubscribe_token(alert: Alert) -> str:
    # No expiry: a one-click unsubscribe must work for as long as the alert sends emails.
    return signing.dumps(alert.pk, salt=UNSUBSCRIBE_SALT)


def confirm_token_read(token: str) -> int | None:
    try:
        return int(signing.loads(token, salt=CONFIRM_SALT, max_age=LINK_MAX_AGE))
    except (signing.BadSignature, TypeError, ValueError):
        return None


def manage_token_read(token: str) -> str | None:
    try:
        return str(signing.loads(token, salt=MANAGE_SALT, max_age=LINK_MAX_AGE))
    except signing.BadSignature:
        return None


def unsubscribe_token_read(token: str) -> int | None:
    try:
        return int(signing.loads(token, salt=UNSUBSCRIBE_SALT))
    except (signing.BadSignature, TypeError, ValueError):
        return None


def site_url(path: str, params: dict[str, str] | None = None) -> str:
    return f"{settings.SITE_URL}{path}" + (f"?{urlencode(params)}" if params else "")


# --- Subscribing ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Origin:
    lat: float
    lon: float
    place: str
    insee: str = ""


class PlaceError(Exception):
    """The search names no place the alert can start from; the message is for the citizen."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def origin_resolve(form: SearchForm) -> Origin:
    """Where the valid search `form` starts from: the position, the commune picked, or what was typed."""
    if position := form.position:
        return Origin(lat=position[0], lon=position[1], place=gettext("votre position"))
    text, insee = form.cleaned_data["q"].strip(), form.cleaned_data["insee"]
    if insee:
        commune = Commune.objects.filter(insee=insee).first()
        point = commune_point(commune) if commune is not None else None
        if commune is not None and point is not None:
            return Origin(lat=point[0], lon=point[1], place=commune.name, insee=commune.insee)
    if not text:
        raise PlaceError(
            gettext("Saisissez un code postal ou le nom d’une commune, ou bien utilisez « Autour de moi ».")
        )
    try:
        geocoded = geocode(text)
    except GeocodingError as exc:
        raise PlaceError(exc.message) from exc
    if geocoded.ambiguous:
        raise PlaceError(gettext("Plusieurs communes portent ce nom : choisissez-en une dans la recherche."))
    place = geocoded.places[0]
    return Origin(lat=place.lat, lon=place.lon, place=place.commune.name, insee=place.commune.insee)


def alert_subscribe(*, email: str, form: SearchForm, origin: Origin, language: str) -> Alert:
    """Record a pending alert and queue its confirmation email (sent after commit)."""
    now = timezone.now()
    with transaction.atomic():
        alert = Alert(
            email=email.strip(),
            email_key=email_key(email),
            language=language,
            place=origin.place[:150],
            query=form.cleaned_data["q"].strip(),
            insee=origin.insee,
            lat=origin.lat,
            lon=origin.lon,
            radius_km=form.cleaned_data["rayon"],
            reason=form.reason,
            people=form.cleaned_data["personnes"],
            before=form.cleaned_data["avant"],
            created_at=now,
        )
        alert.set_area()
        alert.save()
        AlertCell.objects.bulk_create([AlertCell(alert=alert, cell=cell) for cell in alert.cells()])
        queued = AlertEmail.objects.create(alert=alert, kind=AlertEmail.Kind.CONFIRM, created_at=now)
        _enqueue_after_commit([queued.pk])
    return alert


def alert_confirm(*, alert_id: int, now: dt.datetime | None = None) -> Alert | None:
    """Turn a pending alert on (the slots known now are not news); None when it no longer exists."""
    now = now or timezone.now()
    updated = Alert.objects.filter(pk=alert_id, state=Alert.State.PENDING).update(
        state=Alert.State.ACTIVE, confirmed_at=now, seen_until=now
    )
    alert = Alert.objects.filter(pk=alert_id).first()
    if updated:
        logger.info("Alert %s confirmed", alert_id)
    return alert


def manage_link_request(*, email: str) -> bool:
    """Send the address its management link if it has alerts (the caller answers the same either way)."""
    alert = Alert.objects.for_email_key(email_key(email)).exclude(state=Alert.State.ENDING).first()
    if alert is None:
        return False
    with transaction.atomic():
        queued = AlertEmail.objects.create(alert=alert, kind=AlertEmail.Kind.MANAGE)
        _enqueue_after_commit([queued.pk])
    return True


def alert_pause(*, alert: Alert, paused: bool, now: dt.datetime | None = None) -> None:
    """Pause an active alert, or resume a paused one (slots seen while paused are not news)."""
    now = now or timezone.now()
    if paused:
        Alert.objects.filter(pk=alert.pk, state=Alert.State.ACTIVE).update(state=Alert.State.PAUSED)
    else:
        Alert.objects.filter(pk=alert.pk, state=Alert.State.PAUSED).update(
            state=Alert.State.ACTIVE, seen_until=now
        )


def alert_delete(*, alert_id: int) -> bool:
    """Delete an alert and everything of it (its cells and send history)."""
    deleted, _ = Alert.objects.filter(pk=alert_id).delete()
    if deleted:
        logger.info("Alert %s deleted", alert_id)
    return bool(deleted)


# --- Matching -------------------------------------------------------------------------------------------------


def _enqueue_after_commit(email_ids: list[int]) -> None:
    """Send these queued emails through the worker once the transaction that queued them commits."""
    # Imported here: the tasks module imports this one.
    from alerts.tasks import alert_emails_enqueue

    if email_ids:
        transaction.on_commit(lambda: alert_emails_enqueue(email_ids=email_ids), robust=True)


@dataclass(frozen=True)
class MatchSummary:
    """`candidates`: the alerts whose area holds a town hall that changed, with slots newer than their last
    email; `matched`: of those, the ones with a new slot of their search; `due`: of those, the ones their
    throttle lets through (handed to `enqueue`)."""

    town_halls: int
    candidates: int
    matched: int
    due: int


@dataclass(frozen=True)
class _NewSlot:
    starts_at: dt.datetime
    people_max: int | None
    first_seen: dt.datetime


# Alerts per notify task: the claim and the send rows of a batch cost a few queries.
NOTIFY_BATCH = 200


def alerts_match(
    *,
    town_hall_ids: Iterable[int],
    now: dt.datetime | None = None,
    enqueue: Callable[[list[int]], None] | None = None,
) -> MatchSummary:
    """Find the active alerts with a slot first seen since their last email at these town halls.

    Reads only, in four queries whatever the number of alerts: the town halls, their newest slot, the
    alerts filed under their grid cells whose area holds one of them (with their throttle), and the slots
    newer than the oldest of their last emails. The alerts due
    an email (their throttle checked here, and again by the claim) go to `enqueue` in batches, by default
    the alerts_notify task after commit. Throttled alerts keep their news for a later run.
    """
    now = now or timezone.now()
    ids = list(town_hall_ids)
    town_halls = list(
        TownHall.objects.active()
        .filter(pk__in=ids)
        .values_list("pk", "lat", "lon", "takes_cni", "takes_passport")
    )
    newest = (
        Slot.objects.filter(town_hall_id__in=[row[0] for row in town_halls])
        .upcoming(now)
        .order_by()
        .aggregate(newest=Max("first_seen"))["newest"]
    )
    if newest is None:
        return MatchSummary(town_halls=len(town_halls), candidates=0, matched=0, due=0)
    by_cell: dict[int, list[tuple]] = defaultdict(list)
    area = Q()
    for row in town_halls:
        cell = cell_of(row[1], row[2])
        by_cell[cell].append(row)
        area |= Q(
            cell=cell,
            alert__min_lat__lte=row[1],
            alert__max_lat__gte=row[1],
            alert__min_lon__lte=row[2],
            alert__max_lon__gte=row[2],
        )
    # An alert whose last email is newer than every slot here has nothing to learn from this run. The
    # throttle is evaluated by the database: one boolean a row instead of two dates to read.
    today = timezone.localdate(now)
    throttled = Q(alert__day_sent=today, alert__day_count__gte=settings.ALERT_DAILY_CAP)
    if settings.ALERT_MIN_INTERVAL_MINUTES:
        throttled |= Q(
            alert__last_sent_at__gt=now - dt.timedelta(minutes=settings.ALERT_MIN_INTERVAL_MINUTES)
        )
    rows = (
        AlertCell.objects.filter(area, alert__state=Alert.State.ACTIVE, alert__seen_until__lt=newest)
        .annotate(throttled=ExpressionWrapper(throttled, output_field=BooleanField()))
        .values_list(
            "cell",
            "alert_id",
            "alert__lat",
            "alert__lon",
            "alert__radius_km",
            "alert__reason",
            "alert__people",
            "alert__before",
            "alert__seen_until",
            "throttled",
        )
    )
    # (alert, town hall) pairs within the alert's radius, for town halls taking the alert's reason.
    pairs: dict[int, tuple[tuple, list[int]]] = {}
    for cell, alert_id, lat, lon, radius, reason, *params in rows:
        for th_id, th_lat, th_lon, takes_cni, takes_passport in by_cell[cell]:
            if _takes(reason, takes_cni, takes_passport) and haversine_km(lat, lon, th_lat, th_lon) <= radius:
                pairs.setdefault(alert_id, ((reason, *params), []))[1].append(th_id)
    if not pairs:
        return MatchSummary(town_halls=len(town_halls), candidates=0, matched=0, due=0)

    oldest = min(params[3] for params, _ in pairs.values())
    new_slots: dict[tuple[int, str], list[_NewSlot]] = defaultdict(list)
    for th_id, reason, starts_at, people_max, first_seen in (
        Slot.objects.filter(town_hall_id__in=[row[0] for row in town_halls], first_seen__gt=oldest)
        .upcoming(now)
        .order_by("-first_seen")
        .values_list("town_hall_id", "reason", "starts_at", "people_max", "first_seen")
    ):
        new_slots[(th_id, reason)].append(_NewSlot(starts_at, people_max, first_seen))

    matched = []
    due = []
    for alert_id, ((reason, people, before, seen_until, is_throttled), th_ids) in pairs.items():
        if any(
            _has_news(new_slots.get((th_id, reason), ()), people=people, before=before, seen_until=seen_until)
            for th_id in th_ids
        ):
            matched.append(alert_id)
            if not is_throttled:
                due.append(alert_id)
    due.sort()
    enqueue = enqueue or _notify_after_commit
    for start in range(0, len(due), NOTIFY_BATCH):
        enqueue(due[start : start + NOTIFY_BATCH])
    summary = MatchSummary(
        town_halls=len(town_halls), candidates=len(pairs), matched=len(matched), due=len(due)
    )
    logger.info(
        "Alerts matched: %d town halls, %d candidate alerts, %d with news, %d due an email",
        summary.town_halls,
        summary.candidates,
        summary.matched,
        summary.due,
    )
    return summary


def _notify_after_commit(alert_ids: list[int]) -> None:
    from alerts.tasks import alerts_notify_enqueue  # the tasks module imports this one

    transaction.on_commit(lambda: alerts_notify_enqueue(alert_ids=alert_ids), robust=True)


def _takes(reason: str, takes_cni: bool, takes_passport: bool) -> bool:
    if reason == Reason.CNI:
        return takes_cni
    if reason == Reason.PASSPORT:
        return takes_passport
    return takes_cni and takes_passport


def _has_news(
    slots: Iterable[_NewSlot], *, people: int, before: dt.date | None, seen_until: dt.datetime | None
) -> bool:
    end = paris_day_start(before + dt.timedelta(days=1)) if before else None
    for slot in slots:  # newest first
        if seen_until is not None and slot.first_seen <= seen_until:
            return False
        if (end is None or slot.starts_at < end) and (slot.people_max is None or slot.people_max >= people):
            return True
    return False


def alerts_notify(
    *, alert_ids: list[int], now: dt.datetime | None = None, enqueue_sends: bool = True
) -> list[int]:
    """Claim the alerts still due an email (throttle and daily cap), record their sends, send after commit.

    Safe to run twice: the claim is a conditional update, and an alert claimed by another worker, or whose
    throttle closed meanwhile, is left out. Returns the ids of the emails queued.
    """
    if not alert_ids:
        return []
    now = now or timezone.now()
    today = timezone.localdate(now)
    due = Q()
    if settings.ALERT_MIN_INTERVAL_MINUTES:
        due = Q(last_sent_at__isnull=True) | Q(
            last_sent_at__lte=now - dt.timedelta(minutes=settings.ALERT_MIN_INTERVAL_MINUTES)
        )
    under_cap = ~Q(day_sent=today) | Q(day_count__lt=settings.ALERT_DAILY_CAP)
    with transaction.atomic():
        claimed = list(
            Alert.objects.select_for_update(skip_locked=True)
            .filter(pk__in=alert_ids, state=Alert.State.ACTIVE)
            .filter(due, under_cap)
            .values_list("pk", flat=True)
        )
        if not claimed:
            return []
        Alert.objects.filter(pk__in=claimed).update(
            last_sent_at=now,
            seen_until=now,
            emails_sent=F("emails_sent") + 1,
            day_count=Case(When(day_sent=today, then=F("day_count") + 1), default=Value(1)),
            day_sent=today,
        )
        sends = AlertEmail.objects.bulk_create(
            [AlertEmail(alert_id=pk, kind=AlertEmail.Kind.MATCH, created_at=now) for pk in claimed]
        )
        send_ids = [send.pk for send in sends]
        if enqueue_sends:
            _enqueue_after_commit(send_ids)
    return send_ids


# --- Ending ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExpirySummary:
    pending_deleted: int
    ended: int
    requeued: int


def alerts_expire(*, now: dt.datetime | None = None) -> ExpirySummary:
    """Delete unconfirmed alerts after 48 hours; end those past their date or ALERT_MAX_DAYS (last email)."""
    now = now or timezone.now()
    _, deleted = Alert.objects.filter(
        state=Alert.State.PENDING, created_at__lte=now - PENDING_MAX_AGE
    ).delete()
    pending_deleted = deleted.get(Alert._meta.label, 0)
    today = timezone.localdate(now)
    limit = now - dt.timedelta(days=settings.ALERT_MAX_DAYS)
    ending = Alert.objects.filter(state__in=[Alert.State.ACTIVE, Alert.State.PAUSED]).filter(
        Q(before__lt=today) | Q(confirmed_at__lte=limit)
    )
    with transaction.atomic():
        ids = list(ending.select_for_update(skip_locked=True).values_list("pk", flat=True))
        Alert.objects.filter(pk__in=ids).update(state=Alert.State.ENDING)
        sends = AlertEmail.objects.bulk_create(
            [AlertEmail(alert_id=pk, kind=AlertEmail.Kind.ENDED, created_at=now) for pk in ids]
        )
        _enqueue_after_commit([send.pk for send in sends])
    # Emails whose task never reached the broker (an outage) and that no retry still holds.
    stuck = list(
        AlertEmail.objects.filter(
            status=AlertEmail.Status.QUEUED, created_at__lte=now - STUCK_AFTER
        ).values_list("pk", flat=True)[:1000]
    )
    if stuck:
        with transaction.atomic():
            _enqueue_after_commit(stuck)
    if pending_deleted or ids or stuck:
        logger.info(
            "Alerts: %d unconfirmed deleted, %d ended, %d emails queued again",
            pending_deleted,
            len(ids),
            len(stuck),
        )
    return ExpirySummary(pending_deleted=pending_deleted, ended=len(ids), requeued=len(stuck))


# --- Sending --------------------------------------------------------------------------------------------------


class SendFailed(Exception):
    """A send failed and may be retried."""


def alert_email_send(*, email_id: int, last_attempt: bool = True, now: dt.datetime | None = None) -> str:
    """Build and send one queued email; return its status ("gone" when the alert was deleted meanwhile).

    Raises SendFailed when the mail server refused or did not answer and `last_attempt` is false, for the
    task to retry. An alert's last email (its end, or its ALERT_MAX_EMAILS-th) deletes it once sent.
    """
    now = now or timezone.now()
    send = AlertEmail.objects.select_related("alert").filter(pk=email_id).first()
    if send is None:
        return "gone"
    if send.status != AlertEmail.Status.QUEUED:
        return send.status
    alert = send.alert
    with translation.override(alert.language or "fr"):
        message, town_halls = _message(send=send, alert=alert, now=now)
    if message is None:
        _record(send, status=AlertEmail.Status.SKIPPED, now=now)
        return AlertEmail.Status.SKIPPED
    send.attempts += 1
    try:
        message.send()
    except SEND_ERRORS as exc:
        # The exception's text may quote the recipient: only its class is kept.
        send.error = f"{type(exc).__name__} (attempt {send.attempts})"
        logger.warning("Alert email %s not sent: %s", send.pk, type(exc).__name__)
        if not last_attempt:
            send.save(update_fields=["attempts", "error"])
            raise SendFailed(send.error) from exc
        _record(send, status=AlertEmail.Status.FAILED, now=now)
        _end_if_last(send=send, alert=alert)
        return AlertEmail.Status.FAILED
    send.town_halls = town_halls
    _record(send, status=AlertEmail.Status.SENT, now=now)
    _end_if_last(send=send, alert=alert)
    return AlertEmail.Status.SENT


def _record(send: AlertEmail, *, status: str, now: dt.datetime) -> None:
    send.status = status
    if status == AlertEmail.Status.SENT:
        send.sent_at = now
        send.error = ""
    send.save(update_fields=["status", "sent_at", "attempts", "town_halls", "error"])
    if status in (AlertEmail.Status.SENT, AlertEmail.Status.FAILED):
        tally, _ = EmailTally.objects.get_or_create(
            day=timezone.localdate(now), kind=send.kind, status=status
        )
        EmailTally.objects.filter(pk=tally.pk).update(count=F("count") + 1)


def _is_last(send: AlertEmail, alert: Alert) -> bool:
    if send.kind == AlertEmail.Kind.ENDED:
        return True
    return send.kind == AlertEmail.Kind.MATCH and alert.emails_sent >= settings.ALERT_MAX_EMAILS


def _end_if_last(*, send: AlertEmail, alert: Alert) -> None:
    if _is_last(send, alert):
        alert_delete(alert_id=alert.pk)


def _links(alert: Alert) -> dict[str, str]:
    return {
        "manage_url": site_url(reverse("alerts:manage", args=[manage_token(alert.email_key)])),
        "unsubscribe_url": site_url(reverse("alerts:unsubscribe", args=[unsubscribe_token(alert)])),
        "search_url": site_url(reverse("slots:search"), alert.search_params()),
        "renew_url": site_url(reverse("alerts:subscribe"), alert.search_params()),
        "site_url": settings.SITE_URL,
    }


def _message(
    *, send: AlertEmail, alert: Alert, now: dt.datetime
) -> tuple[EmailMultiAlternatives | None, int]:
    context: dict[str, object] = {"alert": alert, **_links(alert)}
    results: list[SearchResult] = []
    if send.kind == AlertEmail.Kind.CONFIRM:
        context["confirm_url"] = site_url(reverse("alerts:confirm", args=[confirm_token(alert)]))
        subject = gettext("Confirmez votre alerte rdvpasseport")
    elif send.kind == AlertEmail.Kind.MANAGE:
        subject = gettext("Vos alertes rdvpasseport")
    elif send.kind == AlertEmail.Kind.ENDED:
        subject = gettext("Votre alerte rdvpasseport est terminée")
    else:
        results = [
            result
            for result in town_halls_search(
                lat=alert.lat,
                lon=alert.lon,
                radius_km=alert.radius_km,
                reason=alert.reason,
                people=alert.people,
                end_date=alert.before,
                now=now,
            )
            if result.has_slot
        ][:TOWN_HALLS_PER_EMAIL]
        if not results:
            return None, 0
        context.update(results=results, last=_is_last(send, alert))
        subject = gettext("Nouveaux créneaux près de %(place)s") % {"place": alert.place}
    template = f"alerts/email/{send.kind}"
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{template}.txt", context),
        to=[alert.email],
        headers=_headers(alert, kind=send.kind, links=context),
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    return message, len(results)


def _headers(alert: Alert, *, kind: str, links: dict[str, object]) -> dict[str, str]:
    headers = {"Auto-Submitted": "auto-generated"}
    if kind in (AlertEmail.Kind.MATCH, AlertEmail.Kind.ENDED, AlertEmail.Kind.MANAGE):
        # RFC 8058: mail clients offer "unsubscribe" and POST to this URL, without any other step.
        headers["List-Unsubscribe"] = f"<{links['unsubscribe_url']}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return headers
