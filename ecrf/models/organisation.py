"""The organisation a trial runs in: hospitals (sites), studies, and who works on which with what role."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from ecrf.models.history import ChainedHistoricalRecord
from ecrf.roles import STUDY_WIDE_ROLES, Role

code_validator = RegexValidator(
    r"^[A-Z0-9][A-Z0-9-]{0,31}$", "Use 1-32 capital letters, digits or hyphens, starting with a letter or digit."
)


class Site(models.Model):
    """A hospital or clinic that enrols subjects."""

    study_code_path = "study_sites__study__code"

    code = models.CharField(max_length=32, unique=True, validators=[code_validator])
    name = models.CharField(max_length=200)
    city = models.CharField(max_length=100, blank=True)
    country = models.CharField(max_length=100, blank=True)
    history = HistoricalRecords(bases=[ChainedHistoricalRecord])

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"


class Study(models.Model):
    """A clinical trial; its protocol (arms, schedule, forms) hangs off it."""

    study_code_path = "code"

    code = models.CharField(max_length=32, unique=True, validators=[code_validator])
    title = models.CharField(max_length=300)
    registry_number = models.CharField(
        max_length=32,
        blank=True,
        validators=[RegexValidator(r"^NCT\d{8}$", "A ClinicalTrials.gov number is NCT and 8 digits.")],
    )
    sites = models.ManyToManyField(Site, through="StudySite", related_name="studies")
    history = HistoricalRecords(bases=[ChainedHistoricalRecord])

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "studies"
        constraints = [
            models.UniqueConstraint(
                fields=["registry_number"],
                condition=~Q(registry_number=""),
                name="study_registry_number_unique",
            )
        ]

    def __str__(self):
        return f"{self.code} {self.title}"


class StudySite(models.Model):
    """A site taking part in a study."""

    study_code_path = "study__code"

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="study_sites")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="study_sites")
    activated_on = models.DateField(null=True, blank=True)
    history = HistoricalRecords(bases=[ChainedHistoricalRecord])

    class Meta:
        ordering = ["study__code", "site__code"]
        constraints = [models.UniqueConstraint(fields=["study", "site"], name="study_site_unique")]

    def __str__(self):
        return f"{self.study.code} at {self.site.code}"


class Membership(models.Model):
    """A user's delegated role in a study, at one site or (monitors, data managers) at all of them.

    Memberships are ended, never deleted: the delegation log must show who could act when.
    """

    study_code_path = "study__code"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memberships")
    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="memberships")
    site = models.ForeignKey(
        Site,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="memberships",
        help_text="Empty means every site of the study (monitors and data managers only).",
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    is_active = models.BooleanField(default=True, help_text="Untick to end the delegation; keep the row.")
    starts_on = models.DateField(default=timezone.localdate, help_text="First day of the delegation.")
    ends_on = models.DateField(null=True, blank=True, help_text="Last day of the delegation, once ended.")
    end_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(bases=[ChainedHistoricalRecord])

    class Meta:
        ordering = ["study__code", "site__code", "role", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "study", "site"], condition=Q(site__isnull=False), name="membership_one_role_per_site"
            ),
            models.UniqueConstraint(
                fields=["user", "study"], condition=Q(site__isnull=True), name="membership_one_study_wide_role"
            ),
            models.CheckConstraint(
                condition=Q(site__isnull=False) | Q(role__in=sorted(STUDY_WIDE_ROLES)),
                name="membership_site_staff_have_a_site",
                violation_error_message="Coordinators and investigators must belong to a site.",
            ),
            models.CheckConstraint(
                condition=Q(role__in=Role.values), name="membership_role_known", violation_error_message="Unknown role."
            ),
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                name="membership_ends_after_it_starts",
                violation_error_message="A delegation cannot end before it starts.",
            ),
        ]

    def __str__(self):
        where = self.site.code if self.site_id else "all sites"
        return f"{self.user} — {self.get_role_display()} in {self.study.code} at {where}"

    def clean(self):
        super().clean()
        if (
            self.site_id
            and self.study_id
            and not StudySite.objects.filter(study=self.study_id, site=self.site_id).exists()
        ):
            raise ValidationError({"site": "This site does not take part in the study."})
