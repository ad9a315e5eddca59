"""Learners from a file (seed 002 §I): CSV or XLSX through django-import-export.

Columns: email (required: it identifies the learner, case-insensitive), first_name, last_name
(required for a new learner), phone (E.164), language (en, fr, pl), timezone (IANA name),
manager_email (a learner already known or in the same file), groups (existing group names
separated by ";"), consent (yes, no or the date it was given: see consent_cells; recorded with the source
"import").

A blank cell leaves an existing learner's value as it is. New learners get an invitation
recorded with source "bulk_import" and are never emailed (nor reminded). Any bad row and
nothing is imported: every bad row is listed with its line number and reasons in words.

Set-based: a fixed number of queries per 2,000 rows whatever the size of the file (lookups
read once in before_import, rows written in batches).
"""

import re
import zoneinfo
from functools import cache

import tablib
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models.functions import Lower
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from import_export import resources
from import_export.fields import Field
from import_export.instance_loaders import BaseInstanceLoader

from . import services
from .consent_cells import ConsentCellError, changes_consent, consent_in_words, read_consent
from .models import GroupMembership, Invitation, Language, Learner, LearnerGroup
from .phones import normalise_phone

COLUMNS = ["email", "first_name", "last_name", "phone", "language", "timezone", "manager_email", "groups", "consent"]
# Each column in the words of the import page: its readable name, what it holds, and the example row of
# the template file offered for download.
COLUMN_HELP = {
    "email": (_lazy("Email"), _lazy("Identifies the learner (required)."), "ada.lovelace@example.com"),
    "first_name": (_lazy("First name"), _lazy("Required for a new learner."), "Ada"),
    "last_name": (_lazy("Last name"), _lazy("Required for a new learner."), "Lovelace"),
    "phone": (_lazy("Phone"), _lazy("As people dial it, e.g. 06 12 34 56 78 or +48 601 234 567."), "06 12 34 56 78"),
    "language": (_lazy("Language"), _lazy("en, fr or pl."), "fr"),
    "timezone": (_lazy("Time zone"), _lazy("e.g. Europe/Paris or Europe/Warsaw."), "Europe/Paris"),
    "manager_email": (
        _lazy("Manager's email"),
        _lazy("A learner already known or in the same file."),
        "maria.manager@example.com",
    ),
    "groups": (_lazy("Groups"), _lazy("Existing group names separated by “;”."), "Warehouse;Office"),
    "consent": (
        _lazy("Consent"),
        _lazy("Consent to the processing of personal data: yes, no, or the date it was given (2026-03-14)."),
        "2026-03-14",
    ),
}
OPTIONAL = ("first_name", "last_name", "phone", "language", "timezone")
GROUP_SEPARATOR = ";"
# No name, address or code holds a line break, a tab or NUL (which PostgreSQL refuses outright): such a
# cell is refused with its line, never written nor used in a query.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
# The longest text each column's database field holds; a longer cell is refused with its line.
_LONGEST = {
    "email": Learner._meta.get_field("email").max_length,
    "first_name": Learner._meta.get_field("first_name").max_length,
    "last_name": Learner._meta.get_field("last_name").max_length,
    "timezone": Learner._meta.get_field("timezone").max_length,
    "manager_email": Learner._meta.get_field("email").max_length,
}


@cache
def _timezones() -> frozenset:
    return frozenset(zoneinfo.available_timezones())


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def _is_searchable(email: str) -> bool:
    return bool(email) and not _CONTROL_CHARACTERS.search(email)


def line_number(row_number: int) -> int:
    """The line of the file a data row is on (the header is line 1)."""
    return row_number + 1


class _PreloadedLearners(BaseInstanceLoader):
    """Existing learners read once for the whole file (one query), not once per row."""

    def __init__(self, resource, dataset=None):
        super().__init__(resource, dataset)
        self.by_email = resource.existing

    def get_instance(self, row):
        learner = self.by_email.get(_text(row.get("email")).lower())
        if learner is not None:
            # The "before" of the preview, read once in before_import.
            learner.imported_manager_email = self.resource.manager_email_of.get(learner.pk, "")
            learner.imported_groups = GROUP_SEPARATOR.join(self.resource.groups_of.get(learner.pk, []))
            learner.imported_consent = consent_in_words(learner.consent_given_at)
        return learner


# Written after the rows (links, consents), never as columns of the learner row.
COMPUTED_COLUMNS = ("manager_column", "groups_column", "consent_column")


