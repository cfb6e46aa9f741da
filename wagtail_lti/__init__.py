"""wagtail-lti: an LTI 1.1 and LTI 1.3 / LTI Advantage platform for Wagtail."""

__version__ = "0.1.0"
