"""Translation and locale-aware formatting.

Load translations once at startup, from CSV files (:func:`load_translations`)
or from gettext ``.mo`` catalogues (:func:`load_gettext_translations`), then
pick a :class:`Locale` per user with :func:`get` (for example from the
``Accept-Language`` header) and translate with ``locale.translate`` (usually
bound to ``_``)::

    _ = tornado.locale.get("es_LA").translate
    print(_("Translate this string"))

A `Locale` also formats dates, lists and numbers for its language
(:meth:`Locale.format_date`, :meth:`Locale.list`, :meth:`Locale.friendly_number`).
In a web application each request gets the best supported locale for its
user as ``self.locale``, and templates translate with ``_()``.

Codes look like ``en_US`` or ``es``.  Without translations the default locale
(``en_US`` unless changed with :func:`set_default_locale`) is the only supported
one, and translating returns the message unchanged.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import gettext
import os
import re
from collections.abc import Iterator, Sequence
from typing import Any

from tornado import _locale_data, escape
from tornado.log import gen_log

__all__ = [
    "CONTEXT_SEPARATOR",
    "CSVLocale",
    "GettextLocale",
    "LOCALE_NAMES",
    "Locale",
    "get",
    "get_supported_locales",
    "load_gettext_translations",
    "load_translations",
    "set_default_locale",
]

#: Every known locale code mapped to ``{"name_en": ..., "name": ...}``: the
#: language's English name and its name in the language itself, for example
#: ``LOCALE_NAMES["de_DE"] == {"name_en": "German", "name": "Deutsch"}``.
LOCALE_NAMES = _locale_data.LOCALE_NAMES

#: Separates the context from the message in the keys of a gettext catalogue
#: (the convention of ``msgctxt``), as used by :meth:`GettextLocale.pgettext`.
CONTEXT_SEPARATOR = "\x04"

_default_locale = "en_US"
# Locale code -> translations: for CSV files a dict keyed by plural kind
# ("plural", "singular", "unknown") of {message: translation}; for gettext a
# gettext.NullTranslations.
_translations: dict[str, Any] = {}
_supported_locales = frozenset([_default_locale])
_use_gettext = False

_CSV_LOCALE_NAME = re.compile(r"[a-z]+(_[A-Z]+)?$")
_PLURAL_KINDS = ("plural", "singular", "unknown")


def get(*locale_codes: str) -> Locale:
    """Return the closest supported match for the given locale codes.

    Codes are tried in order, each exactly (``pt_BR``) and then by language
    alone (``pt``); dashes are accepted in place of underscores and case is
    normalised, so values from an ``Accept-Language`` header work as they are.
    Without any match the default locale is returned.
    """
    return Locale.get_closest(*locale_codes)


def set_default_locale(code: str) -> None:
    """Set the locale used when no requested locale is supported.

    The default is always a supported locale, even without translations
    (messages are then returned untranslated).
    """
    global _default_locale
    _default_locale = code
    _update_supported_locales()


def get_supported_locales() -> frozenset[str]:
    """The codes of every locale with translations, plus the default locale."""
    return _supported_locales


def load_translations(directory: str, encoding: str | None = None) -> None:
    """Load translations from the CSV files in ``directory``.

    Each file is named after its locale (``es_GT.csv``, ``fr.csv``) and holds
    rows of two or three columns: the English message, its translation and,
    optionally, ``plural`` or ``singular`` telling which form of a message
    with plurals the row translates (see :meth:`Locale.translate`).  Messages with
    ``%(name)s`` placeholders keep them in the translation.  For example::

        "I love you","Te amo"
        "%(name)s liked this","A %(name)s les gustó esto","plural"
        "%(name)s liked this","A %(name)s le gustó esto","singular"

    Without ``encoding`` a file is read as UTF-16 if it starts with a UTF-16
    byte order mark and as UTF-8 (with or without a BOM) otherwise.
    Malformed rows, and files that cannot be read, are logged and skipped.
    Replaces any translations loaded before.
    """
    global _translations, _use_gettext
    loaded: dict[str, Any] = {}
    for filename in sorted(os.listdir(directory)):
        code, extension = os.path.splitext(filename)
        if extension != ".csv":
            continue
        path = os.path.join(directory, filename)
        if not _CSV_LOCALE_NAME.match(code):
            gen_log.error("Unrecognized locale %r (path: %s)", code, path)
            continue
        table = _read_translation_csv(path, encoding or _sniff_encoding(path))
        if table is not None:
            loaded[code] = table
    _translations = loaded
    _use_gettext = False
    _update_supported_locales()


def load_gettext_translations(directory: str, domain: str) -> None:
    """Load gettext catalogues ``directory/<locale>/LC_MESSAGES/<domain>.mo``.

    The catalogues are typically made with the GNU gettext tools::

        xgettext --language=Python --keyword=_:1,2 -d mydomain file.py
        msgfmt mydomain.po -o {directory}/pt_BR/LC_MESSAGES/mydomain.mo

    Catalogues that cannot be read are logged and skipped.  Replaces any
    translations loaded before.
    """
    global _translations, _use_gettext
    loaded: dict[str, Any] = {}
    for code in sorted(os.listdir(directory)):
        path = os.path.join(directory, code, "LC_MESSAGES", domain + ".mo")
        if not os.path.isfile(path):
            continue
        try:
            with open(path, "rb") as f:
                loaded[code] = gettext.GNUTranslations(f)
        except Exception as e:
            gen_log.error("Cannot load translation for '%s': %s", code, e)
    _translations = loaded
    _use_gettext = True
    _update_supported_locales()


def _update_supported_locales() -> None:
    global _supported_locales
    _supported_locales = frozenset([*_translations, _default_locale])
    Locale._cache.clear()
    gen_log.debug("Supported locales: %s", sorted(_supported_locales))


def _sniff_encoding(path: str) -> str:
    with open(path, "rb") as f:
        start = f.read(len(codecs.BOM_UTF16_LE))
    if start in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return "utf-16"
    return "utf-8-sig"


def _read_translation_csv(path: str, encoding: str) -> dict[str, dict[str, str]] | None:
    """The translations of one CSV file by plural kind, or None if unreadable."""
    table: dict[str, dict[str, str]] = {}
    try:
        for row_number, row in _csv_rows(path, encoding):
            if not any(cell.strip() for cell in row):
                continue
            cells = [escape.to_unicode(cell).strip() for cell in row]
            if len(cells) < 2:
                gen_log.error(
                    "Malformed translation in %s row %d: expected at least two "
                    "columns (message, translation), got %r",
                    path,
                    row_number,
                    row,
                )
                continue
            kind = (cells[2] if len(cells) > 2 else "") or "unknown"
            if kind not in _PLURAL_KINDS:
                gen_log.error(
                    "Unrecognized plural indicator %r in %s row %d",
                    kind,
                    path,
                    row_number,
                )
                continue
            table.setdefault(kind, {})[cells[0]] = cells[1]
    except (OSError, UnicodeError) as e:
        gen_log.error("Cannot load translations from %s: %s", path, e)
        return None
    return table


def _csv_rows(path: str, encoding: str) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) for each row; rows the csv module rejects are logged."""
    with open(path, encoding=encoding, newline="") as f:
        reader = csv.reader(f)
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as e:
                gen_log.error(
                    "Malformed translation in %s row %d: %s", path, reader.line_num, e
                )
                continue
            yield reader.line_num, row