class LearnerResource(resources.ModelResource):
    # Applied after the rows (services.link_imported_learners); shown in the preview from preloaded values.
    manager_column = Field(attribute="imported_manager_email", column_name="manager_email")
    groups_column = Field(attribute="imported_groups", column_name="groups")
    consent_column = Field(attribute="imported_consent", column_name="consent")

    class Meta:
        model = Learner
        fields = (
            "email",
            "first_name",
            "last_name",
            "phone",
            "language",
            "timezone",
            "manager_column",
            "groups_column",
            "consent_column",
        )
        import_id_fields = ("email",)
        use_bulk = True
        batch_size = 2000
        clean_model_instances = False
        skip_diff = False
        instance_loader_class = _PreloadedLearners

    def __init__(self, *, source=Invitation.Source.BULK_IMPORT, actor=None, shown_rows=None, **kwargs):
        super().__init__(**kwargs)
        self.source = source
        self.actor = actor
        # A page of the preview: only these data rows are checked and diffed, against the whole file's
        # emails and managers (None: every row).
        self.shown_rows = shown_rows
        self.existing = {}

    def get_bulk_update_fields(self):
        # Managers and groups are written after the rows, not as columns of the learner row.
        return [f for f in super().get_bulk_update_fields() if f not in COMPUTED_COLUMNS]

    def import_data(self, dataset, **kwargs):
        # All or nothing (seed 002): a file with any bad row imports nothing, whoever calls.
        kwargs["use_transactions"] = True
        kwargs["rollback_on_validation_errors"] = True
        return super().import_data(dataset, **kwargs)

    # --- Reading the file ---------------------------------------------------------------------------------

    def before_import(self, dataset, **kwargs):
        dataset.headers = [_text(h).lower().replace(" ", "_") for h in dataset.headers or []]
        emails = set()
        managers = set()
        self.line_of_email = {}
        self.duplicates = {}
        for i, row in enumerate(dataset.dict, 1):
            email = _text(row.get("email")).lower()
            if not _is_searchable(email):
                continue
            if email in self.line_of_email:
                self.duplicates[i] = self.line_of_email[email]
            else:
                self.line_of_email[email] = line_number(i)
            if self.shown_rows is not None and i not in self.shown_rows:
                continue  # a page reads from the database only the learners its own rows name
            emails.add(email)
            if _is_searchable(_text(row.get("manager_email"))):
                managers.add(_text(row.get("manager_email")).lower())
        wanted = emails | managers
        known = Learner.objects.annotate(email_ci=Lower("email")).filter(email_ci__in=wanted)
        by_email = {learner.email.lower(): learner for learner in known}
        self.existing = {email: by_email[email] for email in emails if email in by_email}
        self.known_managers = {email for email in managers if email in by_email}
        self.group_names = set(LearnerGroup.objects.values_list("name", flat=True))
        # What the preview shows as the "before" of existing learners: two queries for the whole file.
        manager_ids = {learner.manager_id for learner in self.existing.values() if learner.manager_id}
        emails_by_pk = dict(Learner.objects.filter(pk__in=manager_ids).values_list("pk", "email"))
        self.manager_email_of = {
            learner.pk: emails_by_pk.get(learner.manager_id, "") for learner in self.existing.values()
        }
        self.groups_of = {}
        memberships = GroupMembership.objects.filter(learner__in=[lr.pk for lr in self.existing.values()])
        for learner_id, name in memberships.values_list("learner_id", "group__name").order_by("group__name"):
            self.groups_of.setdefault(learner_id, []).append(name)
        self.links = []  # (email, manager email, [group names]) of each valid row
        self.consents = {}  # email -> (given, at) of each valid row that changes the learner's consent

    def import_row(self, row, instance_loader, **kwargs):
        if self.shown_rows is not None and kwargs["row_number"] not in self.shown_rows:
            left_out = self.get_row_result_class()()
            left_out.import_type = left_out.IMPORT_TYPE_SKIP
            return left_out
        return super().import_row(row, instance_loader, **kwargs)

    def before_import_row(self, row, **kwargs):
        # A blank optional cell keeps the learner's value (and a new learner gets the default).
        for column in OPTIONAL:
            if column in row and _text(row[column]) == "":
                del row[column]
        for column in ("email", *OPTIONAL):
            if column in row:
                row[column] = _text(row[column])

    def import_instance(self, instance, row, **kwargs):
        errors = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        for field, message in self._row_problems(instance, row, kwargs["row_number"]):
            errors.setdefault(field, []).append(message)
        if errors:
            raise ValidationError(errors)
        groups = [g.strip() for g in _text(row.get("groups")).split(GROUP_SEPARATOR) if g.strip()]
        manager = _text(row.get("manager_email")).lower()
        self.links.append((row["email"].lower(), manager, groups))
        # The "after" the preview shows: memberships are added, never removed; a blank manager cell keeps it.
        instance.imported_manager_email = manager or self.manager_email_of.get(instance.pk, "")
        instance.imported_groups = GROUP_SEPARATOR.join(sorted({*self.groups_of.get(instance.pk, []), *groups}))
        current = instance.consent_given_at if instance.pk else None
        wanted = read_consent(row.get("consent"))
        if wanted is not None and changes_consent(current, wanted[:2], dated=wanted[2]):
            self.consents[row["email"].lower()] = wanted[:2]
            current = wanted[1] if wanted[0] else None
        instance.imported_consent = consent_in_words(current)

    def _cell_problems(self, row, line):
        for column in COLUMNS:
            if column == "consent":
                continue  # a date cell of an xlsx file is a date, not text: read by _consent_problems
            value = _text(row.get(column))
            if _CONTROL_CHARACTERS.search(value):
                yield (
                    column,
                    _("Line %(line)s: the %(column)s cell holds a line break or another control character.")
                    % {"line": line, "column": column},
                )
            elif column in _LONGEST and len(value) > _LONGEST[column]:
                yield (
                    column,
                    _("Line %(line)s: the %(column)s cell is longer than %(limit)s characters.")
                    % {"line": line, "column": column, "limit": _LONGEST[column]},
                )

    def _row_problems(self, instance, row, row_number):
        email = _text(row.get("email"))
        line = line_number(row_number)
        broken = set()
        for column, problem in self._cell_problems(row, line):
            broken.add(column)
            yield column, problem
        # A broken cell is named once; the checks of its value below would only repeat it.
        row = {column: value for column, value in row.items() if column not in broken}
        if "email" in broken:
            email = ""
        elif not email:
            yield "email", _("Line %(line)s: the email address is missing.") % {"line": line}
        else:
            try:
                validate_email(email)
            except ValidationError:
                yield "email", _("Line %(line)s: “%(value)s” is not an email address.") % {"line": line, "value": email}
        if row_number in self.duplicates:
            yield (
                "email",
                _("Line %(line)s: %(email)s is already on line %(first)s of this file.")
                % {
                    "line": line,
                    "email": email,
                    "first": self.duplicates[row_number],
                },
            )
        if instance.pk is None:
            for column, words in (("first_name", _("first name")), ("last_name", _("last name"))):
                if column not in broken and not _text(row.get(column)):
                    yield column, _("Line %(line)s: a new learner needs a %(what)s.") % {"line": line, "what": words}
        phone = _text(row.get("phone"))
        if phone:
            try:
                # National formats are read in the organisation's region; the learner is saved with E.164.
                normalise_phone(phone)
            except ValidationError:
                yield (
                    "phone",
                    _("Line %(line)s: the phone “%(value)s” is not a number any network can reach.")
                    % {
                        "line": line,
                        "value": phone,
                    },
                )
        language = _text(row.get("language"))
        if language and language not in Language.values:
            yield (
                "language",
                _("Line %(line)s: the language “%(value)s” is not one of en, fr, pl.")
                % {
                    "line": line,
                    "value": language,
                },
            )
        tz = _text(row.get("timezone"))
        if tz and tz not in _timezones():
            yield (
                "timezone",
                _("Line %(line)s: “%(value)s” is not a known time zone (e.g. Europe/Paris).")
                % {
                    "line": line,
                    "value": tz,
                },
            )
        manager = _text(row.get("manager_email")).lower()
        if manager:
            if manager == email.lower():
                yield "manager_email", _("Line %(line)s: a learner cannot be their own manager.") % {"line": line}
            elif manager not in self.known_managers and manager not in self.line_of_email:
                yield (
                    "manager_email",
                    _("Line %(line)s: the manager %(email)s is neither a learner nor in this file.")
                    % {"line": line, "email": manager},
                )
        yield from self._consent_problems(row, line)
        for group in (g.strip() for g in _text(row.get("groups")).split(GROUP_SEPARATOR)):
            if group and group not in self.group_names:
                yield (
                    "groups",
                    _("Line %(line)s: there is no group named “%(group)s”.") % {"line": line, "group": group},
                )

    def _consent_problems(self, row, line):
        try:
            read_consent(row.get("consent"))
        except ConsentCellError as exc:
            value = row.get("consent")
            yield (
                "consent",
                _("Line %(line)s: the consent “%(value)s” cannot be read: %(why)s.")
                % {"line": line, "value": _text(value)[:40], "why": exc},
            )

    # --- After the rows: managers, groups, invitations ------------------------------------------------------

    def after_import(self, dataset, result, **kwargs):
        if result.has_errors() or result.has_validation_errors() or self.shown_rows is not None:
            return
        services.link_imported_learners(
            self.links,
            new_emails=set(self.line_of_email) - set(self.existing),
            source=self.source,
            actor=self.actor,
            consents=self.consents,
        )


def template_dataset():
    """The template file offered on the import page: the columns and one example row."""
    return tablib.Dataset([example for _name, _help, example in COLUMN_HELP.values()], headers=list(COLUMN_HELP))


def import_learners(dataset, *, dry_run=False, actor=None, source=Invitation.Source.BULK_IMPORT, **options):
    """Import learners from a tablib Dataset; returns django-import-export's Result (nothing is emailed)."""
    resource = LearnerResource(source=source, actor=actor)
    return resource.import_data(dataset, dry_run=dry_run, raise_errors=False, user=actor, **options)


def preview_rows(dataset, *, row_numbers, actor=None):
    """A page of the preview: the Result of a dry run of only these data rows (1 = the first under the header),
    each checked against the whole file as the full import checks it; the other rows are left out, unread."""
    resource = LearnerResource(actor=actor, shown_rows=frozenset(row_numbers))
    result = resource.import_data(dataset, dry_run=True, raise_errors=False, user=actor)
    result.rows = [row for row in result.rows if row.import_type != row.IMPORT_TYPE_SKIP]
    return result
