from wagtail.models import Page


class HomePage(Page):
    """The example site's root page; course pages live under it."""

    template = "courses/home_page.html"
