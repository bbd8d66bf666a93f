"""Forms for randomisation: list generation and import (data managers), arm assignment (investigators)."""

from django import forms

from ecrf.forms import submit_helper
from ecrf.services.randomisation import MAX_SLOTS_PER_STRATUM

MAX_CSV_BYTES = 2_000_000


class GenerateListForm(forms.Form):
    """No seed: the list comes from a fresh 256-bit secret from the OS, shown afterwards on this page."""

    slots_per_stratum = forms.IntegerField(min_value=1, max_value=MAX_SLOTS_PER_STRATUM, initial=100)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = submit_helper("Generate list")


class ImportListForm(forms.Form):
    file = forms.FileField(help_text="CSV with the header stratum,sequence,arm,code; UTF-8.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = submit_helper("Import list")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_CSV_BYTES:
            raise forms.ValidationError("The file is larger than 2 MB; a randomisation list is far smaller.")
        try:
            return upload.read().decode("utf-8")
        except UnicodeDecodeError:
            raise forms.ValidationError("The file is not UTF-8 text.") from None


class AssignArmForm(forms.Form):
    arm = forms.ModelChoiceField(queryset=None, empty_label=None, widget=forms.RadioSelect)
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}), help_text="Why this arm.")

    def __init__(self, *args, arms, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["arm"].queryset = arms
        self.helper = submit_helper("Assign arm")
