"""Each subject's identity in de-identified exports: a pseudonym and a secret date offset, made once per subject."""

import secrets

from django.db import transaction

from ecrf.models import Study, Subject
from exports import deidentify
from exports.models import SubjectPseudonym


def _new_pseudonym(study: Study, subject) -> SubjectPseudonym:
    magnitude = 1 + secrets.randbelow(365)
    shift = magnitude if secrets.randbelow(2) else -magnitude
    return SubjectPseudonym(subject=subject, pseudonym=f"P{secrets.token_hex(5).upper()}", shift_days=shift)


def pseudonyms(study: Study) -> dict[str, deidentify.Subject]:
    """Every subject's pseudonym and date offset by subject code; those the study's new subjects lack are made.

    Made once and kept secret in the database, so a subject is shifted the same way in every export. A random
    pseudonym that happens to be taken already is drawn again.
    """
    for _ in range(5):
        with transaction.atomic():
            missing = Subject.objects.filter(study=study).exclude(
                pk__in=SubjectPseudonym.objects.filter(subject__study=study).values("subject")
            )
            made = [_new_pseudonym(study, subject) for subject in missing.only("pk")]
            SubjectPseudonym.objects.bulk_create(made, ignore_conflicts=True)
        rows = SubjectPseudonym.objects.filter(subject__study=study).values_list(
            "subject__subject_code", "pseudonym", "shift_days"
        )
        found = {code: deidentify.Subject(pseudonym, shift) for code, pseudonym, shift in rows}
        if len(found) == Subject.objects.filter(study=study).count():
            return found
    raise RuntimeError("could not draw a free pseudonym for every subject")  # 16^10 names: not in practice
