"""Tests for tornado.locale: loading translations, lookup and formatting."""

from __future__ import annotations

import ast
import codecs
import datetime
import logging
import os
import shutil
import struct
import tempfile
import unittest

import tornado.locale
from tornado.locale import CSVLocale, GettextLocale, Locale
from tornado.testing import ExpectLog

HERE = os.path.dirname(os.path.abspath(__file__))
CSV_DIR = os.path.join(HERE, "csv_translations")
GETTEXT_DIR = os.path.join(HERE, "gettext_translations")
PO_PATH = os.path.join(GETTEXT_DIR, "fr_FR", "LC_MESSAGES", "tornado_test.po")
MO_PATH = os.path.join(GETTEXT_DIR, "fr_FR", "LC_MESSAGES", "tornado_test.mo")

UTC = datetime.timezone.utc


# --- A minimal msgfmt: enough of the .po format for the test catalogue. ----


def parse_po(text: str) -> dict[str, str]:
    """Catalogue keys (context and plural forms joined gettext-style) to values."""
    entries: dict[str, str] = {}
    fields: dict[str, str] = {}
    current: str | None = None

    def flush() -> None:
        if "msgid" not in fields:
            return
        key = fields["msgid"]
        if "msgid_plural" in fields:
            key += "\0" + fields["msgid_plural"]
        if "msgctxt" in fields:
            key = fields["msgctxt"] + tornado.locale.CONTEXT_SEPARATOR + key
        forms = sorted(k for k in fields if k.startswith("msgstr"))
        value = "\0".join(fields[k] for k in forms)
        if value.strip("\0") or key == "":
            entries[key] = value
        fields.clear()

    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith('"'):
            if current is None:
                raise ValueError(f"line {number}: string outside an entry")
            fields[current] += ast.literal_eval(line)
            continue
        keyword, _, literal = line.partition(" ")
        if keyword in ("msgctxt", "msgid") and any(
            k.startswith("msgstr") for k in fields
        ):
            flush()
        if keyword not in ("msgctxt", "msgid", "msgid_plural") and not (
            keyword.startswith("msgstr")
        ):
            raise ValueError(f"line {number}: unknown keyword {keyword!r}")
        current = keyword
        fields[current] = ast.literal_eval(literal)
    flush()
    return entries


def compile_po(text: str) -> bytes:
    """The GNU .mo file (little-endian, no hash table) for a .po file's text."""
    entries = sorted(
        (k.encode("utf-8"), v.encode("utf-8")) for k, v in parse_po(text).items()
    )
    strings = [k for k, _ in entries] + [v for _, v in entries]
    data_at = 7 * 4 + 8 * len(strings)
    # Each string is described by its (length, offset) in the originals
    # table, then the translations table, both right after the header.
    descriptors, data = [], b""
    for string in strings:
        descriptors.append(struct.pack("<2I", len(string), data_at + len(data)))
        data += string + b"\0"
    header = struct.pack(
        "<7I", 0x950412DE, 0, len(entries), 28, 28 + 8 * len(entries), 0, 0
    )
    tables = b"".join(descriptors)
    return header + tables + data


def write_mo_catalogue(directory: str) -> None:
    """Build ``directory/fr_FR/LC_MESSAGES/tornado_test.mo`` from the .po."""
    target = os.path.join(directory, "fr_FR", "LC_MESSAGES")
    os.makedirs(target)
    with open(PO_PATH, encoding="utf-8") as f:
        mo = compile_po(f.read())
    with open(os.path.join(target, "tornado_test.mo"), "wb") as f:
        f.write(mo)


class LocaleTestCase(unittest.TestCase):
    """Starts and ends each test with the module in its initial state."""

    def setUp(self) -> None:
        super().setUp()
        self.tmpdir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmpdir)
        self.addCleanup(self.restore_initial_state)
        self.restore_initial_state()

    def restore_initial_state(self) -> None:
        empty = tempfile.mkdtemp()
        try:
            tornado.locale.load_translations(empty)
        finally:
            os.rmdir(empty)
        tornado.locale.set_default_locale("en_US")

    def write_csv(self, name: str, content: bytes, subdir: str = "csv") -> str:
        directory = os.path.join(self.tmpdir, subdir)
        os.makedirs(directory, exist_ok=True)
        with open(os.path.join(directory, name), "wb") as f:
            f.write(content)
        return directory


