"""Forms of monitoring: raise a query, answer / close / re-open it, lock and unlock data, filter the lists."""

from django import forms

from ecrf.models import QueryState

TEXT = {"rows": 2, "maxlength": 4000}


class RaiseQueryForm(forms.Form):
    target = forms.ChoiceField(label="On")
    text = forms.CharField(widget=forms.Textarea(attrs=TEXT), max_length=4000, label="Query")

    def __init__(self, *args, targets: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = targets


class QueryStepForm(forms.Form):
    """One step of a query's thread: the answer, the closing note, or why it is re-opened."""

    action = forms.ChoiceField(choices=[("answer", "Answer"), ("close", "Close"), ("reopen", "Re-open")])
    text = forms.CharField(widget=forms.Textarea(attrs=TEXT), max_length=4000, required=False, label="Message")


class LockForm(forms.Form):
    reason = forms.CharField(max_length=400, required=False, label="Reason for the lock")
    override = forms.CharField(
        max_length=400, required=False, label="Override: why lock data that are not clean (only if they are not)"
    )


class UnlockForm(forms.Form):
    reason = forms.CharField(max_length=400, label="Reason for unlocking (kept in the history)")


STATE_CHOICES = [("", "Any state"), ("open", "Open (any open state)"), *QueryState.choices]


class QueryFilterForm(forms.Form):
    site = forms.ChoiceField(required=False)
    state = forms.ChoiceField(required=False, choices=STATE_CHOICES)
    form = forms.ChoiceField(required=False, label="Form")
    raiser = forms.ChoiceField(required=False, label="Raised by")
    min_age_days = forms.IntegerField(required=False, min_value=0, max_value=10000, label="Open at least (days)")

    def __init__(self, *args, sites, forms_, raisers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].choices = [("", "All sites"), *((s.code, s.code) for s in sites)]
        self.fields["form"].choices = [("", "Any form"), *forms_]
        self.fields["raiser"].choices = [("", "Anyone"), ("system", "Edit checks"), *raisers]


class AuditFilterForm(forms.Form):
    user = forms.CharField(required=False, max_length=150, label="User (username)")
    site = forms.ChoiceField(required=False)
    subject = forms.CharField(required=False, max_length=32, label="Subject code")
    form = forms.ChoiceField(required=False, label="Form")
    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="From")
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="To")
    after_signature_or_verification = forms.BooleanField(
        required=False, label="Changed after signature or verification"
    )
    days_after_visit = forms.IntegerField(
        required=False, min_value=0, max_value=100000, label="Changed more than N days after the visit"
    )
    outside_working_hours = forms.BooleanField(required=False, label="Entered outside working hours")

    def __init__(self, *args, sites, forms_, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].choices = [("", "All sites"), *((s.code, s.code) for s in sites)]
        self.fields["form"].choices = [("", "Any form"), *forms_]

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "The end of the range is before its start.")
        return data
