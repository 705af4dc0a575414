"""Alert pages: sign-up, confirmation, the address's alerts, one-click unsubscribe, and the search's Atom feed."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.db.models import Max
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.feedgenerator import Atom1Feed
from django.utils.formats import date_format, time_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from alerts import services
from alerts.forms import AlertForm, LinkRequestForm
from alerts.models import Alert
from rdvpasseport.ratelimit import client_ip, client_key, hit, too_many_requests
from rdvpasseport.rates import parse_rate
from slots.forms import SearchForm, first_error
from slots.models import Slot
from slots.search import paris_day_start, town_halls_search

logger = logging.getLogger(__name__)

# Feed entries: the town halls whose matching slots appeared within this time.
FEED_NEW_WITHIN = dt.timedelta(hours=48)
FEED_MAX_ENTRIES = 30


def _limited(request: HttpRequest, *, email: str | None = None) -> tuple[bool, int]:
    """(refused for this client address, seconds to wait); with `email`, whether that address is over its limit."""
    if not settings.RATELIMIT_ENABLED:
        return False, 0
    if email is not None:
        rate = parse_rate(settings.RATELIMIT_ALERTS_EMAIL)
        if rate is None:
            return False, 0
        allowed, retry = hit(bucket="alerts-address", client=services.email_key(email)[:32], rate=rate)
        return not allowed, retry
    rate = parse_rate(settings.RATELIMIT_ALERTS)
    if rate is None:
        return False, 0
    allowed, retry = hit(bucket="alerts", client=client_key(client_ip(request)), rate=rate)
    return not allowed, retry


def _render(request: HttpRequest, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    template = "alerts/subscribe.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#panel"
    return render(request, template, context, status=status)


# No CSRF token: the form sits on the results page, which sets no cookie. A forged sign-up achieves no more
# than a direct one (a confirmation email, under the same rate limits): only the confirmation turns it on.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def subscribe(request: HttpRequest) -> HttpResponse:
    """« Prévenez-moi »: the search's parameters plus an address; a confirmation email is all that is sent."""
    data = request.POST if request.method == "POST" else request.GET
    search = SearchForm.from_query(data)
    alert_form = AlertForm(request.POST) if request.method == "POST" else AlertForm()
    context: dict[str, Any] = {"search": search, "alert_form": alert_form}
    if not search.is_valid():
        context["error"] = first_error(search)
        return _render(request, context, status=400)
    try:
        origin = services.origin_resolve(search)
    except services.PlaceError as exc:
        context["error"] = exc.message
        return _render(request, context, status=400)
    context.update(origin=origin, search_params=_params(search, origin))
    if request.method == "GET":
        return _render(request, context)

    if request.POST.get("site"):
        logger.info("Alert sign-up dropped: honeypot filled")
        context["done"] = True
        return _render(request, context)
    refused, retry_after = _limited(request)
    if refused:
        return too_many_requests(request, retry_after=retry_after)
    if not alert_form.is_valid():
        context["error"] = first_error(alert_form)
        return _render(request, context, status=400)
    email = alert_form.cleaned_data["email"]
    # Past its own limit an address gets the same answer and nothing is sent: nobody can flood a mailbox.
    over, _wait = _limited(request, email=email)
    if over:
        logger.info("Alert sign-up dropped: address over its limit")
    else:
        services.alert_subscribe(
            email=email, form=search, origin=origin, language=translation.get_language() or "fr"
        )
    context["done"] = True
    return _render(request, context)


def _params(search: SearchForm, origin: services.Origin) -> dict[str, str]:
    """The search's parameters as the alert keeps them (hidden fields of the form)."""
    data = search.cleaned_data
    params = {"rayon": str(data["rayon"]), "motif": data["motif"], "personnes": str(data["personnes"])}
    if origin.insee:
        params.update(q=data["q"] or origin.place, insee=origin.insee)
    elif search.position:
        params.update(lat=str(origin.lat), lon=str(origin.lon))
    else:
        params["q"] = data["q"]
    if data["avant"]:
        params["avant"] = data["avant"].isoformat()
    return params


