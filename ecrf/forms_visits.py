"""Visit forms: the visit itself (date and weight, or missed) and the clinical status."""

from django import forms

from ecrf.forms import DATE, NoBlankRadios, submit_helper
from ecrf.models import ClinicalStatus


class VisitForm(forms.Form):
    actual_date = forms.DateField(widget=DATE, required=False, label="Visit date")
    weight_kg = forms.DecimalField(
        required=False, min_value=1, max_value=399, max_digits=5, decimal_places=1, label="Weight (kg)"
    )
    missed = forms.BooleanField(required=False, label="The visit did not take place")
    missed_reason = forms.CharField(required=False, max_length=500, label="Why it did not take place")
    window_reason = forms.CharField(
        required=False,
        max_length=500,
        label="Why the visit is out of its window",
        help_text="Needed only for a date outside the visit's window; it is recorded as a protocol deviation.",
    )
    reason = forms.CharField(required=False, max_length=500, label="Reason for the change (when correcting)")
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, window=None, **kwargs):
        super().__init__(*args, **kwargs)
        if window is not None:
            start, end = window
            self.fields["window_reason"].help_text = (
                f"Needed only for a date outside the window, {start:%Y-%m-%d} to {end:%Y-%m-%d}; "
                "it is recorded as a protocol deviation."
            )
        self.helper = submit_helper("Save visit")

    def clean(self):
        data = super().clean()
        if data.get("missed"):
            if data.get("actual_date"):
                self.add_error("actual_date", "A missed visit has no date.")
            if not (data.get("missed_reason") or "").strip():
                self.add_error("missed_reason", "Say why the visit did not take place.")
        elif not data.get("actual_date"):
            self.add_error("actual_date", "Give the visit date, or tick that it did not take place.")
        return data


class ClinicalStatusForm(NoBlankRadios, forms.ModelForm):
    reason = forms.CharField(required=False, max_length=500, label="Reason for the change (when correcting)")
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = ClinicalStatus
        fields = [
            "assessed_on",
            "ascites",
            "encephalopathy_grade",
            "dialysis_past_week",
            "temperature_c",
            "fever",
            "peripheral_oedema",
            "rash",
            "nausea",
            "vomiting",
        ]
        widgets = {"assessed_on": DATE, "ascites": forms.RadioSelect}
        labels = {"temperature_c": "Temperature (°C)", "encephalopathy_grade": "Hepatic encephalopathy (West Haven)"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = submit_helper("Save clinical status")

    def findings(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}
