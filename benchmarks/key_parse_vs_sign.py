"""Parsing an RSA private key vs signing with an already loaded one.

Why ``wagtail_lti.security.platform_keys`` parses each platform key once per process: a launch that parsed
the key would pay the parse on every id_token. Run from the project root::

    .venv/bin/python benchmarks/key_parse_vs_sign.py [rounds]

Prints the median time of each operation and their ratio.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import jwt


sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from wagtail_lti.lti.keys import generate_key_pair, load_private_key  # noqa: E402


def median_ms(func, rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        func()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main(rounds: int = 200) -> None:
    pair = generate_key_pair()
    loaded = load_private_key(pair.private_pem)
    now = int(time.time())
    claims = {
        "iss": "https://platform.example",
        "aud": "client-id",
        "sub": "0123456789abcdef0123456789abcdef",
        "iat": now,
        "exp": now + 300,
        "nonce": "n-0123456789",
        "https://purl.imsglobal.org/spec/lti/claim/message_type": "LtiResourceLinkRequest",
        "https://purl.imsglobal.org/spec/lti/claim/version": "1.3.0",
    }

    parse = median_ms(lambda: load_private_key(pair.private_pem), rounds)
    sign = median_ms(
        lambda: jwt.encode(claims, loaded, algorithm="RS256", headers={"kid": pair.kid}), rounds
    )
    parse_and_sign = median_ms(
        lambda: jwt.encode(
            claims, load_private_key(pair.private_pem), algorithm="RS256", headers={"kid": pair.kid}
        ),
        rounds,
    )
    print(f"RSA-2048, median of {rounds} rounds")
    print(f"  parse the private key (PEM):        {parse:8.3f} ms")
    print(f"  sign an id_token with a loaded key: {sign:8.3f} ms")
    print(f"  parse + sign (no per-process cache): {parse_and_sign:7.3f} ms")
    print(f"  ratio parse / sign:                 {parse / sign:8.1f} x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
