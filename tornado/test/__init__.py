"""The test suite: ``python -m tornado.test.runtests`` runs it."""

try:
    from hypothesis import HealthCheck, settings
except ImportError:  # hypothesis is a development dependency
    pass
else:
    # Property tests share a loaded two-core machine with the rest of the
    # suite: no deadlines, no "too slow" verdicts, no example database.
    settings.register_profile(
        "tornado-suite",
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    settings.load_profile("tornado-suite")
