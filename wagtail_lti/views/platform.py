"""LTI 1.3 platform endpoints (authorization, token, JWKS). Built out by the LTI 1.3 work."""

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def authorize(request):
    """The OIDC authorization endpoint of LTI 1.3 launches (``wagtail_lti.views.lti13_launch``)."""
    from .lti13_launch import authorize as handle_authorization_request

    return handle_authorization_request(request)


@csrf_exempt
def token(request):
    return JsonResponse({"error": "unsupported_grant_type"}, status=404)


def jwks(request):
    return JsonResponse({"keys": []}, status=404)
