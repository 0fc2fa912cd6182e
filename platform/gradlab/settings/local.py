"""Development and the embedded default: safe to run on a laptop, not for the internet."""

from gradlab.env import env_bool, env_list, env_str
from gradlab.settings.base import *  # noqa: F403
from gradlab.settings.base import mailer_from_env

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = env_str("SECRET_KEY", "dev-only-insecure-key-change-me-in-production-0123456789")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
MAILERS = {"default": mailer_from_env("django.core.mail.backends.console.EmailBackend")}
