from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.forms import UserCreationForm
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import User


class SignupForm(UserCreationForm):
    email = forms.EmailField(
        label=_("E-mail address"),
        help_text=_("Only used to reset your password."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")

    def clean_email(self) -> str:
        # A taken address is not refused here: the form would tell who has an account.
        return User.objects.normalize_email(self.cleaned_data["email"])


class PasswordResetForm(auth_forms.PasswordResetForm):
    def get_users(self, email):
        """Active accounts, and pending ones: a reset link that reaches the address confirms it
        (the way back for someone whose address another person signed up with)."""
        candidates = User.objects.filter(Q(is_active=True) | Q(email_confirmed=False), email__iexact=email)
        return (user for user in candidates if user.has_usable_password() and user.email.casefold() == email.casefold())


class LanguageForm(forms.Form):
    language = forms.ChoiceField(choices=())
    next = forms.CharField(required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = settings.LANGUAGES
