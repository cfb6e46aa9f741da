from wagtail import blocks
from wagtail.admin.panels import FieldPanel
from wagtail.fields import StreamField
from wagtail.models import Page

from wagtail_lti.blocks import CourseActivityBlock
from wagtail_lti.models import CoursePageMixin


class HomePage(Page):
    """The example site's root page; course pages live under it."""

    template = "courses/home_page.html"


class CoursePage(CoursePageMixin, Page):
    """A course: text and LTI activities, offered by one organization to its enrolled learners."""

    body = StreamField(
        [
            ("paragraph", blocks.RichTextBlock(label="Paragraph")),
            ("lti_activity", CourseActivityBlock()),
        ],
        blank=True,
    )

    content_panels = Page.content_panels + CoursePageMixin.course_panels + [FieldPanel("body")]

    parent_page_types = ["courses.HomePage", "wagtailcore.Page"]
    subpage_types: list[str] = []
    template = "courses/course_page.html"

    class Meta:
        verbose_name = "course page"