_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_WEEKDAYS = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)
_RTL_LANGUAGES = ("fa", "ar", "he")
_TWELVE_HOUR_LOCALES = ("en", "en_US", "zh_CN")
_THOUSANDS_SEPARATOR_LOCALES = ("en", "en_US")


class Locale:
    """A locale: translates messages and formats dates, lists and numbers.

    Get instances with :meth:`get_closest` or :meth:`get` (or the module's
    :func:`~tornado.locale.get`), not by
    calling the class.  ``code`` is the locale code, ``name`` its name in its
    own language (from :data:`LOCALE_NAMES`, ``"Unknown"`` if absent) and ``rtl``
    whether the language is written right to left.
    """

    _cache: dict[str, Locale] = {}

    @classmethod
    def get_closest(cls, *locale_codes: str) -> Locale:
        """Return the closest supported match for the given locale codes.

        See the module-level :func:`~tornado.locale.get` for how codes are matched.
        """
        for code in locale_codes:
            if not code:
                continue
            code = code.replace("-", "_")
            parts = code.split("_")
            if len(parts) > 2:
                continue
            if len(parts) == 2:
                code = f"{parts[0].lower()}_{parts[1].upper()}"
            if code in _supported_locales:
                return cls.get(code)
            language = parts[0].lower()
            if language in _supported_locales:
                return cls.get(language)
        return cls.get(_default_locale)

    @classmethod
    def get(cls, code: str) -> Locale:
        """Return the locale for ``code``, which must be supported.

        An unsupported code raises ``ValueError``; use :meth:`get_closest` to fall
        back to the default locale instead.
        """
        locale = cls._cache.get(code)
        if locale is None:
            if code not in _supported_locales:
                raise ValueError(
                    f"unsupported locale {code!r} (supported: "
                    f"{', '.join(sorted(_supported_locales))})"
                )
            translations = _translations.get(code)
            if translations is None:
                locale = CSVLocale(code, {})
            elif _use_gettext:
                locale = GettextLocale(code, translations)
            else:
                locale = CSVLocale(code, translations)
            cls._cache[code] = locale
        return locale

    def __init__(self, code: str) -> None:
        self.code = code
        self.name = LOCALE_NAMES.get(code, {}).get("name", "Unknown")
        self.rtl = code.startswith(_RTL_LANGUAGES)
        _ = self.translate
        self._months = [_(month) for month in _MONTHS]
        self._weekdays = [_(weekday) for weekday in _WEEKDAYS]

    def translate(
        self,
        message: str,
        plural_message: str | None = None,
        count: int | None = None,
    ) -> str:
        """Return the translation of ``message``.

        With ``plural_message`` and ``count``, the translation of
        ``plural_message`` is returned when ``count`` is not one (or whatever
        the language's plural rule selects), else that of ``message``.
        """
        raise NotImplementedError()

    def pgettext(
        self,
        context: str,
        message: str,
        plural_message: str | None = None,
        count: int | None = None,
    ) -> str:
        """Like :meth:`translate`, but for ``message`` used in ``context``.

        Contexts tell apart identical English words that translate
        differently, for example "right" in the sense of "law" and of
        "direction".
        """
        raise NotImplementedError()

    def format_date(
        self,
        date: int | float | datetime.datetime,
        gmt_offset: int = 0,
        relative: bool = True,
        shorter: bool = False,
        full_format: bool = False,
    ) -> str:
        """Format ``date`` (a POSIX timestamp or a datetime) for this locale.

        Naive datetimes are taken as UTC.  ``gmt_offset`` is the viewer's
        offset from UTC in minutes, positive west of Greenwich (like
        JavaScript's ``getTimezoneOffset``).  With ``relative``, recent dates
        read like "2 hours ago" and the past day "yesterday"; dates within
        the last few days are given as a weekday and those within the year
        without the year.  ``full_format`` always gives the whole date and
        time, as do dates in the future; ``shorter`` leaves out the time of
        day where it can.
        """
        if isinstance(date, (int, float)):
            date = datetime.datetime.fromtimestamp(date, datetime.timezone.utc)
        elif date.tzinfo is None:
            date = date.replace(tzinfo=datetime.timezone.utc)
        now = datetime.datetime.now(datetime.timezone.utc)
        if date > now:
            if relative and (date - now).total_seconds() < 60:
                # Clocks drift: treat the immediate future as "now".
                date = now
            else:
                full_format = True
        shift = datetime.timedelta(minutes=gmt_offset)
        local_date = date - shift
        age = now - date
        _ = self.translate
        template: str | None = None
        if not full_format:
            if relative and age.days == 0:
                return self._time_ago(age.seconds)
            local_yesterday = now - shift - datetime.timedelta(hours=24)
            if age.days == 0:
                template = _("%(time)s")
            elif age.days == 1 and relative and local_date.day == local_yesterday.day:
                template = _("yesterday") if shorter else _("yesterday at %(time)s")
            elif age.days < 5:
                template = _("%(weekday)s") if shorter else _("%(weekday)s at %(time)s")
            elif age.days < 334:
                # Up to eleven months, so that the same month last year is
                # not mistaken for this year's.
                template = (
                    _("%(month_name)s %(day)s")
                    if shorter
                    else _("%(month_name)s %(day)s at %(time)s")
                )
        if template is None:
            template = (
                _("%(month_name)s %(day)s, %(year)s")
                if shorter
                else _("%(month_name)s %(day)s, %(year)s at %(time)s")
            )
        return template % {
            "month_name": self._months[local_date.month - 1],
            "weekday": self._weekdays[local_date.weekday()],
            "day": str(local_date.day),
            "year": str(local_date.year),
            "time": self._clock_time(local_date),
        }

    def _time_ago(self, seconds: int) -> str:
        _ = self.translate
        if seconds < 50:
            return _("1 second ago", "%(seconds)d seconds ago", seconds) % {
                "seconds": seconds
            }
        if seconds < 50 * 60:
            minutes = round(seconds / 60.0)
            return _("1 minute ago", "%(minutes)d minutes ago", minutes) % {
                "minutes": minutes
            }
        hours = round(seconds / (60.0 * 60))
        return _("1 hour ago", "%(hours)d hours ago", hours) % {"hours": hours}

    def _clock_time(self, moment: datetime.datetime) -> str:
        if self.code not in _TWELVE_HOUR_LOCALES:
            return f"{moment.hour}:{moment.minute:02d}"
        hour = moment.hour % 12 or 12
        afternoon = moment.hour >= 12
        if self.code == "zh_CN":
            return f"{'下午' if afternoon else '上午'}{hour}:{moment.minute:02d}"
        return f"{hour}:{moment.minute:02d} {'pm' if afternoon else 'am'}"

    def format_day(
        self, date: datetime.datetime, gmt_offset: int = 0, dow: bool = True
    ) -> str:
        """Format the day of ``date``, like "Monday, January 22".

        ``gmt_offset`` is as for :meth:`format_date`; with ``dow`` false the day of
        the week is left out ("January 22").
        """
        local_date = date - datetime.timedelta(minutes=gmt_offset)
        _ = self.translate
        if dow:
            template = _("%(weekday)s, %(month_name)s %(day)s")
        else:
            template = _("%(month_name)s %(day)s")
        return template % {
            "month_name": self._months[local_date.month - 1],
            "weekday": self._weekdays[local_date.weekday()],
            "day": str(local_date.day),
        }

    def list(self, parts: Sequence[str]) -> str:
        """Join ``parts`` as a list in prose, like "A, B and C".

        Returns "" for no parts and the part itself for one.
        """
        if not parts:
            return ""
        if len(parts) == 1:
            return parts[0]
        comma = " و " if self.code.startswith("fa") else ", "
        return self.translate("%(commas)s and %(last)s") % {
            "commas": comma.join(parts[:-1]),
            "last": parts[-1],
        }

    def friendly_number(self, value: int) -> str:
        """Format an integer with thousands separators where the locale has them."""
        if self.code not in _THOUSANDS_SEPARATOR_LOCALES:
            return str(value)
        return f"{value:,}"


