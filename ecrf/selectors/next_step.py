"""What a subject waits for next, in words, and who must act: decided from facts already read, with no query.

The first rule that applies wins; ``NextStep.rank`` is its place in this list (the worklist sorts by it):

0. Participation ended: "Follow-up complete" for a completed subject, else "No further step".
1. A serious adverse event is unresolved: "SAE open: resolve or follow up" (safety before paperwork).
2. No consent recorded: "Record consent".
3. The eligibility checklist has a criterion unanswered: "Complete the eligibility checklist".
4. An answer fails a criterion: "Not eligible: record the screen failure".
5. No arm yet: "Randomise" where the protocol randomises, else "Awaiting allocation by an investigator".
6. The next visit's window has closed: "W4 overdue since 2021-02-02" (hold it, or record it missed).
7. The next visit's window is open: "W4 due by 2021-02-02".
8. A held visit has a form missing or partial: "W4 labs partial" (the first, in schedule order).
9. Held visits, complete, are not signed: "Awaiting investigator signature (W0, W4)".
10. The next visit is ahead: "W4 due 2021-01-27 to 2021-02-02".
11. No visit left to hold: "Follow-up complete: record the completion".

Rules 5 (non-random) and 9 wait on an investigator and say so in the text; the others are the coordinator's.
"""

from dataclasses import dataclass
from datetime import date

from ecrf.models.subjects import SubjectStatus

COORDINATOR, INVESTIGATOR = "coordinator", "investigator"
ENDED = frozenset(
    {
        SubjectStatus.SCREEN_FAILED,
        SubjectStatus.COMPLETED,
        SubjectStatus.WITHDRAWN,
        SubjectStatus.LOST,
        SubjectStatus.DIED,
    }
)


@dataclass(frozen=True)
class NextVisit:
    code: str
    window_start: date
    window_end: date
    state: str  # "overdue", "due" or "not_yet_due" (worklist.visit_state)


@dataclass(frozen=True)
class SubjectProgress:
    """What the next step depends on, as the worklist has read it."""

    status: str
    consented: bool = False
    criteria: int = 0
    answered: int = 0
    failing: int = 0
    allocated: bool = False
    randomised_design: bool = False
    next_visit: NextVisit | None = None
    open_sae: bool = False
    form_issues: tuple[str, ...] = ()  # "W4 labs partial", in schedule order
    unsigned_visits: tuple[str, ...] = ()  # codes of held visits, complete and not signed


@dataclass(frozen=True)
class NextStep:
    rank: int
    text: str
    actor: str = COORDINATOR

    @property
    def waits_on_investigator(self) -> bool:
        return self.actor == INVESTIGATOR


def next_step(progress: SubjectProgress) -> NextStep:
    """The first rule of the module docstring that applies to ``progress``."""
    p = progress
    if p.status in ENDED:
        if p.status == SubjectStatus.COMPLETED:
            return NextStep(0, "Follow-up complete", actor="")
        return NextStep(0, "No further step", actor="")  # the status column says why
    if p.open_sae:
        return NextStep(1, "SAE open: resolve or follow up")
    if not p.consented:
        return NextStep(2, "Record consent")
    if p.answered < p.criteria:
        return NextStep(3, "Complete the eligibility checklist")
    if p.failing:
        return NextStep(4, "Not eligible: record the screen failure")
    if not p.allocated:
        if p.randomised_design:
            return NextStep(5, "Randomise")
        return NextStep(5, "Awaiting allocation by an investigator", actor=INVESTIGATOR)
    return _after_allocation(p)


def _after_allocation(p: SubjectProgress) -> NextStep:
    visit = p.next_visit
    if visit is not None and visit.state == "overdue":
        return NextStep(6, f"{visit.code} overdue since {visit.window_end:%Y-%m-%d}")
    if visit is not None and visit.state == "due":
        return NextStep(7, f"{visit.code} due by {visit.window_end:%Y-%m-%d}")
    if p.form_issues:
        return NextStep(8, p.form_issues[0])
    if p.unsigned_visits:
        return NextStep(9, f"Awaiting investigator signature ({', '.join(p.unsigned_visits)})", actor=INVESTIGATOR)
    if visit is not None:
        return NextStep(10, f"{visit.code} due {visit.window_start:%Y-%m-%d} to {visit.window_end:%Y-%m-%d}")
    return NextStep(11, "Follow-up complete: record the completion")
