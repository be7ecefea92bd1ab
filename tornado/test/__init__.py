"""The test suite: ``python -m tornado.test.runtests`` runs it."""