def _require_count(plural_message: str | None, count: int | None) -> None:
    if plural_message is not None and count is None:
        raise ValueError("count is required when plural_message is given")


class CSVLocale(Locale):
    """A locale translated from CSV files (see :func:`load_translations`).

    ``translations`` maps a plural kind (``"plural"``, ``"singular"`` or
    ``"unknown"``) to a dict of messages and their translations.
    """

    def __init__(self, code: str, translations: dict[str, dict[str, str]]) -> None:
        self.translations = translations
        super().__init__(code)

    def translate(
        self,
        message: str,
        plural_message: str | None = None,
        count: int | None = None,
    ) -> str:
        """Return the translation of ``message`` (see :meth:`Locale.translate`)."""
        _require_count(plural_message, count)
        key = message
        if plural_message is None:
            table = self.translations.get("unknown", {})
        elif count == 1:
            table = self.translations.get("singular", {})
        else:
            table = self.translations.get("plural", {})
            key = plural_message
        return table.get(key, key)

    def pgettext(
        self,
        context: str,
        message: str,
        plural_message: str | None = None,
        count: int | None = None,
    ) -> str:
        """Translate ignoring ``context``, which CSV files cannot express.

        Logs a warning if this locale has translations.
        """
        translated = self.translate(message, plural_message, count)
        if self.translations:  # an empty locale has nothing to get wrong
            gen_log.warning("pgettext is not supported by CSVLocale")
        return translated


