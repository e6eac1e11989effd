"""The "apply to several zones" box of the map's plan and of the session form: values
typed once, copied into the zones ticked (or all). Nothing is saved by the box itself:
the copied values are checked when the page is saved."""

from django import forms
from django.utils.translation import gettext_lazy as _


class ApplyBoxForm(forms.Form):
    prefix = "apply"

    def add_zones(self, zones: list) -> None:
        """The ticks: one per zone (a MapZone), labelled with its region."""
        self.fields["zones"] = forms.TypedMultipleChoiceField(
            choices=[(zone.pk, zone.region.shown_label()) for zone in zones],
            coerce=int,
            required=False,
            widget=forms.CheckboxSelectMultiple,
            label=_("Apply to this zone"),
        )

    def values(self) -> dict:
        """The values given, as posted (they fill the zones' fields as typed); a blank
        one leaves each zone as it is."""
        return {
            name: self.data[self.add_prefix(name)]
            for name in self.fields
            if name != "zones" and self.cleaned_data.get(name) not in (None, "")
        }
