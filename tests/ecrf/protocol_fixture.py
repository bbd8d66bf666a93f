"""A small, complete protocol for tests, and ways to spoil it."""

PROTOCOL = """[study]
code = "TRIAL"
title = "Test"
registry_number = "NCT09999999"
version = "1.0"
effective_date = 2020-01-01
design = "non_random"
follow_up = { weeks = 12 }

[[arms]]
code = "A"
label = "Active"
ratio = 1
infusions = "product"

[[arms]]
code = "C"
label = "Control"
ratio = 1
infusions = "none"
is_control = true

[[eligibility]]
code = "I1"
kind = "inclusion"
text = "Adult"

[[eligibility]]
code = "E1"
kind = "exclusion"
text = "Diabetes"

[[analytes]]
code = "TBIL"
label = "Total bilirubin"
unit = "umol/L"
reference_low = 3.4
reference_high = 20.5
hard_low = 0.5
hard_high = 1500
plausible_high = 700

[[analytes]]
code = "INR"
label = "INR"
unit = "ratio"
decimals = 2
hard_low = 0.5
hard_high = 15

[[lab_panels]]
code = "p"
label = "Panel"
analytes = ["TBIL", "INR"]

[[visits]]
code = "SCR"
label = "Screening"
anchor = "consent"
offset = { days = 0 }
forms = ["eligibility", "consent"]

[[visits]]
code = "W0"
label = "Week 0"
anchor = "first_infusion"
offset = { days = 0 }
forms = ["visit", "labs", "infusion"]
lab_panel = "p"
infusion_number = 1

[[visits]]
code = "W4"
label = "Week 4"
anchor = "first_infusion"
offset = { weeks = 4 }
window_before = { days = 3 }
window_after = { days = 3 }
forms = ["visit", "labs"]
lab_panel = "p"

[[endpoints]]
code = "adverse_events"
label = "Adverse events"
collect_for = { weeks = 48 }

[infusion_plan]
count = 1
target_cells_per_kg = 5e5
route = "iv"
observation_hours = 6

[[infusion_plan.release_criteria]]
code = "viab"
label = "Viability"
kind = "numeric"
comparator = ">"
threshold = 80
unit = "%"

[[infusion_plan.release_criteria]]
code = "myco"
label = "Mycoplasma"
kind = "negative"
"""


def changed(old: str, new: str, text: str = PROTOCOL) -> str:
    """The protocol text with ``old`` replaced by ``new`` (which must be there)."""
    assert old in text, old
    return text.replace(old, new, 1)


def _randomised() -> str:
    """The test protocol made randomised 1:1, stratified by baseline MELD (screening draw) and site."""
    text = changed('design = "non_random"', 'design = "randomised"')
    text = changed(
        "[[lab_panels]]",
        """[[analytes]]
code = "CREA"
label = "Creatinine"
unit = "umol/L"
decimals = 0
hard_low = 5
hard_high = 2500

[[lab_panels]]""",
        text,
    )
    text = changed('analytes = ["TBIL", "INR"]', 'analytes = ["TBIL", "INR", "CREA"]', text)
    text = changed(
        'forms = ["eligibility", "consent"]',
        'forms = ["eligibility", "consent", "clinical_status", "labs"]\nlab_panel = "p"',
        text,
    )
    return changed(
        "[[eligibility]]",
        """[[stratification]]
code = "meld"
label = "Baseline MELD"
source = "baseline_score"
score = "meld"
cutpoint = 15
visit = "SCR"
levels = [{ code = "le15", label = "MELD <= 15" }, { code = "gt15", label = "MELD > 15" }]

[[stratification]]
code = "site"
label = "Site"
source = "site"

[[eligibility]]""",
        text,
    )


RANDOMISED_PROTOCOL = _randomised()
