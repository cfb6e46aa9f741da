from django.apps import AppConfig


class WagtailLtiAppConfig(AppConfig):
    name = "wagtail_lti"
    label = "wagtail_lti"
    verbose_name = "LTI"
    default_auto_field = "django.db.models.AutoField"

    def ready(self) -> None:
        from . import signals  # noqa: F401
        from .admin import history
        from .permissions import register_policies
        from .security import exports

        register_policies()
        exports.install()
        history.install()