@require_http_methods(["GET", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The link of the confirmation email: a button (mail scanners follow links, they do not press buttons)."""
    alert_id = services.confirm_token_read(token)
    alert = Alert.objects.filter(pk=alert_id).first() if alert_id is not None else None
    if alert is None:
        return render(request, "alerts/link_invalid.html", {"form": LinkRequestForm()}, status=400)
    if request.method == "POST":
        alert = services.alert_confirm(alert_id=alert.pk)
        if alert is None:
            return render(request, "alerts/link_invalid.html", {"form": LinkRequestForm()}, status=400)
    manage_url = reverse("alerts:manage", args=[services.manage_token(alert.email_key)])
    return render(request, "alerts/confirm.html", {"alert": alert, "manage_url": manage_url})


@require_http_methods(["GET", "POST"])
def manage(request: HttpRequest, token: str) -> HttpResponse:
    """Every alert of one address, each to pause, resume or delete."""
    key = services.manage_token_read(token)
    if key is None:
        return render(request, "alerts/link_invalid.html", {"form": LinkRequestForm()}, status=400)
    alerts = Alert.objects.for_email_key(key).exclude(state=Alert.State.ENDING)
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            alert = alerts.filter(pk=int(request.POST.get("alert", ""))).first()
        except ValueError:
            alert = None
        if alert is None or action not in {"pause", "resume", "delete"}:
            return render(
                request,
                "alerts/manage.html",
                {"alerts": alerts, "error": _("Cette alerte n’existe plus."), "now": timezone.now()},
                status=400,
            )
        if action == "delete":
            services.alert_delete(alert_id=alert.pk)
        else:
            services.alert_pause(alert=alert, paused=action == "pause")
        return HttpResponseRedirect(request.path)
    return render(request, "alerts/manage.html", {"alerts": alerts, "now": timezone.now()})


@csrf_exempt  # as the sign-up: a forged request only sends the address its own link
@require_POST
def link_request(request: HttpRequest) -> HttpResponse:
    """Send an address the link to its alerts; the same answer whether it has any or not."""
    form = LinkRequestForm(request.POST)
    if not form.is_valid():
        return render(
            request, "alerts/link_invalid.html", {"form": form, "error": first_error(form)}, status=400
        )
    if not form.cleaned_data["site"]:
        refused, retry_after = _limited(request)
        if refused:
            return too_many_requests(request, retry_after=retry_after)
        email = form.cleaned_data["email"]
        if not _limited(request, email=email)[0]:
            services.manage_link_request(email=email)
    return render(request, "alerts/link_sent.html")


# The one-click POST of RFC 8058 comes from a mail client, without a CSRF token: the signed link is the proof.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    alert_id = services.unsubscribe_token_read(token)
    if alert_id is None:
        return render(request, "alerts/link_invalid.html", {"form": LinkRequestForm()}, status=400)
    if request.method == "POST":
        services.alert_delete(alert_id=alert_id)
        return render(request, "alerts/unsubscribed.html")
    alert = Alert.objects.filter(pk=alert_id).first()
    if alert is None:
        return render(request, "alerts/unsubscribed.html")
    return render(request, "alerts/unsubscribe.html", {"alert": alert})


@require_GET
def feed(request: HttpRequest) -> HttpResponse:
    """An Atom feed of a search: one entry per town hall whose matching slots appeared lately."""
    search = SearchForm.from_query(request.GET)
    try:
        if not search.is_valid():
            raise services.PlaceError(first_error(search) or _("Paramètres de recherche invalides."))
        origin = services.origin_resolve(search)
    except services.PlaceError as exc:
        return HttpResponse(exc.message, status=400, content_type="text/plain; charset=utf-8")
    now = timezone.now()
    start_date, end_date = search.window
    people = search.cleaned_data["personnes"]
    results = [
        result
        for result in town_halls_search(
            lat=origin.lat,
            lon=origin.lon,
            radius_km=search.cleaned_data["rayon"],
            reason=search.reason,
            people=people,
            start_date=start_date,
            end_date=end_date,
            sort=search.sort,
            now=now,
        )
        if result.has_slot
    ]
    newest = dict(
        Slot.objects.filter(town_hall_id__in=[result.town_hall.pk for result in results])
        .for_reason(search.reason)
        .upcoming(now)
        .between(None, paris_day_start(end_date + dt.timedelta(days=1)))
        .for_people(people)
        .filter(first_seen__gte=now - FEED_NEW_WITHIN)
        .order_by()
        .values("town_hall_id")
        .annotate(newest=Max("first_seen"))
        .values_list("town_hall_id", "newest")
    )
    search_url = f"{settings.SITE_URL}{reverse('slots:search')}?{request.GET.urlencode()}"
    atom = Atom1Feed(
        title=_("Nouveaux créneaux près de %(place)s") % {"place": origin.place},
        link=search_url,
        description=_("Les mairies où des créneaux sont apparus pour cette recherche."),
        feed_url=f"{settings.SITE_URL}{request.get_full_path()}",
        language=translation.get_language() or "fr",
        feed_guid=search_url,
    )
    entries = [result for result in results if result.town_hall.pk in newest][:FEED_MAX_ENTRIES]
    for result in entries:
        town_hall, next_slot = result.town_hall, result.next_slot
        assert next_slot is not None
        local = timezone.localtime(next_slot.starts_at)
        seen = newest[town_hall.pk]
        atom.add_item(
            title=_("%(town_hall)s : créneau le %(date)s à %(time)s")
            % {
                "town_hall": town_hall.name,
                "date": date_format(local, "l j F"),
                "time": time_format(local, "H:i"),
            },
            link=next_slot.booking_url
            or f"{settings.SITE_URL}{reverse('slots:town_hall', args=[town_hall.pk])}",
            description=ngettext(
                "%(count)d créneau libre à %(km).1f km.",
                "%(count)d créneaux libres à %(km).1f km.",
                result.slots_count,
            )
            % {"count": result.slots_count, "km": result.distance_km},
            unique_id=f"{settings.SITE_URL}/mairie/{town_hall.pk}#{int(seen.timestamp())}",
            updateddate=seen,
            pubdate=seen,
        )
    response = HttpResponse(content_type="application/atom+xml; charset=utf-8")
    atom.write(response, "utf-8")
    return response
