"""``python -m tornado.test`` runs the whole suite, as ``tornado.test.runtests`` does."""

from tornado.test.runtests import main

main()