class GettextLocale(Locale):
    """A locale translated from a gettext catalogue.

    ``translations`` is a :class:`gettext.NullTranslations` (usually a
    :class:`gettext.GNUTranslations`); its ``gettext`` and ``ngettext`` methods are
    available as attributes of the same names.
    """

    def __init__(self, code: str, translations: gettext.NullTranslations) -> None:
        # Locale.__init__ translates the month and day names through these,
        # so they must exist first.
        self.gettext, self.ngettext = translations.gettext, translations.ngettext
        super().__init__(code)

    def translate(
        self,
        message: str,
        plural_message: str | None = None,
        count: int | None = None,
    ) -> str:
        """Return the translation of ``message`` (see :meth:`Locale.translate`).

        The catalogue's plural rule picks the form for ``count``.
        """
        _require_count(plural_message, count)
        if plural_message is not None:
            assert count is not None
            return self.ngettext(message, plural_message, count)
        return self.gettext(message)

    def pgettext(
        self,
        context: str,
        message: str,
        plural_message: str | None = None,
        count: int | None = None,
    ) -> str:
        """Translate ``message`` in ``context`` (see :meth:`Locale.pgettext`).

        Catalogue entries with a ``msgctxt`` are looked up first; without one
        for ``context`` the context-free translation is used::

            _ = locale.pgettext
            _("law", "right")        # "le droit" in French
            _("good", "right")       # "le bien"
            _("organization", "club", "clubs", len(clubs))
        """
        _require_count(plural_message, count)
        prefix = context + CONTEXT_SEPARATOR
        if plural_message is None:
            result = self.gettext(prefix + message)
            # Without a translation gettext echoes the key, context included.
            return message if CONTEXT_SEPARATOR in result else result
        assert count is not None
        result = self.ngettext(prefix + message, prefix + plural_message, count)
        if CONTEXT_SEPARATOR in result:
            result = self.ngettext(message, plural_message, count)
        return result
