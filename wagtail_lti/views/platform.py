"""LTI 1.3 platform endpoints (authorization, token, JWKS). Built out by the LTI 1.3 work."""

from django.views.decorators.csrf import csrf_exempt

from .. import launch_log

# The token endpoint and the JWKS live in ``wagtail_lti.views.services``; re-exported here.
from .services import jwks, token  # noqa: F401


@csrf_exempt
@launch_log.logged("id_token", user_from_session=True)
def authorize(request):
    """The OIDC authorization endpoint of LTI 1.3 launches (``wagtail_lti.views.lti13_launch``)."""
    from .lti13_launch import authorize as handle_authorization_request

    return handle_authorization_request(request)
