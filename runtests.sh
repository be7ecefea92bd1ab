#!/usr/bin/env bash
# Build (or refresh) .venv and run every check: the test suite across the
# configuration matrix, mypy --strict, ruff, black, the Sphinx docs, the chat
# demos in headless Chromium and the deployment behind real nginx.
# Exits non-zero if any step fails; each step reports its name and time.
#
# As root with apt-get (CI), the Debian packages the browser and nginx steps
# need are installed first when missing.  Elsewhere those steps say in one
# line why they cannot run; under CI=true that line is a failure.
set -uo pipefail
cd "$(dirname "$0")"

VENV=${VENV:-.venv}
PY="$VENV/bin/python"
LOG_DIR=${LOG_DIR:-build/runtests}
mkdir -p "$LOG_DIR"
failed=()
not_run=()

# Debian packages some steps need, each with the file that shows it is there
# (one list, so that one apt-get update serves them all).
declare -A PACKAGE_FILES=(
    [chromium]=/usr/bin/chromium
    [chromium-driver]=/usr/bin/chromedriver
    [nginx]=/usr/sbin/nginx
    [curl]=/usr/bin/curl
    [nghttp2-client]=/usr/bin/h2load
)
# Why missing packages could not be installed (empty: nothing was missing).
packages_unavailable=""

step() {
    # step NAME COMMAND...: run one check, print its outcome and duration.
    local name=$1
    shift
    local start=$SECONDS
    printf '==> %s\n' "$name"
    "$@"
    case $? in
        0) printf '    ok: %s (%ss)\n' "$name" $((SECONDS - start)) ;;
        3) printf '    NOT RUN: %s\n' "$name"; not_run+=("$name") ;;
        *) printf '    FAILED: %s (%ss)\n' "$name" $((SECONDS - start))
           failed+=("$name") ;;
    esac
}

setup_venv() {
    [ -x "$PY" ] || python3 -m venv "$VENV" || return 1
    "$PY" -m pip install --quiet --upgrade pip >"$LOG_DIR/pip.log" 2>&1 &&
        "$PY" -m pip install --quiet -e ".[full,dev]" >>"$LOG_DIR/pip.log" 2>&1 ||
        { grep -v "is ignored: it is neither" "$LOG_DIR/pip.log"; return 1; }
}

