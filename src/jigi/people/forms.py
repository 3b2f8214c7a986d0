from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from jigi.people.models import ConsentScope, Literacy, Sex


class PersonForm(forms.Form):
    """Shape of the registration form; the service does the real validation."""

    unit = forms.ChoiceField(label=_("Unit"))
    first_name = forms.CharField(label=_("First name"), max_length=100)
    last_name = forms.CharField(label=_("Family name"), max_length=100)
    sex = forms.ChoiceField(label=_("Sex"), choices=Sex.choices, widget=forms.RadioSelect)
    birth_date = forms.DateField(label=_("Date of birth"), required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}))
    birth_year = forms.IntegerField(label=_("Year of birth (if the date is not known)"),
                                    required=False, min_value=1900, max_value=2100)
    birth_year_estimated = forms.BooleanField(label=_("Year estimated"), required=False)
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False,
                            widget=forms.TextInput(attrs={"inputmode": "tel",
                                                          "placeholder": "+223 76 12 34 56"}))
    nina = forms.CharField(label=_("NINA (national ID)"), max_length=32, required=False)
    village = forms.CharField(label=_("Village or quarter"), max_length=100, required=False)
    commune = forms.CharField(label=_("Commune"), max_length=100, required=False)
    cercle = forms.CharField(label=_("Cercle"), max_length=100, required=False)
    region = forms.CharField(label=_("Region"), max_length=100, required=False)
    literacy = forms.ChoiceField(label=_("Literacy"), choices=Literacy.choices)
    language = forms.ChoiceField(label=_("Preferred language"),
                                 choices=[("bm", "Bamanankan"), ("fr", "Français"),
                                          ("en", "English")])
    confirm_not_duplicate = forms.BooleanField(
        label=_("This is a different person"), required=False)

    def __init__(self, *args, units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [(u.pk, f"{u.code} {u.name}") for u in units]


class ConsentForm(forms.Form):
    granted_to = forms.ChoiceField(label=_("Organisation allowed to see"))
    scope = forms.ChoiceField(label=_("What"), choices=ConsentScope.choices)
    purpose = forms.CharField(label=_("Purpose"), max_length=200)

    def __init__(self, *args, organisations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["granted_to"].choices = [(o.pk, o.name) for o in organisations]
