"""Signal receivers of wagtail-lti, connected when the app is ready."""

from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from wagtail.models import Page, PageViewRestriction
from wagtail.signals import (
    copy_for_translation_done,
    page_published,
    page_unpublished,
    post_page_move,
)

from .courses.copies import on_copy_for_translation
from .courses.placements import on_page_published
from .launch.targets import catalogue_changed
from .launch_log import forget_debug_data
from .models import (
    CourseCopy,
    LineItem,
    LtiProvider,
    LtiResourceLink,
    Organization,
    Placement,
)
from .services.access_tokens import revoke_when_keys_change


# Course pages: every course-activity block gets its placement (and automatic line item).
page_published.connect(on_page_published, dispatch_uid="wagtail_lti_sync_placements")
# A course page copied for translation is a copy of it: it remembers where it came from.
copy_for_translation_done.connect(
    on_copy_for_translation, dispatch_uid="wagtail_lti_copy_for_translation"
)


def queue_context_copy_notices(
    sender, instance, created: bool = False, raw: bool = False, **kwargs
):
    """A course page just created as a copy (``CoursePageMixin.copy_all_child_relations``): queue
    an ``LtiContextCopyNotice`` for its tools, in the copy's transaction."""
    original = instance.__dict__.pop("_wagtail_lti_copied_from", None)
    if original is None or not created or raw or getattr(instance, "alias_of_id", None):
        return
    from .services.notices import queue_context_copy

    queue_context_copy(original, instance, user=getattr(instance, "owner", None))


# Course pages: a copy tells the tools of its activities (Platform Notification Service).
post_save.connect(queue_context_copy_notices, dispatch_uid="wagtail_lti_context_copy_notices")
# Providers: switching launch debugging off drops the debug data the launch log kept.
post_save.connect(forget_debug_data, sender=LtiProvider, dispatch_uid="wagtail_lti_forget_debug")
# Providers: a replaced tool key (JWKS URL or PEM) revokes the access tokens issued before.
pre_save.connect(
    revoke_when_keys_change, sender=LtiProvider, dispatch_uid="wagtail_lti_revoke_on_new_keys"
)


# What launches keep about placements (wagtail_lti.launch.targets) is dropped in every process
# when anything it is made of changes. Of pages, launches read only a course page's published
# state (title, live, course code, organization) and its place in the tree: a draft saved, or any
# save of a page that is not a course page, changes nothing they read.
# Page view restrictions too: launches honour them (wagtail_lti.launch.rules).
_CATALOGUE = (
    LtiProvider,
    LtiResourceLink,
    Placement,
    CourseCopy,
    LineItem,
    Organization,
    PageViewRestriction,
)

#: The fields a draft save (``save_revision``) writes: none of them is read by launches.
DRAFT_FIELDS = frozenset(
    {
        "draft_title",
        "has_unpublished_changes",
        "latest_revision",
        "latest_revision_created_at",
        "locked",
        "locked_at",
        "locked_by",
    }
)


def page_change_matters(instance, update_fields=None) -> bool:
    """Whether saving page ``instance`` can change what launches read (a course page, not a draft)."""
    from .models import CoursePageMixin

    if not isinstance(instance, CoursePageMixin):
        return False
    return not (update_fields and set(update_fields) <= DRAFT_FIELDS)


def _catalogue_changed(sender, instance=None, **kwargs) -> None:
    if instance is None or isinstance(instance, _CATALOGUE):
        catalogue_changed()
    elif isinstance(instance, Page):
        if kwargs.get("signal") is post_delete:
            # Deleting a page deletes its subtree as plain pages: any page may hold courses.
            catalogue_changed()
        elif page_change_matters(instance, kwargs.get("update_fields")):
            catalogue_changed()


def _page_moved(sender, instance=None, **kwargs) -> None:
    # A move changes the place of every course page below it: any page counts.
    catalogue_changed()


# Page subclasses send with their own class as the sender: listen to all, filter above.
post_save.connect(_catalogue_changed, dispatch_uid="wagtail_lti_catalogue_saved")
post_delete.connect(_catalogue_changed, dispatch_uid="wagtail_lti_catalogue_deleted")
for _model in (LtiProvider, LtiResourceLink):
    m2m_changed.connect(
        _catalogue_changed,
        sender=_model.available_to.through,
        dispatch_uid=f"wagtail_lti_catalogue_availability_{_model.__name__}",
    )


def _view_restriction_groups_changed(sender, **kwargs) -> None:
    catalogue_changed()


# A page view restriction's groups, from either side (launches honour view restrictions).
m2m_changed.connect(
    _view_restriction_groups_changed,
    sender=PageViewRestriction.groups.through,
    dispatch_uid="wagtail_lti_catalogue_view_restriction_groups",
)
for _name, _signal in (
    ("published", page_published),
    ("unpublished", page_unpublished),
):
    _signal.connect(_catalogue_changed, dispatch_uid=f"wagtail_lti_catalogue_page_{_name}")
post_page_move.connect(_page_moved, dispatch_uid="wagtail_lti_catalogue_page_moved")
