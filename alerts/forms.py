"""The alert form's own fields; the search it follows is parsed by slots.forms.SearchForm."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class AlertForm(forms.Form):
    email = forms.EmailField(
        label=_("Votre adresse électronique"),
        max_length=254,
        error_messages={
            "required": _("Indiquez votre adresse électronique."),
            "invalid": _("Cette adresse électronique n’est pas valide."),
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    # A honeypot: hidden from people (and from screen readers), filled by many bots.
    site = forms.CharField(required=False, label=_("Ne remplissez pas ce champ"))


class LinkRequestForm(forms.Form):
    email = AlertForm.base_fields["email"]
    site = forms.CharField(required=False, label=_("Ne remplissez pas ce champ"))
