"""The suite runner's own bookkeeping."""

from __future__ import annotations

import io
import unittest

from tornado.test.runtests import summary_line


class _Samples:
    """Test cases run by the tests below (nested, so no loader finds them)."""

    class _FailingClassSetUp(unittest.TestCase):
        @classmethod
        def setUpClass(cls) -> None:
            raise ValueError("set-up failed")

        def test_one(self) -> None:
            pass

        def test_two(self) -> None:
            pass

    class _SkippedClass(unittest.TestCase):
        @classmethod
        def setUpClass(cls) -> None:
            raise unittest.SkipTest("the whole class")

        def test_never_run(self) -> None:
            pass

    class _Mixed(unittest.TestCase):
        def test_passes(self) -> None:
            pass

        def test_subtests_fail(self) -> None:
            for i in range(3):
                with self.subTest(i=i):
                    self.assertEqual(i, -1)

        def test_fails_then_tear_down_fails(self) -> None:
            self.addCleanup(self.fail, "cleanup")
            self.fail("body")

        def test_skipped(self) -> None:
            self.skipTest("not here")

        @unittest.expectedFailure
        def test_expected_failure(self) -> None:
            self.fail("known")


def _run(*cases: type[unittest.TestCase]) -> unittest.TestResult:
    loader = unittest.defaultTestLoader
    suite = unittest.TestSuite(loader.loadTestsFromTestCase(case) for case in cases)
    return unittest.TextTestRunner(stream=io.StringIO()).run(suite)


class SummaryLineTest(unittest.TestCase):
    def test_each_test_counted_once(self) -> None:
        result = _run(_Samples._Mixed)
        self.assertEqual(summary_line(result), "2 passed, 2 failed, 1 skipped")

    def test_class_set_up_error_is_one_failure_and_never_negative(self) -> None:
        result = _run(_Samples._FailingClassSetUp, _Samples._Mixed)
        self.assertEqual(summary_line(result), "2 passed, 3 failed, 1 skipped")

    def test_class_skipped_in_set_up(self) -> None:
        result = _run(_Samples._SkippedClass)
        self.assertEqual(summary_line(result), "0 passed, 0 failed, 1 skipped")
