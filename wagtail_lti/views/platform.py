"""LTI 1.3 platform endpoints (authorization, token, JWKS). Built out by the LTI 1.3 work."""

from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def authorize(request):
    return HttpResponse("Not implemented yet", status=404)


@csrf_exempt
def token(request):
    return JsonResponse({"error": "unsupported_grant_type"}, status=404)


def jwks(request):
    return JsonResponse({"keys": []}, status=404)
