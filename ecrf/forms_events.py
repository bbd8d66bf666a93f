"""Forms for infusions (with the product's release results), adverse events and medication."""

import uuid

from django import forms

from ecrf.forms import DATE, ClinicalDateTimeField, NoBlankRadios, submit_helper
from ecrf.models import AdverseEvent, ConcomitantMedication
from ecrf.services.events import CORRECTABLE_INFUSION_FIELDS

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
REASON = {"required": "Give a reason for this change: saved clinical data changes only with one."}


class InfusionForm(forms.Form):
    started_at = ClinicalDateTimeField(widget=DATETIME, label="Infusion started at")
    body_weight_kg = forms.DecimalField(
        min_value=1, max_value=399, max_digits=5, decimal_places=1, label="Body weight (kg)"
    )
    volume_ml = forms.DecimalField(required=False, min_value=0, max_digits=6, decimal_places=1, label="Volume (mL)")
    observation_hours = forms.DecimalField(required=False, min_value=0, max_digits=4, decimal_places=1)
    reaction = forms.CharField(required=False, max_length=500, label="Reaction seen (blank if none)")

    def __init__(self, *args, criteria, placebo: bool, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = [] if placebo else list(criteria)
        if not placebo:
            self.fields["product_lot"] = forms.CharField(max_length=60)
            self.fields["passage"] = forms.IntegerField(min_value=1, max_value=20)
            self.fields["total_cells"] = forms.FloatField(
                min_value=1, label="Total cells", help_text="e.g. 3.2e7 for 32 million"
            )
            self.fields["dose_deviation"] = forms.CharField(
                required=False,
                max_length=500,
                widget=forms.Textarea(attrs={"rows": 2}),
                label="Dose deviation (reason), if the dose is outside the protocol's range",
            )
        for criterion in self.criteria:
            name = f"release_{criterion.code}"
            if criterion.kind == "negative":
                self.fields[name] = forms.BooleanField(required=False, label=f"{criterion.label}: negative")
            else:
                self.fields[name] = forms.FloatField(
                    required=False,
                    label=f"{criterion.label} ({criterion.unit})",
                    help_text=f"Release needs {criterion.comparator} {criterion.threshold:g} {criterion.unit}",
                )
        if not placebo:
            self.fields["release_deviation"] = forms.CharField(
                required=False, max_length=500, label="Protocol deviation (only to give a product failing release)"
            )
        if editing:
            self.fields["reason"] = forms.CharField(
                max_length=500, label="Reason for the change", error_messages=REASON
            )
            self.fields["version"] = forms.IntegerField(widget=forms.HiddenInput, required=False)
        self.helper = submit_helper("Save infusion" if editing else "Record infusion")

    @staticmethod
    def initial_from(infusion) -> dict:
        """The saved infusion's correctable fields and release deviation as the correction form's initial values."""
        fields = [*CORRECTABLE_INFUSION_FIELDS, "release_deviation"]
        return {name: getattr(infusion, name) for name in fields}

    def facts(self) -> dict:
        """What a correction saves: time and weight with the details, every release result (None: no result) and,
        for a product, its release deviation.
        """
        release = {c.code: self.cleaned_data.get(f"release_{c.code}") for c in self.criteria}
        deviation = (
            {"release_deviation": self.cleaned_data["release_deviation"]} if "release_deviation" in self.fields else {}
        )
        return (
            {
                "started_at": self.cleaned_data["started_at"],
                "body_weight_kg": self.cleaned_data["body_weight_kg"],
                "release": release,
            }
            | deviation
            | self.details()
        )

    def details(self) -> dict:
        data = self.cleaned_data
        details = {k: data.get(k) for k in ("volume_ml", "observation_hours", "reaction")}
        details["reaction"] = details["reaction"] or ""
        if "product_lot" in self.fields:
            details.update(
                product_lot=data["product_lot"],
                passage=data["passage"],
                total_cells=round(data["total_cells"]),
                dose_deviation=data["dose_deviation"],
            )
        return details

    def release(self) -> dict:
        """Criterion code -> measured number, or True/False for "negative" criteria; numbers not given are left out."""
        results = {c.code: self.cleaned_data.get(f"release_{c.code}") for c in self.criteria}
        return {code: value for code, value in results.items() if value is not None}


class OnceOnly(forms.Form):
    """Adds a one-time token: the same form submitted twice (double click, resend) saves once."""

    submission = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)


class CorrectableForm(NoBlankRadios, forms.ModelForm, OnceOnly):
    """A record's form that, opened on a saved record, asks for the reason of the change and carries the version
    it was opened at (so a form opened before someone else's save is refused).
    """

    reason = forms.CharField(max_length=500, label="Reason for the change", error_messages=REASON)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            del self.fields["reason"]

    def facts(self) -> dict:
        """What the service saves: the model's fields, and the one-time token of a new record."""
        names = [*self.Meta.fields, *([] if self.instance.pk else ["submission"])]
        return {name: self.cleaned_data[name] for name in names}


SAE_DETAILS = ("seriousness", "sae_reported_on", "sae_description")


class AdverseEventForm(CorrectableForm):
    class Meta:
        model = AdverseEvent
        fields = [
            "term",
            "onset_at",
            "resolved_at",
            "grade",
            "serious",
            "seriousness",
            "sae_reported_on",
            "sae_description",
            "relatedness",
            "outcome",
            "action_taken",
            "infusion",
        ]
        widgets = {
            "onset_at": DATETIME,
            "resolved_at": DATETIME,
            "seriousness": forms.RadioSelect,
            "sae_reported_on": DATE,
            "sae_description": forms.Textarea(attrs={"rows": 3}),
        }
        field_classes = {"onset_at": ClinicalDateTimeField, "resolved_at": ClinicalDateTimeField}
        labels = {
            "term": "CTCAE v5 term",
            "grade": "CTCAE grade",
            "serious": "Serious adverse event (SAE)",
            "seriousness": "Seriousness criterion",
            "sae_reported_on": "SAE reported on",
            "sae_description": "SAE description",
            "infusion": "Related infusion, if any",
        }
        help_texts = {name: "Only for a serious event." for name in SAE_DETAILS}

    def __init__(self, *args, infusions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["infusion"].queryset = infusions
        # static/js/sae-details.js hides these while "serious" is unticked; without script they stay shown.
        self.fields["serious"].widget.attrs["data-sae-toggle"] = ""
        for name in SAE_DETAILS:
            self.fields[name].widget.attrs["data-sae-detail"] = ""
        self.helper = submit_helper("Save adverse event" if self.instance.pk else "Record adverse event")

    def clean(self):
        data = super().clean()
        if not data.get("serious"):
            for name in SAE_DETAILS:
                if data.get(name):
                    self.add_error(name, "Only a serious event has SAE details: clear this, or tick serious.")
        return data


class MedicationForm(CorrectableForm):
    class Meta:
        model = ConcomitantMedication
        fields = ["drug", "dose", "indication", "is_background", "start_date", "stop_date"]
        widgets = {"start_date": DATE, "stop_date": DATE}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = submit_helper("Save medication" if self.instance.pk else "Record medication")
