"""The peers' side of ``benchmarks/peers.py``: run in the peers' own environment.

Times, in this process, what each peer does on the server to produce one signed launch, with the
inputs a launch view would have in hand (no database: the peers read their configuration from
their own models, which this leaves out in their favour):

* ``lti1p3platform`` (0.1.8), its Django launch path: ``DjangoLTI1P3MessageLaunch`` over a
  ``DjangoRequest`` of the tool's authentication request, the platform configuration's
  registration (PEM key), user, resource link, context, custom and AGS claims, ``lti_launch()``:
  validate the request, build the message, sign it (PyJWT with the PEM: the key is parsed on
  every launch), render its auto-posting form.
* Open edX ``lti-consumer-xblock`` (11.4.4), what its launch endpoint does per request besides
  the database: construct ``LtiAdvantageConsumer`` (which imports the RSA key into a JWK), set
  the user, resource link, context, launch presentation and custom claims, enable AGS, and
  ``generate_launch_request`` (validate the request, build the message, sign it).
* ``lti`` (0.9.5), LTI 1.1: ``ToolConsumer(...).generate_launch_data()`` (OAuth 1.0a HMAC-SHA1).

Prints one JSON object: the median milliseconds of each.
"""

from __future__ import annotations

import json
import statistics
import sys
import time


def configure_django() -> None:
    import django
    from django.conf import settings

    settings.configure(
        DEBUG=False,
        SECRET_KEY="peers-benchmark-only",
        ALLOWED_HOSTS=["testserver"],
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth"],
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        DATABASES={},
        USE_TZ=True,
        # What lti-consumer-xblock reads from an Open edX LMS's settings.
        PLATFORM_NAME="Benchmark",
        LMS_ROOT_URL=ISSUER,
        LTI_BASE="/api/lti_consumer/v1/",
        LTI_API_BASE="/api/lti_consumer/v1/",
        LTI_CUSTOM_PARAM_TEMPLATES={},
    )
    django.setup()


def private_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


CLIENT_ID = "client-1"
DEPLOYMENT_ID = "deployment-1"
ISSUER = "https://platform.example"
REDIRECT_URI = "https://tool.example/lti/launch/"
AGS = "https://platform.example/ags/1/lineitems"
LEARNER = "https://purl.imsglobal.org/vocab/lis/v2/membership#Learner"


def preflight(n: int) -> dict[str, str]:
    return {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "state": f"state-{n}",
        "nonce": f"nonce-{n}",
        "login_hint": "0123456789abcdef0123456789abcdef",
        "lti_message_hint": f"hint-{n}",
    }


def lti1p3platform_launch(pem: str):
    from django.test import RequestFactory
    from lti1p3platform.framework.django.message_launch import DjangoLTI1P3MessageLaunch
    from lti1p3platform.framework.django.request import DjangoRequest
    from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
    from lti1p3platform.registration import Registration

    class PlatformConfig(LTI1P3PlatformConfAbstract):
        def init_platform_config(self, **kwargs):
            pass

        def get_registration_by_params(self, **kwargs):
            return (
                Registration()
                .set_iss(ISSUER)
                .set_client_id(CLIENT_ID)
                .set_deployment_id(DEPLOYMENT_ID)
                .set_launch_url("https://tool.example/lti/")
                .set_oidc_login_url("https://tool.example/lti/login/")
                .set_platform_private_key(pem)
            )

    class Launch(DjangoLTI1P3MessageLaunch):
        def get_preflight_response(self):
            return self._request.get_data

    factory = RequestFactory()
    counter = iter(range(10**9))

    def one():
        n = next(counter)
        request = DjangoRequest(factory.get("/lti/authorize/", preflight(n)))
        launch = Launch(request, PlatformConfig())
        launch.set_user_data("0123456789abcdef0123456789abcdef", [LEARNER], full_name="Lena")
        launch.set_resource_link_claim("rl-1", title="Quiz")
        launch.set_launch_context_claim("ctx-1", context_title="Safety", context_label="SAF-101")
        launch.set_custom_parameters_claim({"unit": "3"})
        launch.set_launch_url("https://tool.example/quiz/1")
        launch.set_ags(lineitems_url=AGS, lineitem_url=AGS + "/1")
        response = launch.lti_launch()
        assert b"id_token" in response.content

    return one


def lti_consumer_launch(pem: str):
    from lti_consumer.data import Lti1p3LaunchData
    from lti_consumer.lti_1p3.consumer import LtiAdvantageConsumer
    from lti_consumer.utils import cache_lti_1p3_launch_data

    # The login initiation (the request before) keeps the launch data in Django's cache under
    # the message hint; the launch endpoint reads it back.
    hint = cache_lti_1p3_launch_data(
        Lti1p3LaunchData(
            user_id="1",
            user_role="student",
            config_id="00000000-0000-0000-0000-000000000001",
            resource_link_id="rl-1",
        )
    )
    counter = iter(range(10**9))

    def one():
        n = next(counter)
        consumer = LtiAdvantageConsumer(
            iss=ISSUER,
            lti_oidc_url="https://tool.example/lti/login/",
            lti_launch_url="https://tool.example/quiz/1",
            client_id=CLIENT_ID,
            deployment_id=DEPLOYMENT_ID,
            rsa_key=pem,
            rsa_key_id="kid-1",
            redirect_uris=[REDIRECT_URI],
            tool_key="",
        )
        consumer.set_user_data("0123456789abcdef0123456789abcdef", "student", full_name="Lena")
        consumer.set_resource_link_claim("rl-1", title="Quiz")
        consumer.set_context_claim("ctx-1", context_title="Safety", context_label="SAF-101")
        consumer.set_launch_presentation_claim(document_target="iframe")
        consumer.set_custom_parameters({"unit": "3"})
        consumer.enable_ags(lineitems_url=AGS, lineitem_url=AGS + "/1")
        request = preflight(n) | {"lti_message_hint": hint}
        launch = consumer.generate_launch_request(request)
        assert launch["id_token"]

    return one


def lti11_launch():
    from lti import ToolConsumer

    def one():
        consumer = ToolConsumer(
            consumer_key="quiz-key",
            consumer_secret="quiz-secret",
            launch_url="https://tool.example/quiz/1",
            params={
                "lti_message_type": "basic-lti-launch-request",
                "lti_version": "LTI-1p0",
                "resource_link_id": "rl-1",
                "resource_link_title": "Quiz",
                "user_id": "0123456789abcdef0123456789abcdef",
                "roles": "Learner",
                "context_id": "ctx-1",
                "context_title": "Safety",
                "context_label": "SAF-101",
                "lis_person_name_full": "Lena",
                "custom_unit": "3",
                "lis_outcome_service_url": "https://platform.example/outcomes/",
                "lis_result_sourcedid": "x" * 120,
                "launch_presentation_document_target": "iframe",
            },
        )
        data = consumer.generate_launch_data()
        assert data["oauth_signature"]

    return one


def median_ms(func, rounds: int) -> float:
    for _ in range(10):
        func()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        func()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main(rounds: int) -> None:
    configure_django()
    pem = private_pem()
    figures = {
        "lti1p3platform": median_ms(lti1p3platform_launch(pem), rounds),
        "lti-consumer-xblock": median_ms(lti_consumer_launch(pem), rounds),
        "lti (1.1 ToolConsumer)": median_ms(lti11_launch(), rounds),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
