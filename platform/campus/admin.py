"""The admin registers platforms (django-lti's registrations and deployments) and rotates the tool's key."""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from lti_tool.admin import LtiDeploymentInline, LtiRegistrationAdmin
from lti_tool.models import Key, LtiRegistration

from campus.launches import tool_key_ensure
from campus.models import CourseContext
from gradlab.admin import SiteAdminMixin


def tool_urls(request) -> list[tuple[str, str]]:
    """What an LMS asks for when Gradlab is registered in it, as this request's site spells it."""
    return [
        (_("Initiate login URL (OIDC login initiation)"), request.build_absolute_uri(reverse("campus:login"))),
        (_("Redirection URI and tool URL (launch)"), request.build_absolute_uri(reverse("campus:launch"))),
        (_("Public keyset URL (JWKS)"), request.build_absolute_uri(reverse("campus:jwks"))),
    ]


class DeploymentInline(LtiDeploymentInline):
    fields = ("deployment_id", "is_active")
    extra = 1


admin.site.unregister(LtiRegistration)


@admin.register(LtiRegistration)
class RegistrationAdmin(SiteAdminMixin, LtiRegistrationAdmin):
    inlines = [DeploymentInline]

    def get_fieldsets(self, request, obj=None):
        described = format_html(
            "<p>{}</p><dl class='lti-tool-urls'>{}</dl>",
            _(
                "Enter these in the LMS when you register Gradlab there; "
                "it gives you the issuer, client ID and its own URLs to enter below."
            ),
            format_html_join("", "<dt>{}</dt><dd><code>{}</code></dd>", tool_urls(request)),
        )
        return [
            (_("Gradlab's URLs for the LMS"), {"description": described, "fields": []}),
            *super().get_fieldsets(request, obj),
        ]


@admin.register(Key)
class KeyAdmin(SiteAdminMixin, admin.ModelAdmin):
    """The tool's signing keys. Rotating publishes a new key beside the old ones; retire the old one later."""

    list_display = ("kid", "is_active", "datetime_created")
    fields = ("kid", "public_key", "is_active", "datetime_created")
    readonly_fields = ("kid", "public_key", "datetime_created")
    actions = ["rotate", "retire"]

    @admin.display(description=_("key ID (kid)"))
    def kid(self, key: Key) -> str:
        return str(key)

    def has_add_permission(self, request) -> bool:
        return False  # a key is made by the "publish a new key" action, never typed in

    def changelist_view(self, request, extra_context=None):
        tool_key_ensure()  # there is always one to select for rotating
        return super().changelist_view(request, extra_context)

    @admin.action(description=_("Publish a new key (the old ones stay in the JWKS until retired)"))
    def rotate(self, request, queryset):
        key = Key.objects.generate()
        self.message_user(
            request, _("Published the new key %(kid)s; Gradlab signs with it from now on.") % {"kid": key}
        )

    @admin.action(description=_("Retire the selected keys (remove them from the JWKS)"))
    def retire(self, request, queryset):
        if not Key.objects.active().exclude(pk__in=queryset.values("pk")).exists():
            self.message_user(request, _("Publish a new key before retiring the last active one."), messages.ERROR)
            return
        retired = queryset.filter(is_active=True).update(is_active=False)
        self.message_user(
            request, ngettext("Retired %(count)d key.", "Retired %(count)d keys.", retired) % {"count": retired}
        )


@admin.register(CourseContext)
class CourseContextAdmin(SiteAdminMixin, admin.ModelAdmin):
    list_display = ("context", "course", "last_launch_at", "linked_at")
    list_filter = ("course",)
    readonly_fields = ("context", "course", "first_launch_at", "last_launch_at", "linked_at", "linked_by")

    def has_add_permission(self, request) -> bool:
        return False  # rows come from launches
