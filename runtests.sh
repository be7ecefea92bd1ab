#!/usr/bin/env bash
# Build (or refresh) .venv and run every check: the test suite across the
# configuration matrix, mypy --strict, ruff, black and the Sphinx docs.
# Exits non-zero if any step fails; each step reports its name and time.
set -uo pipefail
cd "$(dirname "$0")"

VENV=${VENV:-.venv}
PY="$VENV/bin/python"
LOG_DIR=${LOG_DIR:-build/runtests}
mkdir -p "$LOG_DIR"
failed=()

step() {
    # step NAME COMMAND...: run one check, print its outcome and duration.
    local name=$1
    shift
    local start=$SECONDS
    printf '==> %s\n' "$name"
    if "$@"; then
        printf '    ok: %s (%ss)\n' "$name" $((SECONDS - start))
    else
        printf '    FAILED: %s (%ss)\n' "$name" $((SECONDS - start))
        failed+=("$name")
    fi
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

docs_coverage() {
    "$PY" -m sphinx -q -W -n -b coverage docs "$LOG_DIR/docs-coverage" || return 1
    "$PY" maint/scripts/check_docs_coverage.py "$LOG_DIR/docs-coverage/python.txt"
}

step "virtualenv" setup_venv || true
if [ ${#failed[@]} -ne 0 ]; then
    echo "could not build $VENV; stopping" >&2
    exit 1
fi

step "suite: default" suite --
step "suite: python -O" suite -O --
step "suite: python -bb" suite -bb --
step "suite: ioloop=select" suite -- --ioloop=select
step "suite: ioloop=uvloop" suite -- --ioloop=uvloop
step "suite: ioloop=threaded-selector" suite -- --ioloop=threaded-selector
step "suite: curl client" suite -- --httpclient=tornado.curl_httpclient.CurlAsyncHTTPClient
step "suite: c-ares resolver" suite -- --resolver=tornado.platform.caresresolver.CaresResolver
step "suite: threaded resolver" suite -- --resolver=tornado.netutil.ThreadedResolver
step "suite: twisted resolver" suite -- --resolver=tornado.platform.twisted.TwistedResolver
step "suite: pytest" "$PY" -m pytest -q -p no:cacheprovider tornado/test
step "mypy --strict" "$PY" -m mypy --strict tornado
step "ruff" "$PY" -m ruff check .
step "black" "$PY" -m black --check --quiet .
step "docs: html" "$PY" -m sphinx -q -W -n -b html docs "$LOG_DIR/docs-html"
step "docs: coverage" docs_coverage

if [ ${#failed[@]} -ne 0 ]; then
    printf 'FAILED steps: %s\n' "${failed[*]}"
    exit 1
fi
echo "all checks passed"
