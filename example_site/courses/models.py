from wagtail import blocks
from wagtail.admin.panels import FieldPanel
from wagtail.fields import StreamField
from wagtail.models import Page

from wagtail_lti.blocks import CourseActivityBlock, ToolContentBlock
from wagtail_lti.models import CoursePageMixin


#: Wagtail's default rich-text features and "Insert from a tool" (wagtail-lti's ``lti-tool``).
RICH_TEXT_FEATURES = [
    "h2",
    "h3",
    "h4",
    "bold",
    "italic",
    "ol",
    "ul",
    "hr",
    "link",
    "document-link",
    "image",
    "embed",
    "lti-tool",
]


class HomePage(Page):
    """The example site's root page; course pages live under it."""

    template = "courses/home_page.html"


class CoursePage(CoursePageMixin, Page):
    """A course: text and LTI activities, offered by one organization to its enrolled learners."""

    body = StreamField(
        [
            ("paragraph", blocks.RichTextBlock(label="Paragraph", features=RICH_TEXT_FEATURES)),
            ("lti_activity", CourseActivityBlock()),
            ("tool_content", ToolContentBlock()),
        ],
        blank=True,
    )

    content_panels = Page.content_panels + CoursePageMixin.course_panels + [FieldPanel("body")]

    parent_page_types = ["courses.HomePage", "wagtailcore.Page"]
    subpage_types: list[str] = []
    template = "courses/course_page.html"

    class Meta:
        verbose_name = "course page"
