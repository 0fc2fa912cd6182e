from django.contrib.auth.tokens import PasswordResetTokenGenerator


class EmailConfirmationTokenGenerator(PasswordResetTokenGenerator):
    """The link in the welcome e-mail: valid until used (confirming changes the hash) or until
    PASSWORD_RESET_TIMEOUT, and never as a password-reset token."""

    key_salt = "accounts.tokens.EmailConfirmationTokenGenerator"

    def _make_hash_value(self, user, timestamp) -> str:
        return f"{super()._make_hash_value(user, timestamp)}{user.email_confirmed}"


email_confirmation_token = EmailConfirmationTokenGenerator()
