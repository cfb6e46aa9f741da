"""The LTI protocol core: plain, type-hinted Python that takes and returns values.

Nothing in this package imports Django models or Wagtail; views, blocks and hooks translate
between requests and these functions.
"""