suite() {
    # suite [PYTHON-FLAGS...] -- [RUNNER-ARGS...]
    local flags=()
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do flags+=("$1"); shift; done
    [ $# -gt 0 ] && shift
    "$PY" "${flags[@]}" -m tornado.test.runtests "$@"
}

install_system_packages() {
    # Install the PACKAGE_FILES packages that are missing, with one
    # apt-get update; remember why not if this is not root with apt-get.
    local missing=() package
    for package in "${!PACKAGE_FILES[@]}"; do
        [ -e "${PACKAGE_FILES[$package]}" ] || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        packages_unavailable="${missing[*]} missing, and installing needs root"
    elif ! command -v apt-get >/dev/null; then
        packages_unavailable="${missing[*]} missing, and there is no apt-get"
    else
        echo "    installing ${missing[*]} (log: $LOG_DIR/apt.log)"
        { apt-get update && DEBIAN_FRONTEND=noninteractive \
            apt-get install -y "${missing[@]}"; } >"$LOG_DIR/apt.log" 2>&1 || {
            packages_unavailable="apt-get install ${missing[*]} failed"
            tail -5 "$LOG_DIR/apt.log"
            return 1
        }
    fi
    return 0
}

needing() {
    # needing "PACKAGE..." COMMAND...: run COMMAND if the packages are there.
    # Otherwise say why in one line and return 3 ("not run"), or fail under
    # CI=true: CI must never skip a step silently.
    local package
    for package in $1; do
        if [ ! -e "${PACKAGE_FILES[$package]}" ]; then
            echo "    needs Debian's $package: ${packages_unavailable:-not installed}"
            [ "${CI:-}" = "true" ] && return 1
            return 3
        fi
    done
    shift
    "$@"
}

user_typing() {
    # A user's module that reaches tornado.web through ``import tornado``
    # alone is type-checked for real (tornado/__init__.pyi), not as Any.
    local dir
    dir=$(mktemp -d)
    cat >"$dir/uses_lazy_web.py" <<'PYTHON'
import tornado


class Hello(tornado.web.RequestHandler):
    def get(self) -> None:
        self.write("hello")


def make_app() -> tornado.web.Application:
    return tornado.web.Application([("/", Hello)])
PYTHON
    cat >"$dir/misuses_lazy_web.py" <<'PYTHON'
import tornado

app: int = tornado.web.Application([])
PYTHON
    local good bad status=0
    good=$("$PY" -m mypy --strict "$dir/uses_lazy_web.py" 2>&1) ||
        { echo "$good"; status=1; }
    bad=$("$PY" -m mypy --strict "$dir/misuses_lazy_web.py" 2>&1)
    if ! grep -q 'expression has type "Application", variable has type "int"' <<<"$bad"; then
        echo "mypy did not see the misuse of tornado.web.Application:"
        echo "$bad"
        status=1
    fi
    rm -r "$dir"
    return $status
}

docs_coverage() {
    "$PY" -m sphinx -q -W -n -b coverage docs "$LOG_DIR/docs-coverage" || return 1
    "$PY" maint/scripts/check_docs_coverage.py "$LOG_DIR/docs-coverage/python.txt"
}

step "system packages" install_system_packages
step "virtualenv" setup_venv || true
if [[ " ${failed[*]} " == *" virtualenv "* ]]; then
    echo "could not build $VENV; stopping" >&2
    exit 1
fi

step "suite: default" suite --
step "suite: python -O" suite -O --
step "suite: python -bb" suite -bb --
step "suite: TORNADO_EXTENSION=0" env TORNADO_EXTENSION=0 "$PY" -m tornado.test.runtests
step "suite: ioloop=select" suite -- --ioloop=select
step "suite: ioloop=uvloop" suite -- --ioloop=uvloop
step "suite: ioloop=threaded-selector" suite -- --ioloop=threaded-selector
step "suite: curl client" suite -- --httpclient=tornado.curl_httpclient.CurlAsyncHTTPClient
step "suite: c-ares resolver" suite -- --resolver=tornado.platform.caresresolver.CaresResolver
step "suite: threaded resolver" suite -- --resolver=tornado.netutil.ThreadedResolver
step "suite: twisted resolver" suite -- --resolver=tornado.platform.twisted.TwistedResolver
# Includes the pytest plugin's own tests (pytester, child pytest runs).
step "suite: pytest" "$PY" -m pytest -q -p no:cacheprovider tornado/test
step "mypy --strict" "$PY" -m mypy --strict tornado
step "typing: user code" user_typing
step "ruff" "$PY" -m ruff check .
step "black" "$PY" -m black --check --quiet .
step "docs: html" "$PY" -m sphinx -q -W -n -b html docs "$LOG_DIR/docs-html"
step "docs: rendered" "$PY" maint/scripts/check_rendered_docs.py "$LOG_DIR/docs-html"
step "docs: coverage" docs_coverage
step "docs: doctest" "$PY" -m sphinx -q -W -n -b doctest docs "$LOG_DIR/docs-doctest"
step "demos in Chromium" needing "chromium chromium-driver" \
    suite -- tornado.test.demos_browser
step "behind nginx" needing "nginx" suite -- tornado.test.nginx_deploy
# terminado, pytest-tornasync and a jupyter_server subset, in a cached venv.
step "downstream suites" maint/scripts/downstream.sh

if [ ${#failed[@]} -ne 0 ]; then
    printf 'FAILED steps: %s\n' "${failed[*]}"
    exit 1
fi
if [ ${#not_run[@]} -ne 0 ]; then
    printf 'all checks that ran passed; NOT RUN: %s\n' "${not_run[*]}"
else
    echo "all checks passed"
fi
