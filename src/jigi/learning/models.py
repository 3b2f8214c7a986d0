"""Trainings any organisation runs for its people: MTC's rights awareness and computer skills
for youth, Kondo Jigima's literacy and financial education, UTM's health education.

A programme belongs to an organisation; its sessions are run at one of that organisation's
units (a caisse, a mutual, a section: the staff scope of that unit sees and runs them). A
participant is a person of the one registry; enrolling someone who is not a member of the
running organisation needs no other organisation's data (name and sex are typed in at the
session), so nothing crosses between organisations without consent.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ProgrammeKind(models.TextChoices):
    RIGHTS = "rights", _("Rights awareness")
    COMPUTER = "computer", _("Computer skills")
    LITERACY = "literacy", _("Literacy")
    HEALTH_EDUCATION = "health_education", _("Health education")
    FINANCIAL_EDUCATION = "financial_education", _("Financial education")
    VOCATIONAL = "vocational", _("Vocational skills")
    OTHER = "other", _("Other")


class Programme(models.Model):
    organisation = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT,
                                     related_name="+")
    code = models.CharField(_("code"), max_length=24)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=ProgrammeKind.choices)
    description = models.TextField(_("description"), blank=True, default="")
    # A certificate is issued to who attended at least this share of the session's meetings.
    min_attendance_pct = models.PositiveSmallIntegerField(_("attendance needed for the "
                                                            "certificate (%)"), default=75)
    certificate_title = models.CharField(_("certificate title"), max_length=200, blank=True)
    # Literacy programmes record each participant's level before and after.
    tracks_literacy = models.BooleanField(_("records literacy levels"), default=False)
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        verbose_name = _("programme")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "code"],
                                    name="learning_programme_code"),
        ]

    def __str__(self) -> str:
        return self.name


class SessionStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    RUNNING = "running", _("Running")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class TrainingSession(models.Model):
    """One run of a programme: a place, a trainer, a first and last day, N meetings."""

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="sessions")
    unit = models.ForeignKey("orgs.Unit", on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("title"), max_length=200, blank=True)
    place = models.CharField(_("place"), max_length=200)
    urban = models.BooleanField(_("urban"), default=False)
    trainer = models.CharField(_("trainer"), max_length=200)
    starts_on = models.DateField(_("first day"))
    ends_on = models.DateField(_("last day"))
    meetings = models.PositiveSmallIntegerField(_("number of meetings"), default=1)
    capacity = models.PositiveSmallIntegerField(_("places"), default=30)
    language = models.CharField(_("language"), max_length=8, default="bm")
    status = models.CharField(_("status"), max_length=10, choices=SessionStatus.choices,
                              default=SessionStatus.PLANNED)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT,
                                   related_name="+")

    class Meta:
        verbose_name = _("training session")
        indexes = [models.Index(fields=["unit", "starts_on"])]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")),
                                   name="learning_session_dates"),
        ]

    def __str__(self) -> str:
        return self.title or f"{self.programme} {self.starts_on}"


class LiteracyLevel(models.IntegerChoices):
    """A simple scale the trainers assess (close to the REFLECT/PAMOJA steps used in Mali)."""

    NONE = 0, _("Cannot read or write")
    LETTERS = 1, _("Knows letters and numbers")
    WORDS = 2, _("Reads and writes words")
    SENTENCES = 3, _("Reads and writes simple sentences")
    FLUENT = 4, _("Reads and writes fluently, counts")


class EnrolmentStatus(models.TextChoices):
    ENROLLED = "enrolled", _("Enrolled")
    COMPLETED = "completed", _("Completed")
    DROPPED = "dropped", _("Dropped out")


class Enrolment(models.Model):
    session = models.ForeignKey(TrainingSession, on_delete=models.PROTECT,
                                related_name="enrolments")
    person = models.ForeignKey("people.Person", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=EnrolmentStatus.choices,
                              default=EnrolmentStatus.ENROLLED)
    literacy_before = models.PositiveSmallIntegerField(choices=LiteracyLevel.choices, null=True,
                                                       blank=True)
    literacy_after = models.PositiveSmallIntegerField(choices=LiteracyLevel.choices, null=True,
                                                      blank=True)
    certificate_number = models.CharField(max_length=32, null=True, blank=True, unique=True)
    certificate_issued_on = models.DateField(null=True, blank=True)
    enrolled_at = models.DateTimeField(auto_now_add=True)
    enrolled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                    on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["session", "person"], name="learning_enrolment_once"),
        ]


class Attendance(models.Model):
    """Presence at one meeting (1..session.meetings) of a session."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="attendance")
    meeting = models.PositiveSmallIntegerField()
    present = models.BooleanField(default=True)
    recorded_at = models.DateTimeField(auto_now=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                    on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "meeting"],
                                    name="learning_attendance_once"),
        ]
