import math

from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_decode
from django.utils.translation import activate, get_language
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST, require_safe

from accounts import limits, services
from accounts.client import client_ip
from accounts.forms import LanguageForm, PasswordResetForm, SignupForm
from accounts.models import User
from accounts.tokens import email_confirmation_token


def safe_next(request: HttpRequest, candidate: str | None, fallback: str = "/") -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return fallback


def remember_language(response: HttpResponse, language: str) -> HttpResponse:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        secure=getattr(settings, "LANGUAGE_COOKIE_SECURE", False),
        httponly=True,
    )
    return response


EMAIL_LIMIT_MESSAGES = {
    "email": _("Too many e-mails have gone to this address lately. Please try again later."),
    None: _("Too many e-mails have been asked for from your connection lately. Please try again later."),
}


def _email_budget_spent(request: HttpRequest, form, email: str) -> bool:
    """Count one account e-mail; when the limit is reached, say so on the form instead."""
    try:
        limits.account_email_take(client=client_ip(request), recipient=email)
    except limits.EmailLimitReached as reached:
        form.add_error(reached.field, EMAIL_LIMIT_MESSAGES[reached.field])
        return True
    return False


def signup(request: HttpRequest) -> HttpResponse:
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    # next_url is a URL, never a view's name: redirect("0") would look up a view named "0".
    if request.user.is_authenticated:
        return HttpResponseRedirect(next_url)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if _email_budget_spent(request, form, form.cleaned_data["email"]):
            return render(request, "accounts/signup.html", {"form": form, "next": next_url}, status=429)
        services.user_sign_up(
            username=form.cleaned_data["username"],
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
            language=get_language() or settings.LANGUAGE_CODE,
            site=request.build_absolute_uri("/").rstrip("/"),
            next_url=next_url,
        )
        return redirect("signup_done")
    return render(request, "accounts/signup.html", {"form": form, "next": next_url})


@require_safe
def signup_done(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/signup_done.html")


def confirm_email(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """The link of the welcome e-mail: a page with a button, so that a mail scanner opening
    the link confirms nothing; the button confirms the account and logs in."""
    try:
        account = User.objects.get(pk=urlsafe_base64_decode(uidb64).decode())
    except (ValueError, User.DoesNotExist):
        account = None
    valid = account is not None and email_confirmation_token.check_token(account, token)
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if request.method == "POST" and valid:
        services.user_confirm_email(user=account)
        login(request, account, backend="django.contrib.auth.backends.ModelBackend")
        return HttpResponseRedirect(next_url)
    context = {"valid": valid, "account": account, "next": next_url}
    return render(request, "accounts/confirm_email.html", context, status=200 if valid else 400)


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PasswordResetForm

    def form_valid(self, form):
        if _email_budget_spent(self.request, form, form.cleaned_data["email"]):
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    def form_valid(self, form):
        response = super().form_valid(form)
        services.user_confirm_email(user=form.user)
        return response


def locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """What django-axes answers while logins are paused (AXES_LOCKOUT_CALLABLE)."""
    cool_off = get_cool_off(request)
    minutes = max(1, math.ceil(cool_off.total_seconds() / 60)) if cool_off else 1
    return render(request, "accounts/lockout.html", {"minutes": minutes}, status=settings.AXES_HTTP_RESPONSE_CODE)


class LoginView(auth_views.LoginView):
    """Log in, then switch to the language the learner chose last time."""

    def form_valid(self, form):
        response = super().form_valid(form)
        language = form.get_user().language
        if language:
            activate(language)
            remember_language(response, language)
        return response


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    form = LanguageForm(request.POST)
    next_url = safe_next(request, request.POST.get("next") or request.META.get("HTTP_REFERER"))
    response = HttpResponseRedirect(next_url)
    if not form.is_valid():
        return response
    language = form.cleaned_data["language"]
    if request.user.is_authenticated:
        services.user_set_language(user=request.user, language=language)
    return remember_language(response, language)
