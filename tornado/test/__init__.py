"""The test suite: ``python -m tornado.test.runtests`` runs it."""

try:
    from hypothesis import HealthCheck, settings
except ImportError:  # hypothesis is a development dependency
    pass
else:
    # Property tests share a loaded two-core machine with the rest of the
    # suite (which runs 11 times per CI run): a modest number of examples,
    # no deadlines, no "too slow" verdicts, no example database.  A test
    # module only ever raises or lowers max_examples, saying why.
    settings.register_profile(
        "tornado-suite",
        max_examples=60,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    settings.load_profile("tornado-suite")
