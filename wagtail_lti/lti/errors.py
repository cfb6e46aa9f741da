"""Typed errors raised by the protocol core."""

from __future__ import annotations


class LtiError(Exception):
    """Base class of every error the protocol core raises."""


class CustomParameterError(LtiError):
    """A custom parameters text could not be parsed; ``errors`` lists (line number, message)."""

    def __init__(self, errors: list[tuple[int, str]]):
        self.errors = errors
        super().__init__("; ".join(f"Line {n}: {msg}" for n, msg in errors))
