"""Admin for learners, guardians, groups and invitations.

There may be 100,000 learners: every foreign key to a learner is an
autocomplete field and every list joins what it shows, so a page costs a
fixed number of queries. The Notify buttons are added by template overrides
under templates/admin/learners/ and by appending to LearnerGroupAdmin.actions.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.forms.models import BaseInlineFormSet
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from import_export.formats.base_formats import CSV, XLSX

from lms_notify.parsing import parse_id
from notifications.models import NotifyRun, UndeliverableAddress
from notifications.services import notify_url
from programs.models import Assignment

from . import selectors, services
from .admin_consent import LearnerConsentInline, record_consent
from .admin_import import LearnerImportMixin
from .admin_timeline import LearnerTimelineMixin
from .imports import LearnerResource
from .models import (
    ConsentRecord,
    GroupMembership,
    Guardian,
    Invitation,
    Learner,
    LearnerGroup,
    organisation_timezone,
    timezone_choices,
)


class ConsentFilter(admin.SimpleListFilter):
    title = _("consent")
    parameter_name = "consent"

    def lookups(self, request, model_admin):
        return [("yes", _("Given")), ("no", _("Not given"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(consent_given_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(consent_given_at__isnull=True)
        return queryset


class HasManagerFilter(admin.SimpleListFilter):
    title = _("manager")
    parameter_name = "has_manager"

    def lookups(self, request, model_admin):
        return [("yes", _("Has a manager")), ("no", _("No manager")), ("is_manager", _("Is a manager"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(manager__isnull=False)
        if self.value() == "no":
            return queryset.filter(manager__isnull=True)
        if self.value() == "is_manager":
            return queryset.filter(Q(pk__in=Learner.objects.filter(manager__isnull=False).values("manager")))
        return queryset


class GuardianInline(admin.TabularInline):
    model = Guardian
    extra = 0
    fields = ["name", "email", "phone", "is_enabled"]


class LearnerMembershipInline(admin.TabularInline):
    model = GroupMembership
    extra = 0
    fields = ["group", "joined_at"]
    autocomplete_fields = ["group"]
    verbose_name = _("group membership")
    verbose_name_plural = _("group memberships")


class ReadOnlyInlineMixin:
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class LearnerAssignmentInline(ReadOnlyInlineMixin, admin.TabularInline):
    """Read-only: assigning, completing and unassigning go through programs.services (and notify)."""

    model = Assignment
    fields = readonly_fields = [
        "program",
        "group",
        "assigned_at",
        "due_at",
        "completed_at",
        "expires_at",
        "unassigned_at",
    ]
    verbose_name_plural = _("assignments (manage them from Programs › Assignments)")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("program", "group", "learner")


class LearnerInvitationInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = Invitation
    fields = readonly_fields = ["status", "source", "created_at", "sent_at", "responded_at", "created_by"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("created_by", "learner")


class LearnerUndeliverableInline(ReadOnlyInlineMixin, admin.TabularInline):
    """Her address bounced or she complained; ticking "Delete" clears the mark (needs
    notifications.delete_undeliverableaddress) and messages go to her again."""

    model = UndeliverableAddress
    can_delete = True
    fields = readonly_fields = ["address", "cause", "status_code", "diagnostic", "marked_at", "notification"]
    verbose_name = _("undeliverable address (tick Delete and save to send to it again)")
    verbose_name_plural = _("undeliverable address: messages to it are omitted")

    def has_view_permission(self, request, obj=None):
        # Whoever reads the learner's page must see why she gets nothing; a learner being added has no mark.
        if obj is None:
            return False
        return request.user.has_perm("learners.view_learner") or request.user.has_perm("learners.change_learner")

    def has_delete_permission(self, request, obj=None):
        return obj is not None and request.user.has_perm("notifications.delete_undeliverableaddress")

    def get_queryset(self, request):
        # Not filtered by has_view_permission(request) without a learner (False: the add page has no marks);
        # the inline itself is only shown on a learner's page its reader may view.
        return UndeliverableAddress.objects.select_related("learner", "notification")


class LearnerAddForm(forms.ModelForm):
    send_invitation = forms.BooleanField(
        label=_("Send the invitation"),
        required=False,
        initial=True,
        help_text=_("Email an invitation to sign in to the platform, reminded 7 and 45 days later without an answer."),
    )


class InviteForm(forms.Form):
    send_invitation = forms.BooleanField(
        label=_("Send the invitation"),
        required=False,
        initial=True,
        help_text=_("Off: the invitation is recorded but not emailed (you can send it later with Notify)."),
    )


@admin.register(Learner)
class LearnerAdmin(LearnerTimelineMixin, LearnerImportMixin, admin.ModelAdmin):
    # Import from a file (seed 002 §I): CSV or XLSX, a preview, and nothing imported while any row is bad.
    resource_classes = [LearnerResource]
    import_formats = [CSV, XLSX]
    import_template_name = "admin/learners/learner/import.html"
    # The list keeps its own template (Notify button, and the Import button for those allowed to import).
    change_list_template = "admin/learners/learner/change_list.html"
    import_export_change_list_template = None
    add_form = LearnerAddForm
    actions = ["invite", record_consent, "review_walk_ins"]
    list_display = [
        "full_name",
        "awaiting_review",
        "email",
        "language",
        "manager_link",
        "has_consent",
        "is_active",
        "groups_count",
    ]
    list_display_links = ["full_name", "email"]
    list_filter = ["is_active", "needs_review", ConsentFilter, "language", HasManagerFilter, "groups", "timezone"]
    search_fields = ["email", "first_name", "last_name", "phone"]
    list_select_related = ["manager"]
    autocomplete_fields = ["manager", "user"]
    readonly_fields = ["created_at"]
    date_hierarchy = "created_at"
    list_per_page = 50
    fieldsets = [
        (None, {"fields": [("first_name", "last_name"), "email", "phone"]}),
        (_("Preferences"), {"fields": [("language", "timezone")]}),
        (_("Organisation"), {"fields": ["manager", "user", "is_active", "needs_review"]}),
        (_("Consent and audit"), {"fields": ["consent_given_at", "created_at"]}),
    ]
    inlines = [
        GuardianInline,
        LearnerMembershipInline,
        LearnerAssignmentInline,
        LearnerInvitationInline,
        LearnerConsentInline,
        LearnerUndeliverableInline,
    ]

    def get_queryset(self, request):
        return selectors.learners_for_admin(super().get_queryset(request))

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "timezone":
            # Chosen from the list, never typed; the organisation's zone for a new learner.
            return forms.ChoiceField(
                label=db_field.verbose_name.capitalize(),
                choices=timezone_choices(),
                initial=organisation_timezone(),
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_inlines(self, request, obj):
        # A learner being added has no consent history yet: the form's consent date starts it.
        return self.inlines if obj is not None else [i for i in self.inlines if i is not LearnerConsentInline]

    @admin.display(description=_("name"), ordering="last_name")
    def full_name(self, obj):
        return obj.full_name

    @admin.display(description=_("walk-in to review"), ordering="needs_review")
    def awaiting_review(self, obj):
        # A trainer added this person at a live session; the flag stands out of a column of blanks.
        return _("To review") if obj.needs_review else ""

    @admin.display(description=_("manager"), ordering="manager__last_name")
    def manager_link(self, obj):
        if obj.manager is None:
            return "—"
        url = reverse("admin:learners_learner_change", args=[obj.manager_id])
        return format_html('<a href="{}">{}</a>', url, obj.manager.full_name)

    @admin.display(description=_("consent"), boolean=True, ordering="consent_given_at")
    def has_consent(self, obj):
        return obj.consent_given_at is not None

    @admin.display(description=_("groups"), ordering="groups_count")
    def groups_count(self, obj):
        return obj.groups_count

    def has_import_permission(self, request):
        # An import creates and updates learners: it takes both permissions.
        return request.user.has_perm("learners.add_learner") and request.user.has_perm("learners.change_learner")

    def process_import(self, request, **kwargs):
        # Refused for lack of permission before anything else (even a GET), like every custom admin page.
        if not self.has_import_permission(request):
            raise PermissionDenied
        return super().process_import(request, **kwargs)

    def get_import_resource_kwargs(self, request, **kwargs):
        return {**super().get_import_resource_kwargs(request, **kwargs), "actor": request.user}

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, **kwargs)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return [*fieldsets, (_("Invitation"), {"fields": ["send_invitation"]})]
        return fieldsets

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if "consent_given_at" in form.changed_data:
            # Typed on the learner's form: recorded like any other consent, so its history stays whole.
            given = obj.consent_given_at is not None
            services.record_consent(
                [obj], given=given, at=obj.consent_given_at, source=ConsentRecord.Source.ADMIN, actor=request.user
            )
        if not change:
            # Seed 002 §I: adding a learner invites them; the toggle (on by default) says whether it is emailed.
            services.invite(obj, actor=request.user, send_email=form.cleaned_data.get("send_invitation", False))

    @admin.action(description=_("Reviewed: activate the selected walk-ins"), permissions=["change"])
    def review_walk_ins(self, request, queryset):
        """Walk-ins a trainer added stay inactive until an administrator has checked them."""
        count = services.review_walk_ins(queryset)
        if count:
            self.message_user(request, ngettext("%d walk-in activated.", "%d walk-ins activated.", count) % count)
        else:
            self.message_user(request, _("None of the selected learners is a walk-in to review."), messages.WARNING)

    @admin.action(description=_("Invite selected learners to the platform"), permissions=["change"])
    def invite(self, request, queryset):
        """Seed 002 §I: invite one or several learners, emailing the invitation unless the toggle is off."""
        form = InviteForm(request.POST if "confirm" in request.POST else None)
        if "confirm" not in request.POST or not form.is_valid():
            return TemplateResponse(
                request,
                "admin/learners/learner/invite.html",
                {
                    **self.admin_site.each_context(request),
                    "title": _("Invite to the platform"),
                    "opts": self.model._meta,
                    "learners": queryset[:50],
                    "count": queryset.count(),
                    "form": form,
                    "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
                    "select_across": request.POST.get("select_across", "0"),
                },
            )
        invited = services.invite_many(queryset, actor=request.user, send_email=form.cleaned_data["send_invitation"])
        self.message_user(
            request,
            ngettext("%d learner invited.", "%d learners invited.", len(invited)) % len(invited),
            messages.SUCCESS,
        )
        return None


@admin.register(Guardian)
class GuardianAdmin(admin.ModelAdmin):
    list_display = ["name", "learner", "email", "phone", "is_enabled"]
    list_filter = ["is_enabled"]
    search_fields = ["name", "email", "phone", "learner__email", "learner__last_name"]
    autocomplete_fields = ["learner"]
    list_select_related = ["learner"]


MEMBERS_SHOWN = 100


class LatestMembersFormSet(BaseInlineFormSet):
    """Only the latest members: a group of 100,000 learners must not render 100,000 rows.

    The full list is the Group memberships changelist, linked from the inline title.
    """

    def get_queryset(self):
        if not hasattr(self, "_rows"):
            queryset = super().get_queryset()
            if self.is_bound:
                # The rows posted back, wherever they now rank (a member may have joined since).
                posted = (self.data.get(f"{self.add_prefix(i)}-id", "") for i in range(self.initial_form_count()))
                queryset = queryset.filter(pk__in=[pk for pk in map(parse_id, posted) if pk is not None])
            else:
                queryset = queryset.order_by("-joined_at", "-pk")[:MEMBERS_SHOWN]
            self._rows = list(queryset)
        return self._rows


class GroupMembershipInline(admin.TabularInline):
    model = GroupMembership
    formset = LatestMembersFormSet
    extra = 0
    fields = ["learner", "joined_at"]
    autocomplete_fields = ["learner"]
    verbose_name = _("member")
    verbose_name_plural = format_lazy(
        _("members (the {} most recent; all of them under Group memberships)"), MEMBERS_SHOWN
    )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("learner", "group")


@admin.register(LearnerGroup)
class LearnerGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "members_link", "programs_count", "updated_at"]
    search_fields = ["name", "description"]
    list_filter = ["programs"]
    filter_horizontal = ["programs"]
    readonly_fields = ["updated_at"]
    fields = ["name", "description", "programs", "updated_at"]
    inlines = [GroupMembershipInline]
    # Other features append their actions here (e.g. "Notify group").
    actions = ["notify_group"]

    @admin.action(description=_("Notify group"), permissions=["notify"])
    def notify_group(self, request, queryset):
        """Seed 000 "Notify Group": opens the preview of the Notify buttons for the selected group."""
        groups = list(queryset[:2])
        if len(groups) != 1:
            messages.warning(request, _("Select exactly one group to notify (or use Notify All Groups)."))
            return None
        return redirect(notify_url(NotifyRun.Scope.GROUP, group=groups[0], next_url=request.get_full_path()))

    def has_notify_permission(self, request):
        # The same permission as the Notify buttons themselves (notifications.admin_notify).
        return request.user.has_perm("notifications.add_notifyrun")

    def get_queryset(self, request):
        return selectors.groups_with_counts(super().get_queryset(request))

    @admin.display(description=_("members"), ordering="members_count")
    def members_link(self, obj):
        url = reverse("admin:learners_groupmembership_changelist") + f"?group__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, obj.members_count)

    @admin.display(description=_("programs"), ordering="programs_count")
    def programs_count(self, obj):
        return obj.programs_count


@admin.register(GroupMembership)
class GroupMembershipAdmin(admin.ModelAdmin):
    list_display = ["learner", "group", "joined_at"]
    list_filter = ["group"]
    search_fields = ["learner__email", "learner__first_name", "learner__last_name", "group__name"]
    autocomplete_fields = ["learner", "group"]
    list_select_related = ["learner", "group"]
    date_hierarchy = "joined_at"


class InvitationAddForm(forms.ModelForm):
    send_email = forms.BooleanField(
        label=_("Email the invitation now"),
        required=False,
        initial=True,
        help_text=_("Only invitations added by hand are emailed: imported learners are never emailed."),
    )

    class Meta:
        model = Invitation
        fields = ["learner", "source"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Adding an invitation is learners.services.invite (which emails it); its answer comes from the
    learner's link, so an existing invitation is read-only here."""

    list_display = ["learner", "status", "source", "created_at", "sent_at", "responded_at"]
    list_filter = ["status", "source", ("sent_at", admin.EmptyFieldListFilter)]
    search_fields = ["learner__email", "learner__first_name", "learner__last_name"]
    autocomplete_fields = ["learner"]
    list_select_related = ["learner"]
    date_hierarchy = "created_at"
    add_form = InvitationAddForm
    _answered_fields = ["learner", "status", "source", "created_at", "created_by", "sent_at", "responded_at"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return ["learner", "source", "send_email"] if obj is None else self._answered_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self._answered_fields

    def save_model(self, request, obj, form, change):
        if change:
            return
        invitation = services.invite(
            obj.learner, actor=request.user, source=obj.source, send_email=form.cleaned_data["send_email"]
        )
        # The admin goes on with `obj` (history entry, redirect): make it the invitation just created.
        obj.__dict__.update({k: v for k, v in invitation.__dict__.items() if k != "_state"})
        obj._state.adding = False
