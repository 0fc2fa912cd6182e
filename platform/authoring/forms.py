import re

from django import forms
from django.conf import settings
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


class GiftImportForm(forms.Form):
    """A GIFT file for a course: which language it is written in, and where its new questions go."""

    file = forms.FileField(label=_("GIFT file"), help_text=_("UTF-8 text, as Moodle exports it; at most 2 MB."))
    language = forms.ChoiceField(label=_("Language of the file"), choices=settings.LANGUAGES)
    lesson = forms.ChoiceField(
        label=_("Lesson"), help_text=_("Where new questions go, unless a $CATEGORY: line names a lesson of the course.")
    )
    fact = forms.ChoiceField(
        label=_("Fact"),
        help_text=_("What new questions are about, unless a “// gradlab facts:” comment before one names its facts."),
    )

    def __init__(self, *args, course: Course, **kwargs):
        super().__init__(*args, **kwargs)
        lessons = list(course.lessons.live().order_by("position"))
        self.lessons = {lesson.key: lesson for lesson in lessons}
        self.fields["lesson"].choices = [(lesson.key, lesson.title) for lesson in lessons]
        facts = {lesson.key: list(lesson.facts.live().order_by("number")) for lesson in lessons}
        self.facts = {fact.key: fact for found in facts.values() for fact in found}
        self.fields["fact"].choices = [
            (lesson.title, [(fact.key, f"{fact.number}. {fact.statement}") for fact in facts[lesson.key]])
            for lesson in lessons
            if facts[lesson.key]
        ]

    def clean_lesson(self):
        return self.lessons[self.cleaned_data["lesson"]]

    def clean_fact(self):
        return self.facts[self.cleaned_data["fact"]]


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
