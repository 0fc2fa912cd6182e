import re

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from courses.content.schema import SLUG
from courses.models import Course, CourseStaff

KEY_MAX_LENGTH = 50


class CourseCreateForm(forms.ModelForm):
    """A new course: the same rules for its key as the content files' folder names."""

    key = forms.CharField(
        label=capfirst(_("key")),
        max_length=KEY_MAX_LENGTH,
        help_text=_(
            "Its address: /courses/KEY/. Lowercase letters, digits and single hyphens; it cannot change later."
        ),
        widget=forms.TextInput(attrs={"autocapitalize": "none", "spellcheck": "false"}),
    )

    class Meta:
        model = Course
        fields = ["key", "title_de", "title_en", "summary_de", "summary_en"]
        help_texts = {
            "key": _(
                "Its address: /courses/KEY/. Lowercase letters, digits and single hyphens; it cannot change later."
            )
        }
        widgets = {"summary_de": forms.Textarea(attrs={"rows": 3}), "summary_en": forms.Textarea(attrs={"rows": 3})}

    def clean_key(self) -> str:
        key = self.cleaned_data["key"].strip()
        if not re.fullmatch(SLUG, key):
            raise forms.ValidationError(
                _("Use lowercase letters, digits and single hyphens between them, such as “neural-networks”."),
                code="invalid",
            )
        if Course.objects.filter(key=key).exists():
            raise forms.ValidationError(_("A course with the key “%(key)s” exists already."), params={"key": key})
        return key


class StaffAddForm(forms.Form):
    who = forms.CharField(
        label=_("Username or e-mail address"), max_length=254, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    role = forms.ChoiceField(label=_("Role"), choices=CourseStaff.Role.choices, initial=CourseStaff.Role.EDITOR)

    def clean_who(self) -> User:
        who = self.cleaned_data["who"].strip()
        if "@" in who:
            matches = list(User.objects.filter(email__iexact=who)[:2])
            if len(matches) > 1:
                raise forms.ValidationError(
                    _("Several accounts have the e-mail address “%(who)s”: please give the username."),
                    params={"who": who},
                    code="ambiguous",
                )
        else:
            matches = list(User.objects.filter(username=who)[:1])
        if not matches:
            raise forms.ValidationError(
                _("No account has the username or e-mail address “%(who)s”."), params={"who": who}, code="unknown"
            )
        return matches[0]


class StaffRoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=CourseStaff.Role.choices)
