from django.apps import AppConfig


class DemoToolConfig(AppConfig):
    name = "demo_tool"
    verbose_name = "Demo LTI tool"
    default_auto_field = "django.db.models.BigAutoField"