class CSVTranslationTest(LocaleTestCase):
    def test_load_and_translate(self) -> None:
        tornado.locale.load_translations(CSV_DIR)
        self.assertEqual(
            tornado.locale.get_supported_locales(), frozenset(["en_US", "fr_FR"])
        )
        locale = tornado.locale.get("fr_FR")
        self.assertIsInstance(locale, CSVLocale)
        self.assertEqual(locale.translate("school"), "école")
        self.assertEqual(locale.translate("not in the file"), "not in the file")

    def test_plural_columns(self) -> None:
        tornado.locale.load_translations(CSV_DIR)
        _ = tornado.locale.get("fr_FR").translate
        for count, expected in [(1, "1 pomme"), (2, "2 pommes"), (0, "0 pommes")]:
            with self.subTest(count=count):
                message = _("%(count)d apple", "%(count)d apples", count)
                self.assertEqual(message % {"count": count}, expected)

    def test_plural_without_count_is_an_error(self) -> None:
        tornado.locale.load_translations(CSV_DIR)
        with self.assertRaisesRegex(ValueError, "count is required"):
            tornado.locale.get("fr_FR").translate("apple", "apples")

    def test_default_locale_returns_messages_unchanged(self) -> None:
        tornado.locale.load_translations(CSV_DIR)
        _ = tornado.locale.get("en_US").translate
        self.assertEqual(_("school"), "school")
        self.assertEqual(_("an apple", "apples", 1), "an apple")
        self.assertEqual(_("an apple", "apples", 3), "apples")

    def test_translations_used_for_date_names(self) -> None:
        tornado.locale.load_translations(CSV_DIR)
        locale = tornado.locale.get("fr_FR")
        monday = datetime.datetime(2024, 1, 1, 12, 0)
        self.assertEqual(locale.format_day(monday), "lundi 1 janvier")
        self.assertEqual(locale.list(["a", "b", "c"]), "a, b et c")

    def test_encodings_are_detected(self) -> None:
        rows = '"school","école"\n'
        variants = {
            "utf16le": codecs.BOM_UTF16_LE + rows.encode("utf-16-le"),
            "utf16be": codecs.BOM_UTF16_BE + rows.encode("utf-16-be"),
            "utf8sig": codecs.BOM_UTF8 + rows.encode("utf-8"),
            "utf8": rows.encode("utf-8"),
        }
        for subdir, content in variants.items():
            with self.subTest(encoding=subdir):
                directory = self.write_csv("fr.csv", content, subdir)
                tornado.locale.load_translations(directory)
                self.assertEqual(Locale.get("fr").translate("school"), "école")

    def test_explicit_encoding(self) -> None:
        directory = self.write_csv("fr.csv", '"school","école"\n'.encode("latin-1"))
        tornado.locale.load_translations(directory, encoding="latin-1")
        self.assertEqual(Locale.get("fr").translate("school"), "école")

    def test_malformed_rows_are_logged_and_skipped(self) -> None:
        content = (
            b'"school","\xc3\xa9cole"\n'
            b'"lonely cell"\n'
            b"\n"
            b'"apple","pomme","dual"\n'
            b'"cat","chat"\n'
        )
        directory = self.write_csv("fr.csv", content)
        with (
            ExpectLog("tornado.general", r"Malformed translation in .*fr\.csv row 2"),
            ExpectLog(
                "tornado.general",
                r"Unrecognized plural indicator 'dual' in .*fr\.csv row 4",
            ),
        ):
            tornado.locale.load_translations(directory)
        _ = Locale.get("fr").translate
        self.assertEqual(_("school"), "école")
        self.assertEqual(_("cat"), "chat")
        self.assertEqual(_("apple"), "apple")

    def test_bad_file_names_are_logged_and_skipped(self) -> None:
        directory = self.write_csv("Not-A-Locale.csv", b'"a","b"\n')
        self.write_csv("notes.txt", b"not a translation file")
        with ExpectLog("tornado.general", r"Unrecognized locale 'Not-A-Locale'"):
            tornado.locale.load_translations(directory)
        self.assertEqual(tornado.locale.get_supported_locales(), frozenset(["en_US"]))

    def test_undecodable_file_is_logged_and_skipped(self) -> None:
        directory = self.write_csv("de.csv", b'"school","\xffSchule"\n')
        self.write_csv("fr.csv", b'"school","\xc3\xa9cole"\n')
        with ExpectLog("tornado.general", r"Cannot load translations from .*de\.csv"):
            tornado.locale.load_translations(directory)
        self.assertEqual(
            tornado.locale.get_supported_locales(), frozenset(["en_US", "fr"])
        )

    def test_pgettext_ignores_context_with_a_warning(self) -> None:
        tornado.locale.load_translations(CSV_DIR)
        locale = tornado.locale.get("fr_FR")
        with ExpectLog(
            "tornado.general", "pgettext is not supported", level=logging.WARNING
        ):
            self.assertEqual(locale.pgettext("education", "school"), "école")
        # Without translations there is nothing to warn about.
        self.assertEqual(Locale.get("en_US").pgettext("law", "right"), "right")

    def test_reloading_replaces_translations(self) -> None:
        tornado.locale.load_translations(CSV_DIR)
        self.assertIsInstance(Locale.get("fr_FR"), CSVLocale)
        directory = os.path.join(self.tmpdir, "mo")
        write_mo_catalogue(directory)
        tornado.locale.load_gettext_translations(directory, "tornado_test")
        self.assertIsInstance(Locale.get("fr_FR"), GettextLocale)


