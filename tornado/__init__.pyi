# The types of ``import tornado`` for checkers: every lazily loaded submodule
# is an attribute, so ``tornado.web.Application`` is typed without importing
# ``tornado.web`` explicitly.  The runtime module is __init__.py.

from tornado import asgi as asgi
from tornado import auth as auth
from tornado import autoreload as autoreload
from tornado import concurrent as concurrent
from tornado import curl_httpclient as curl_httpclient
from tornado import escape as escape
from tornado import gen as gen
from tornado import http1connection as http1connection
from tornado import httpclient as httpclient
from tornado import httpserver as httpserver
from tornado import httputil as httputil
from tornado import ioloop as ioloop
from tornado import iostream as iostream
from tornado import locale as locale
from tornado import locks as locks
from tornado import log as log
from tornado import netutil as netutil
from tornado import options as options
from tornado import platform as platform
from tornado import process as process
from tornado import queues as queues
from tornado import routing as routing
from tornado import simple_httpclient as simple_httpclient
from tornado import tcpclient as tcpclient
from tornado import tcpserver as tcpserver
from tornado import template as template
from tornado import testing as testing
from tornado import util as util
from tornado import web as web
from tornado import websocket as websocket
from tornado import wsgi as wsgi

version: str
version_info: tuple[int, int, int, int]
__all__: list[str]
