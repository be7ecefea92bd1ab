"""A tiny tour of tornado.options and tornado.log.

Run it with, for example::

    python demos/options_demo/app.py --name=x --logging=debug --repeat=2
    python demos/options_demo/app.py --help
"""

import datetime
import logging
import os
import sys

# Run from a source checkout without installing the package.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../.."))

from tornado.log import app_log, gen_log
from tornado.options import define, options, parse_command_line

define("name", default="world", help="who to greet")
define("repeat", default=1, help="how many greetings to log")
define("ports", type=int, multiple=True, help="ports, e.g. 8000:8002,9000")
define("timeout", type=datetime.timedelta, default=datetime.timedelta(seconds=30))


def main() -> None:
    # Parsing also applies --logging and friends with pretty, coloured output.
    extra = parse_command_line()
    gen_log.debug("options: %s", options.as_dict())
    for _ in range(options.repeat):
        app_log.info("hello, %s", options.name)
    if options.ports:
        app_log.warning("would listen on %s", options.ports)
    logging.getLogger("demo").error(
        "timeout is %s; extra arguments: %s", options.timeout, extra
    )


if __name__ == "__main__":
    main()
