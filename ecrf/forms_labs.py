"""The lab panel form of a visit, built from the protocol's analytes: unit, reference range, limits, "not done"."""

from dataclasses import dataclass
from decimal import Decimal

from django import forms
from django.utils import timezone

from ecrf.forms import ClinicalDateTimeField
from ecrf.services.labs import NotDone


@dataclass
class AnalyteRow:
    """What the template shows for one analyte: its fields and whether the value is out of range."""

    analyte: object
    value: forms.BoundField
    not_done: forms.BoundField
    not_done_reason: forms.BoundField
    flag: str  # "", "low", "high"


class LabPanelForm(forms.Form):
    drawn_at = ClinicalDateTimeField(
        label="Drawn at", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    )
    reason = forms.CharField(max_length=500, required=False, label="Reason for the change")
    confirm_unusual = forms.BooleanField(required=False, label="I have checked the values marked unusual")
    panel_not_done = forms.BooleanField(required=False, label="Whole panel not done")
    panel_not_done_reason = forms.CharField(required=False, max_length=500, label="Why the panel was not done")
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, analytes, saved=None, editing=False, version=0, **kwargs):
        saved = saved or {}
        initial = {"version": version, **kwargs.pop("initial", {})}
        for code, row in saved.items():
            # Quantized to the analyte's decimals: shown as kept, and equal to the same number typed back.
            shown = None if row.value is None else row.value.quantize(Decimal(1).scaleb(-row.analyte.decimals))
            initial[f"value_{code}"] = shown
            initial[f"nd_{code}"] = row.not_done
            initial[f"ndr_{code}"] = row.not_done_reason
        super().__init__(*args, initial=initial, **kwargs)
        self.analytes = list(analytes)
        self.editing = editing
        self.saved_codes = set(saved)
        self.unusual = []
        for analyte in self.analytes:
            self.fields[f"value_{analyte.code}"] = forms.DecimalField(
                required=False,
                max_digits=12,
                decimal_places=4,
                label=analyte.label,
                widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "size": 8}),
            )
            self.fields[f"nd_{analyte.code}"] = forms.BooleanField(required=False, label="Not done")
            self.fields[f"ndr_{analyte.code}"] = forms.CharField(required=False, max_length=500, label="Why not done")

    def clean(self):
        data = super().clean()
        if data.get("panel_not_done"):
            self._check_panel_not_done(data)
            return data
        for analyte in self.analytes:
            self._check(analyte, data)
        if self.unusual and not data.get("confirm_unusual"):
            self.add_error("confirm_unusual", "Some values are unusual: check them, then tick this box to save.")
        if self.editing and not (data.get("reason") or "").strip() and self._changes_saved_data():
            self.add_error("reason", "Give a reason for changing saved results.")
        if data.get("drawn_at") and data["drawn_at"] > timezone.now():
            self.add_error("drawn_at", "The draw time cannot be in the future.")
        return data

    def _check_panel_not_done(self, data) -> None:
        """A panel not done has a reason and no values: every analyte is saved "not done" with that reason."""
        if not data.get("panel_not_done_reason", "").strip():
            self.add_error("panel_not_done_reason", "Say why the panel was not done.")
        for analyte in self.analytes:
            if data.get(f"value_{analyte.code}") is not None:
                self.add_error(f"value_{analyte.code}", "The panel is marked not done: clear this value or untick it.")
        if self.editing and not (data.get("reason") or "").strip():
            self.add_error("reason", "Give a reason for changing saved results.")

    def _check(self, analyte, data) -> None:
        code = analyte.code
        value, not_done, why = data.get(f"value_{code}"), data.get(f"nd_{code}"), data.get(f"ndr_{code}", "").strip()
        if not_done and value is not None:
            self.add_error(f"value_{code}", "Give a value or tick “not done”, not both.")
        elif not_done and not why:
            self.add_error(f"ndr_{code}", f"Say why {analyte.label} was not done.")
        elif value is not None and not analyte.hard_low <= float(value) <= analyte.hard_high:
            self.add_error(
                f"value_{code}",
                f"{value:g} {analyte.unit} is impossible: {analyte.label} lies between {analyte.hard_low:g} and "
                f"{analyte.hard_high:g} {analyte.unit}.",
            )
        elif value is not None and analyte.is_implausible(float(value)):
            self.unusual.append(code)

    def _changes_saved_data(self) -> bool:
        """True when a saved result or the draw time changes; filling in a value not entered before is not a change."""
        changed = set(self.changed_data)
        saved_fields = {f"{prefix}_{code}" for code in self.saved_codes for prefix in ("value", "nd", "ndr")}
        return "drawn_at" in changed or bool(changed & saved_fields)

    def values(self) -> dict[str, object]:
        """Analyte code -> number, NotDone(reason) or None (left blank)."""
        if self.cleaned_data.get("panel_not_done"):
            reason = NotDone(f"Panel not done: {self.cleaned_data['panel_not_done_reason'].strip()}")
            return {analyte.code: reason for analyte in self.analytes}
        result = {}
        for analyte in self.analytes:
            code = analyte.code
            if self.cleaned_data.get(f"nd_{code}"):
                result[code] = NotDone(self.cleaned_data[f"ndr_{code}"])
            else:
                result[code] = self.cleaned_data.get(f"value_{code}")
        return result

    def confirmed_unusual(self) -> list[str]:
        """The analytes whose unusual values the user ticked as checked."""
        return self.unusual if self.cleaned_data.get("confirm_unusual") else []

    def rows(self) -> list[AnalyteRow]:
        rows = []
        for analyte in self.analytes:
            value = self[f"value_{analyte.code}"]
            rows.append(
                AnalyteRow(
                    analyte=analyte,
                    value=value,
                    not_done=self[f"nd_{analyte.code}"],
                    not_done_reason=self[f"ndr_{analyte.code}"],
                    flag=_flag(analyte, value.value()),
                )
            )
        return rows


def _flag(analyte, raw) -> str:
    try:
        number = float(raw)
    except (TypeError, ValueError):
        return ""
    if analyte.reference_low is not None and number < analyte.reference_low:
        return "low"
    if analyte.reference_high is not None and number > analyte.reference_high:
        return "high"
    return ""
