"""manage.py seed_scale: a valid synthetic DLC study of any size, over sites of uneven size, with history rows."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count

from ecrf.demo.scale import site_weights
from ecrf.models import LabDraw, LabValue, Subject, Visit, VisitDefinition
from ecrf.models.changes import current_version

pytestmark = pytest.mark.django_db


def test_seed_scale_refuses_outside_demo_mode(settings):
    settings.DEMO_MODE = False
    with pytest.raises(CommandError, match="DEMO_MODE"):
        call_command("seed_scale", subjects=10)


def test_seed_scale_grows_the_dlc_study_to_the_size_asked_over_the_sites_asked(settings):
    settings.DEMO_MODE = True
    out = io.StringIO()
    call_command("seed_scale", subjects=300, sites=3, stdout=out)
    subjects = Subject.objects.filter(study__code="DLC")
    assert subjects.count() == 300
    per_site = dict(subjects.values_list("site__code").annotate(n=Count("pk")))
    assert set(per_site) == {"BJ-5MC", "SZ-3PH", "SCALE-03"}
    assert per_site["BJ-5MC"] > per_site["SZ-3PH"] > per_site["SCALE-03"]  # the first site the largest
    assert len(set(subjects.values_list("subject_code", flat=True))) == 300
    assert "DLC has 300 subjects" in out.getvalue()
    # Under the amendment with labs at every visit: each held visit has a draw with its values, as scheduled.
    assert set(subjects.values_list("protocol__version", flat=True)) == {"1.1-labs"}
    assert not VisitDefinition.objects.filter(protocol__version="1.1-labs", lab_panel__isnull=True).exists()
    held = Visit.objects.filter(subject__study__code="DLC", status="done")
    assert LabDraw.objects.filter(visit__in=held).count() == held.count()
    assert LabValue.objects.filter(draw__visit__in=held).count() > 5 * held.count()
    # Every record has its history row, and the study's data version moved: a cached analysis is not current.
    assert LabValue.history.filter(draw__visit__subject__study__code="DLC").count() == LabValue.objects.count()
    assert current_version(subjects.first().study_id)[0] > 0

    call_command("seed_scale", subjects=320, sites=3, stdout=io.StringIO())  # grows, codes continue per site
    assert subjects.count() == 320
    assert len(set(subjects.values_list("subject_code", flat=True))) == 320

    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert "verifies. OK." in out.getvalue()


def test_site_weights_fall_linearly():
    assert site_weights(4) == [4.0, 3.0, 2.0, 1.0]