class GettextTranslationTest(LocaleTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.catalogues = os.path.join(self.tmpdir, "mo")
        write_mo_catalogue(self.catalogues)
        tornado.locale.load_gettext_translations(self.catalogues, "tornado_test")
        locale = tornado.locale.get("fr_FR")
        assert isinstance(locale, GettextLocale)
        self.locale = locale

    def test_committed_catalogue_matches_po(self) -> None:
        with open(PO_PATH, encoding="utf-8") as f:
            expected = compile_po(f.read())
        with open(MO_PATH, "rb") as f:
            self.assertEqual(f.read(), expected)

    def test_translate(self) -> None:
        self.assertIsInstance(self.locale, GettextLocale)
        self.assertEqual(self.locale.translate("school"), "école")
        self.assertEqual(self.locale.translate("two\nlines"), 'deux\nlignes "citées"')
        self.assertEqual(self.locale.translate("untranslated"), "untranslated")
        self.assertEqual(self.locale.gettext("school"), "école")

    def test_plurals_follow_catalogue_rule(self) -> None:
        _ = self.locale.translate
        # French uses the singular for zero, unlike the CSV rule (count != 1).
        self.assertEqual(_("%(count)d apple", "%(count)d apples", 0), "%(count)d pomme")
        self.assertEqual(_("%(count)d apple", "%(count)d apples", 1), "%(count)d pomme")
        self.assertEqual(
            _("%(count)d apple", "%(count)d apples", 5), "%(count)d pommes"
        )
        self.assertEqual(self.locale.ngettext("club", "clubs", 2), "clubs")
        with self.assertRaisesRegex(ValueError, "count is required"):
            _("apple", "apples")

    def test_pgettext(self) -> None:
        p = self.locale.pgettext
        self.assertEqual(p("law", "right"), "le droit")
        self.assertEqual(p("good", "right"), "le bien")
        # An unknown context falls back to the context-free translation...
        self.assertEqual(p("direction", "right"), "right")
        # ...and a message unknown in every context is returned as it is.
        self.assertEqual(p("law", "untranslated"), "untranslated")

    def test_pgettext_plurals(self) -> None:
        p = self.locale.pgettext
        self.assertEqual(p("organization", "club", "clubs", 1), "association")
        self.assertEqual(p("organization", "club", "clubs", 2), "associations")
        self.assertEqual(p("stick", "club", "clubs", 1), "bâton")
        self.assertEqual(p("stick", "club", "clubs", 2), "bâtons")
        self.assertEqual(p("sport", "club", "clubs", 2), "clubs")
        with self.assertRaisesRegex(ValueError, "count is required"):
            p("stick", "club", "clubs")

    def test_broken_catalogue_is_logged_and_skipped(self) -> None:
        broken = os.path.join(self.catalogues, "de_DE", "LC_MESSAGES")
        os.makedirs(broken)
        with open(os.path.join(broken, "tornado_test.mo"), "wb") as f:
            f.write(b"definitely not a catalogue")
        os.makedirs(os.path.join(self.catalogues, "es_ES"))
        with ExpectLog("tornado.general", "Cannot load translation for 'de_DE'"):
            tornado.locale.load_gettext_translations(self.catalogues, "tornado_test")
        self.assertEqual(
            tornado.locale.get_supported_locales(), frozenset(["en_US", "fr_FR"])
        )

    def test_other_domain_is_not_loaded(self) -> None:
        tornado.locale.load_gettext_translations(self.catalogues, "other_domain")
        self.assertEqual(tornado.locale.get_supported_locales(), frozenset(["en_US"]))


class LookupTest(LocaleTestCase):
    def setUp(self) -> None:
        super().setUp()
        directory = self.write_csv("fr_FR.csv", b'"yes","oui"\n')
        self.write_csv("pt.csv", b'"yes","sim"\n')
        self.write_csv("es_ES.csv", b'"yes","s\xc3\xad"\n')
        tornado.locale.load_translations(directory)

    def test_get_closest(self) -> None:
        cases = [
            (("fr_FR",), "fr_FR"),
            (("fr-fr",), "fr_FR"),
            (("FR_fr",), "fr_FR"),
            (("pt_BR",), "pt"),
            (("PT",), "pt"),
            (("de_DE", "es-ES"), "es_ES"),
            (("", "es_ES"), "es_ES"),
            (("fr_FR_extra", "pt"), "pt"),
            (("es_MX",), "en_US"),
            (("de",), "en_US"),
            ((), "en_US"),
        ]
        for codes, expected in cases:
            with self.subTest(codes=codes):
                self.assertEqual(tornado.locale.get(*codes).code, expected)
                self.assertEqual(Locale.get_closest(*codes).code, expected)

    def test_locales_are_cached(self) -> None:
        self.assertIs(Locale.get("pt"), tornado.locale.get("pt_PT"))

    def test_get_unsupported_code_is_an_error(self) -> None:
        with self.assertRaisesRegex(ValueError, "unsupported locale 'de_DE'"):
            Locale.get("de_DE")

    def test_set_default_locale(self) -> None:
        tornado.locale.set_default_locale("pt")
        self.assertEqual(tornado.locale.get("de_DE").code, "pt")
        tornado.locale.set_default_locale("de_DE")
        self.assertIn("de_DE", tornado.locale.get_supported_locales())
        german = tornado.locale.get("it_IT")
        self.assertEqual(german.code, "de_DE")
        self.assertEqual(german.translate("yes"), "yes")

    def test_names_and_direction(self) -> None:
        tornado.locale.set_default_locale("fa_IR")
        persian = tornado.locale.get()
        self.assertEqual(persian.name, "فارسی")
        self.assertTrue(persian.rtl)
        french = tornado.locale.get("fr_FR")
        self.assertEqual(french.name, "Français")
        self.assertFalse(french.rtl)
        self.assertEqual(tornado.locale.get("pt").name, "Unknown")
        self.assertEqual(CSVLocale("en_US", {}).name, "English (US)")

    def test_locale_names_table(self) -> None:
        names = tornado.locale.LOCALE_NAMES
        self.assertEqual(names["de_DE"], {"name_en": "German", "name": "Deutsch"})
        for code, entry in names.items():
            with self.subTest(code=code):
                self.assertRegex(code, r"^[a-z]{2}_[A-Z]{2}$")
                self.assertEqual(set(entry), {"name", "name_en"})


class FormatTest(unittest.TestCase):
    def setUp(self) -> None:
        self.en = CSVLocale("en_US", {})
        self.now = datetime.datetime.now(UTC)

    def ago(self, **kwargs: float) -> datetime.datetime:
        return self.now - datetime.timedelta(**kwargs)

    def test_relative_recent(self) -> None:
        cases = [
            ({"seconds": 1}, "1 second ago"),
            ({"seconds": 2}, "2 seconds ago"),
            ({"seconds": 70}, "1 minute ago"),
            ({"minutes": 2}, "2 minutes ago"),
            ({"minutes": 65}, "1 hour ago"),
            ({"hours": 5}, "5 hours ago"),
        ]
        for delta, expected in cases:
            with self.subTest(delta=delta):
                self.assertEqual(self.en.format_date(self.ago(**delta)), expected)

    def test_timestamps_and_naive_datetimes(self) -> None:
        timestamp = self.ago(minutes=3).timestamp()
        self.assertEqual(self.en.format_date(timestamp), "3 minutes ago")
        self.assertEqual(self.en.format_date(int(timestamp)), "3 minutes ago")
        naive = self.ago(minutes=3).replace(tzinfo=None)
        self.assertEqual(self.en.format_date(naive), "3 minutes ago")

    def test_yesterday_and_this_week(self) -> None:
        yesterday = self.ago(days=1)
        self.assertEqual(self.en.format_date(yesterday, shorter=True), "yesterday")
        self.assertEqual(
            self.en.format_date(yesterday),
            "yesterday at " + clock_12h(yesterday),
        )
        earlier = self.ago(days=3)
        weekday = earlier.strftime("%A")
        self.assertEqual(self.en.format_date(earlier, shorter=True), weekday)
        self.assertEqual(
            self.en.format_date(earlier), f"{weekday} at {clock_12h(earlier)}"
        )

    def test_this_year_and_older(self) -> None:
        months_ago = self.ago(days=100)
        month_day = f"{months_ago.strftime('%B')} {months_ago.day}"
        self.assertEqual(self.en.format_date(months_ago, shorter=True), month_day)
        self.assertEqual(
            self.en.format_date(months_ago), f"{month_day} at {clock_12h(months_ago)}"
        )
        old = datetime.datetime(2013, 4, 28, 18, 35, tzinfo=UTC)
        self.assertEqual(self.en.format_date(old, shorter=True), "April 28, 2013")
        self.assertEqual(self.en.format_date(old), "April 28, 2013 at 6:35 pm")

    def test_not_relative(self) -> None:
        recent = self.ago(minutes=5)
        self.assertEqual(self.en.format_date(recent, relative=False), clock_12h(recent))
        yesterday = self.ago(days=1)
        self.assertEqual(
            self.en.format_date(yesterday, relative=False, shorter=True),
            yesterday.strftime("%A"),
        )

    def test_full_format(self) -> None:
        date = datetime.datetime(2020, 2, 3, 0, 5, tzinfo=UTC)
        self.assertEqual(
            self.en.format_date(date, full_format=True), "February 3, 2020 at 12:05 am"
        )
        recent = self.ago(seconds=10)
        expected = f"{recent.strftime('%B')} {recent.day}, {recent.year}"
        self.assertEqual(
            self.en.format_date(recent, full_format=True, shorter=True), expected
        )

    def test_future_dates(self) -> None:
        soon = self.now + datetime.timedelta(seconds=30)
        self.assertEqual(self.en.format_date(soon), "0 seconds ago")
        # Less than a minute past a whole day ahead is still the future.
        tomorrow = self.now + datetime.timedelta(days=1, seconds=30)
        self.assertEqual(
            self.en.format_date(tomorrow, shorter=True),
            f"{tomorrow.strftime('%B')} {tomorrow.day}, {tomorrow.year}",
        )
        later = self.now + datetime.timedelta(days=40)
        self.assertEqual(
            self.en.format_date(later, shorter=True),
            f"{later.strftime('%B')} {later.day}, {later.year}",
        )

    def test_gmt_offset(self) -> None:
        date = datetime.datetime(2013, 4, 28, 18, 35, tzinfo=UTC)
        # Three hours west of UTC, then five and a half hours east.
        self.assertEqual(
            self.en.format_date(date, gmt_offset=180), "April 28, 2013 at 3:35 pm"
        )
        self.assertEqual(
            self.en.format_date(date, gmt_offset=-330), "April 29, 2013 at 12:05 am"
        )

    def test_clock_styles(self) -> None:
        date = datetime.datetime(2013, 4, 28, 18, 5, tzinfo=UTC)
        self.assertEqual(
            CSVLocale("de_DE", {}).format_date(date), "April 28, 2013 at 18:05"
        )
        self.assertEqual(
            CSVLocale("zh_CN", {}).format_date(date), "April 28, 2013 at 下午6:05"
        )
        morning = date.replace(hour=9)
        self.assertEqual(
            CSVLocale("zh_CN", {}).format_date(morning), "April 28, 2013 at 上午9:05"
        )

    def test_format_day(self) -> None:
        date = datetime.datetime(2024, 1, 22, 1, 0)
        self.assertEqual(self.en.format_day(date), "Monday, January 22")
        self.assertEqual(self.en.format_day(date, dow=False), "January 22")
        self.assertEqual(self.en.format_day(date, gmt_offset=120), "Sunday, January 21")

    def test_list(self) -> None:
        self.assertEqual(self.en.list([]), "")
        self.assertEqual(self.en.list(["a"]), "a")
        self.assertEqual(self.en.list(["a", "b"]), "a and b")
        self.assertEqual(self.en.list(["a", "b", "c"]), "a, b and c")
        persian = CSVLocale("fa_IR", {})
        self.assertEqual(persian.list(["a", "b", "c"]), "a و b and c")

    def test_friendly_number(self) -> None:
        cases = [(0, "0"), (999, "999"), (1000, "1,000"), (1234567, "1,234,567")]
        for value, expected in cases:
            with self.subTest(value=value):
                self.assertEqual(self.en.friendly_number(value), expected)
        self.assertEqual(CSVLocale("en", {}).friendly_number(-12345), "-12,345")
        self.assertEqual(CSVLocale("fr_FR", {}).friendly_number(1234567), "1234567")


def clock_12h(moment: datetime.datetime) -> str:
    suffix = "pm" if moment.hour >= 12 else "am"
    return f"{moment.hour % 12 or 12}:{moment.minute:02d} {suffix}"


if __name__ == "__main__":
    unittest.main()
