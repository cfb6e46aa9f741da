"""Settings of the example site plus the baseline views of ``launch_throughput.py``."""

from example_site.settings import *  # noqa: F403


ROOT_URLCONF = "benchmarks.bench_urls"
