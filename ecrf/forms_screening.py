"""Screening forms: registration, the protocol's eligibility checklist, consent and screen failure."""

from crispy_forms.layout import Fieldset, Layout
from django import forms
from django.core.exceptions import ValidationError

from ecrf.forms import DATE, submit_helper
from ecrf.models import Sex
from ecrf.models.events import HccMethod
from ecrf.models.protocol import CRITERION_GROUPS
from ecrf.protocol_schema import FACT_LABELS


def add_service_errors(form: forms.Form, error: ValidationError, field_of=None) -> None:
    """Show a service's refusal on the field it names, or above the form when it names none of them.

    ``field_of`` maps a key the service uses (an analyte code) to the form field showing it, when they differ.
    """
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for key, messages in error.message_dict.items():
        field = field_of(key) if field_of else key
        form.add_error(field if field in form.fields else (key if key in form.fields else None), messages)


class RegisterSubjectForm(forms.Form):
    subject_code = forms.CharField(max_length=32, help_text="The study's identifier for this person; never a name.")
    screening_date = forms.DateField(widget=DATE)
    sex = forms.ChoiceField(choices=Sex.choices, widget=forms.RadioSelect)
    age_years = forms.IntegerField(min_value=0, max_value=120, label="Age (years)")
    weight_kg = forms.DecimalField(
        min_value=1, max_value=399, max_digits=5, decimal_places=1, required=False, label="Weight (kg)"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = submit_helper("Register subject")


class EligibilityForm(forms.Form):
    """One yes/no question per criterion of the subject's protocol; a change to a saved answer needs a reason."""

    reason = forms.CharField(
        max_length=500, required=False, help_text="Needed only when you change an answer already saved."
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, criteria, answers, facts=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.criteria = list(criteria)
        for criterion in self.criteria:
            note = criterion.fact_note(facts) if facts else ""  # the stored fact beside the item tied to it
            self.fields[criterion.code] = forms.TypedChoiceField(
                label=f"{criterion.code}: {criterion.text}",
                help_text=" ".join(
                    part
                    for part in (f"Qualifying answer: {criterion.qualifying_label}.", note[:1].upper() + note[1:])
                    if part
                ),
                choices=[("yes", "Yes"), ("no", "No")],
                coerce=lambda value: value == "yes",
                widget=forms.RadioSelect,
                initial=None if criterion.code not in answers else ("yes" if answers[criterion.code] else "no"),
                required=False,
            )
        self.order_fields([c.code for c in self.criteria] + ["reason", "version"])
        self.helper = submit_helper("Save checklist")
        groups = [(label, [c.code for c in self.criteria if c.kind == kind]) for kind, label in CRITERION_GROUPS]
        self.helper.layout = Layout(*(Fieldset(label, *codes) for label, codes in groups if codes), "reason", "version")

    def answers(self) -> dict[str, bool]:
        """The answers given (unanswered items stay unanswered: a partial checklist may be saved)."""
        return {c.code: self.cleaned_data[c.code] for c in self.criteria if self.cleaned_data.get(c.code) != ""}


class ConsentForm(forms.Form):
    consent_date = forms.DateField(widget=DATE)
    consent_version = forms.CharField(max_length=40, label="Consent form version")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = submit_helper("Record consent")


CORRECTION_REASON = "Why the saved values are wrong: kept with the change in the audit trail."


class CorrectRegistrationForm(forms.Form):
    """The registration facts as saved, to correct with a reason (the subject code is its identity: not here)."""

    screening_date = forms.DateField(widget=DATE)
    sex = forms.ChoiceField(choices=Sex.choices, widget=forms.RadioSelect)
    age_years = forms.IntegerField(min_value=0, max_value=120, label="Age (years)")
    weight_kg = forms.DecimalField(
        min_value=1, max_value=399, max_digits=5, decimal_places=1, required=False, label="Weight (kg)"
    )
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}), help_text=CORRECTION_REASON)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    FACTS = ("screening_date", "sex", "age_years", "weight_kg")

    def __init__(self, *args, tied_answers=(), **kwargs):
        """``tied_answers``: the saved answers to items tied to sex or age, each offered a new answer that a
        correction of its fact may need (the service says when)."""
        super().__init__(*args, **kwargs)
        for saved in tied_answers:
            self.fields[ANSWER + saved.criterion.code] = _new_answer_field(saved)
        self.order_fields([*self.FACTS, *(name for name in self.fields if name.startswith(ANSWER))])
        self.helper = submit_helper("Save correction")

    def correction(self) -> dict:
        """The service's keyword arguments: the facts, and the new answers given (criterion code -> answer)."""
        data = self.cleaned_data
        answers = {
            name.removeprefix(ANSWER): value == "yes"
            for name, value in data.items()
            if name.startswith(ANSWER) and value
        }
        return {name: data[name] for name in self.FACTS} | {"eligibility_answers": answers}

    @staticmethod
    def field_of(key: str) -> str:
        """The service names a new answer by its criterion code, and a fact by its own name."""
        return ANSWER + key


ANSWER = "answer_"


def _new_answer_field(saved) -> forms.ChoiceField:
    criterion = saved.criterion
    keep = f"Keep the saved answer ({'yes' if saved.answer else 'no'})"
    return forms.ChoiceField(
        required=False,
        choices=[("", keep), ("yes", "Yes"), ("no", "No")],
        widget=forms.RadioSelect,
        label=f"Eligibility {criterion.code}: {criterion.text}",
        help_text=f"Tied to the {FACT_LABELS[criterion.fact]} ({criterion.tie_label()}): give a new answer only "
        "when correcting the registration calls for one.",
    )


class CorrectConsentForm(forms.Form):
    consent_date = forms.DateField(widget=DATE)
    consent_version = forms.CharField(max_length=40, label="Consent form version")
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}), help_text=CORRECTION_REASON)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = submit_helper("Save correction")

    def correction(self) -> dict:
        """The service's keyword arguments: the consent's date and form version."""
        return {name: self.cleaned_data[name] for name in ("consent_date", "consent_version")}


class ScreenFailureForm(forms.Form):
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = submit_helper("Record screen failure")


class DeathForm(forms.Form):
    death_date = forms.DateField(widget=DATE)
    cause = forms.CharField(max_length=500, label="Cause of death")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = submit_helper("Record death")


class WithdrawalForm(forms.Form):
    withdrawal_date = forms.DateField(widget=DATE)
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = submit_helper("Record withdrawal")


class LostForm(forms.Form):
    last_contact_date = forms.DateField(widget=DATE, label="Last contact with the subject")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = submit_helper("Record lost to follow-up")


class HccForm(forms.Form):
    diagnosis_date = forms.DateField(widget=DATE)
    method = forms.ChoiceField(choices=HccMethod.choices, widget=forms.RadioSelect)
    details = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = submit_helper("Record HCC diagnosis")
