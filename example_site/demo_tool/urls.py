"""The demo tool: a real LTI tool served by the example site, apart from the plugin."""

app_name = "demo_tool"
urlpatterns: list = []
