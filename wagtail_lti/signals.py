"""Signal receivers of wagtail-lti, connected when the app is ready."""

from django.db.models.signals import m2m_changed, post_delete, post_save
from wagtail.models import Page, PageViewRestriction
from wagtail.signals import page_published, page_unpublished, post_page_move

from .launch_log import forget_debug_data
from .launch_targets import catalogue_changed
from .models import LineItem, LtiProvider, LtiResourceLink, Organization, Placement
from .placements import on_page_published


# Course pages: every course-activity block gets its placement (and automatic line item).
page_published.connect(on_page_published, dispatch_uid="wagtail_lti_sync_placements")
# Providers: switching launch debugging off drops the debug data the launch log kept.
post_save.connect(forget_debug_data, sender=LtiProvider, dispatch_uid="wagtail_lti_forget_debug")


# What launches keep about placements (wagtail_lti.launch_targets) is dropped in every process
# when anything it is made of changes.
_CATALOGUE = (
    LtiProvider,
    LtiResourceLink,
    Placement,
    LineItem,
    Organization,
    Page,
    PageViewRestriction,
)


def _catalogue_changed(sender, instance=None, **kwargs) -> None:
    if instance is None or isinstance(instance, _CATALOGUE):
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
    ("moved", post_page_move),
):
    _signal.connect(_catalogue_changed, dispatch_uid=f"wagtail_lti_catalogue_page_{_name}")
