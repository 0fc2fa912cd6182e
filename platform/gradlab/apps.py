from django.apps import AppConfig


class GradlabConfig(AppConfig):
    name = "gradlab"

    def ready(self) -> None:
        # Before any URL configuration is read: the apps' routes use `<id:…>`.
        from gradlab.inputs import register_converters

        register_converters()
