/*
 * Optional C accelerator: WebSocket (un)masking for tornado.util, and the
 * common case of HTTP/1 head parsing and formatting for tornado._http1wire.
 *
 * RFC 6455 masking XORs every payload byte with one byte of a 4-byte key,
 * the key repeating along the payload.  The loop below works on 8 bytes at
 * a time with the key doubled into a 64-bit word; memcpy keeps the loads and
 * stores free of alignment assumptions and compiles to plain moves.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <string.h>

static void
xor_with_key(const unsigned char *src, unsigned char *dst, Py_ssize_t length,
             const unsigned char key[4])
{
    uint32_t key32;
    uint64_t key64;
    Py_ssize_t i = 0;

    memcpy(&key32, key, 4);
    key64 = ((uint64_t)key32 << 32) | key32;
    for (; i + 8 <= length; i += 8) {
        uint64_t word;
        memcpy(&word, src + i, 8);
        word ^= key64;
        memcpy(dst + i, &word, 8);
    }
    /* i is a multiple of 8, so the key phase restarts at key[0]. */
    for (; i < length; i++) {
        dst[i] = src[i] ^ key[i & 3];
    }
}

/* Copy the 4 bytes of a bytes-like key into key, or raise. */
static int
read_key(PyObject *obj, unsigned char key[4])
{
    Py_buffer mask;
    int ok;

    if (PyObject_GetBuffer(obj, &mask, PyBUF_FULL_RO) < 0) {
        return 0;
    }
    ok = mask.len == 4;
    if (ok) {
        ok = PyBuffer_ToContiguous(key, &mask, 4, 'C') == 0;
    }
    else {
        PyErr_Format(PyExc_ValueError,
                     "websocket mask must be 4 bytes long, got %zd", mask.len);
    }
    PyBuffer_Release(&mask);
    return ok;
}

static PyObject *
websocket_mask(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    Py_buffer data;
    PyObject *result;
    unsigned char key[4];
    const unsigned char *src;
    unsigned char *dst;

    (void)module;
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError,
                     "websocket_mask() takes exactly 2 arguments (%zd given)",
                     nargs);
        return NULL;
    }
    if (!read_key(args[0], key)) {
        return NULL;
    }
    if (PyObject_GetBuffer(args[1], &data, PyBUF_FULL_RO) < 0) {
        return NULL;
    }
    result = PyBytes_FromStringAndSize(NULL, data.len);
    if (result == NULL) {
        goto done;
    }
    dst = (unsigned char *)PyBytes_AS_STRING(result);
    src = (const unsigned char *)data.buf;
    if (!PyBuffer_IsContiguous(&data, 'C')) {
        /* A strided view: gather it first, then mask in place. */
        if (PyBuffer_ToContiguous(dst, &data, data.len, 'C') < 0) {
            Py_CLEAR(result);
            goto done;
        }
        src = dst;
    }
    if (data.len >= 65536) {
        /* Other threads may run meanwhile; the exported buffer cannot be
           resized or freed while we hold it. */
        Py_BEGIN_ALLOW_THREADS
        xor_with_key(src, dst, data.len, key);
        Py_END_ALLOW_THREADS
    }
    else {
        xor_with_key(src, dst, data.len, key);
    }
done:
    PyBuffer_Release(&data);
    return result;
}

/*
 * HTTP/1 message heads.
 *
 * Both functions below do the common case of what tornado._http1wire does
 * in Python, byte for byte, and return None for anything else: the caller
 * then runs the Python code, which keeps every error message and every
 * unusual-but-valid input.  Each is a single pass over its input, so linear
 * in its size whatever it holds.
 */

typedef struct {
    PyObject *str_values;       /* "_values" */
    PyObject *str_last_key;     /* "_last_key" */
    PyObject *str_pending_fold; /* "_pending_fold" */
    PyObject *str_host;              /* "Host" */
    PyObject *str_content_length;    /* "Content-Length" */
    PyObject *str_transfer_encoding; /* "Transfer-Encoding" */
    PyObject *str_expect;            /* "Expect" */
    PyObject *str_connection;        /* "Connection" */
} speedups_state;

static speedups_state *
get_state(PyObject *module)
{
    return (speedups_state *)PyModule_GetState(module);
}

/* Character classes of a byte, as bits of CHAR_CLASSES[byte]. */
#define TCHAR 1      /* tchar (RFC 9110 section 5.6.2) */
#define VCHAR 2      /* VCHAR or obs-text */
#define FIELD_CHAR 4 /* what a field value may hold: VCHAR, obs-text, SP, HTAB */

static const unsigned char CHAR_CLASSES[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    4, 7, 6, 7, 7, 7, 7, 7, 6, 6, 7, 7, 6, 7, 7, 6,
    7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 6, 6, 6, 6, 6,
    6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
    7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 6, 6, 7, 7,
    7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
    7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 7, 6, 7, 0,
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
};

static int
is_tchar(unsigned char c)
{
    return CHAR_CLASSES[c] & TCHAR;
}

static int
is_vchar(unsigned char c)
{
    return CHAR_CLASSES[c] & VCHAR;
}

static int
is_field_char(unsigned char c)
{
    return CHAR_CLASSES[c] & FIELD_CHAR;
}

static int
is_value_padding(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* The field name in Http-Header-Case: each '-'-separated word capitalized. */
static PyObject *
normalized_name(const unsigned char *name, Py_ssize_t length)
{
    PyObject *result = PyUnicode_New(length, 127);
    Py_UCS1 *out;
    Py_ssize_t i;
    int word_start = 1;

    if (result == NULL) {
        return NULL;
    }
    out = PyUnicode_1BYTE_DATA(result);
    for (i = 0; i < length; i++) {
        unsigned char c = name[i];
        if (c == '-') {
            word_start = 1;
        }
        else if (word_start) {
            if (c >= 'a' && c <= 'z') {
                c -= 'a' - 'A';
            }
            word_start = 0;
        }
        else if (c >= 'A' && c <= 'Z') {
            c += 'a' - 'A';
        }
        out[i] = c;
    }
    return result;
}

/* Add value under key as HTTPHeaders._add_plain_lines does. */
static int
store_value(PyObject *table, PyObject *key, PyObject *value)
{
    PyObject *current = PyDict_GetItemWithError(table, key);
    PyObject *both;
    int status;

    if (current == NULL) {
        if (PyErr_Occurred()) {
            return -1;
        }
        return PyDict_SetItem(table, key, value);
    }
    if (PyList_CheckExact(current)) {
        return PyList_Append(current, value);
    }
    both = PyList_New(2);
    if (both == NULL) {
        return -1;
    }
    Py_INCREF(current);
    PyList_SET_ITEM(both, 0, current);
    Py_INCREF(value);
    PyList_SET_ITEM(both, 1, value);
    status = PyDict_SetItem(table, key, both);
    Py_DECREF(both);
    return status;
}

/*
 * Parse the header block [p, end) into table, if every line of it is blank
 * or a plain "Name: value" line (_httpgrammar.is_plain_header_block).
 * Returns 1 and sets *last_key (a new reference, or NULL if there was no
 * header) when it is, 0 when it is not, -1 with an exception set.
 */
static int
parse_plain_lines(const unsigned char *p, const unsigned char *end,
                  PyObject *table, PyObject **last_key)
{
    PyObject *key = NULL;

    *last_key = NULL;
    while (p < end) {
        const unsigned char *name = p, *value, *value_end;
        PyObject *text;

        if (*p == '\n') {
            p++;
            continue;
        }
        if (*p == '\r') {
            if (p + 1 < end && p[1] == '\n') {
                p += 2;
                continue;
            }
            goto not_plain;
        }
        while (p < end && is_tchar(*p)) {
            p++;
        }
        if (p == name || p == end || *p != ':') {
            goto not_plain;
        }
        Py_XSETREF(key, normalized_name(name, p - name));
        if (key == NULL) {
            return -1;
        }
        value = ++p;
        while (p < end && *p != '\n') {
            if (*p == '\r') {
                if (p + 1 == end || p[1] != '\n') {
                    goto not_plain;
                }
            }
            else if (!is_field_char(*p)) {
                goto not_plain;
            }
            p++;
        }
        value_end = p;
        if (p < end) {
            p++; /* the LF */
        }
        while (value < value_end && is_value_padding(*value)) {
            value++;
        }
        while (value_end > value && is_value_padding(value_end[-1])) {
            value_end--;
        }
        text = PyUnicode_DecodeLatin1((const char *)value, value_end - value,
                                      NULL);
        if (text == NULL || store_value(table, key, text) < 0) {
            Py_XDECREF(text);
            Py_DECREF(key);
            return -1;
        }
        Py_DECREF(text);
    }
    *last_key = key;
    return 1;
not_plain:
    Py_XDECREF(key);
    return 0;
}

/* An instance of a tuple subclass (a NamedTuple) holding the three items. */
static PyObject *
new_triple(PyTypeObject *type, PyObject *a, PyObject *b, PyObject *c)
{
    PyObject *result;

    if (a == NULL || b == NULL || c == NULL) {
        return NULL;
    }
    result = type->tp_alloc(type, 3);
    if (result == NULL) {
        return NULL;
    }
    Py_INCREF(a);
    PyTuple_SET_ITEM(result, 0, a);
    Py_INCREF(b);
    PyTuple_SET_ITEM(result, 1, b);
    Py_INCREF(c);
    PyTuple_SET_ITEM(result, 2, c);
    return result;
}

/* Whether a Host value is made only of [A-Za-z0-9.:-] (a subset of what
 * _httpgrammar.is_host accepts). */
static int
is_plain_host(PyObject *value)
{
    const Py_UCS1 *text;
    Py_ssize_t i, length;

    if (!PyUnicode_CheckExact(value) ||
        PyUnicode_KIND(value) != PyUnicode_1BYTE_KIND) {
        return 0;
    }
    text = PyUnicode_1BYTE_DATA(value);
    length = PyUnicode_GET_LENGTH(value);
    for (i = 0; i < length; i++) {
        Py_UCS1 c = text[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == ':' || c == '-')) {
            return 0;
        }
    }
    return 1;
}

/* Whether value is the str "keep-alive" in any letter case. */
static int
is_keep_alive(PyObject *value)
{
    const Py_UCS1 *text;
    const char *expected = "keep-alive";
    Py_ssize_t i;

    if (!PyUnicode_CheckExact(value) ||
        PyUnicode_KIND(value) != PyUnicode_1BYTE_KIND ||
        PyUnicode_GET_LENGTH(value) != 10) {
        return 0;
    }
    text = PyUnicode_1BYTE_DATA(value);
    for (i = 0; i < 10; i++) {
        Py_UCS1 c = text[i];
        if (c >= 'A' && c <= 'Z') {
            c += 'a' - 'A';
        }
        if (c != (Py_UCS1)expected[i]) {
            return 0;
        }
    }
    return 1;
}

/*
 * Whether a parsed HTTP/1.1 head needs none of the reading rules' work
 * (_http1wire.read_request_head): one plain Host value, no Content-Length,
 * Transfer-Encoding or Expect header, and no Connection header other than
 * "keep-alive".  Returns 1 or 0, or -1 with an exception set.
 */
static int
is_plain_request(speedups_state *state, PyObject *table)
{
    PyObject *value;

    value = PyDict_GetItemWithError(table, state->str_host);
    if (value == NULL || !is_plain_host(value)) {
        return PyErr_Occurred() ? -1 : 0;
    }
    if (PyDict_GetItemWithError(table, state->str_content_length) != NULL ||
        PyDict_GetItemWithError(table, state->str_transfer_encoding) != NULL ||
        PyDict_GetItemWithError(table, state->str_expect) != NULL) {
        return 0;
    }
    if (PyErr_Occurred()) {
        return -1;
    }
    value = PyDict_GetItemWithError(table, state->str_connection);
    if (value != NULL) {
        return is_keep_alive(value);
    }
    return PyErr_Occurred() ? -1 : 1;
}

static PyObject *
parse_head(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
           const char *function, int with_flag)
{
    speedups_state *state = get_state(module);
    PyTypeObject *line_type, *headers_type;
    const unsigned char *p, *end, *line_end, *method, *target, *version;
    PyObject *table = NULL, *last_key = NULL, *headers = NULL;
    PyObject *start_line = NULL, *result = NULL, *empty = NULL;
    PyObject *method_text = NULL, *target_text = NULL, *version_text = NULL;
    int plain, flag = 0;

    if (nargs != 3) {
        PyErr_Format(PyExc_TypeError,
                     "%s() takes exactly 3 arguments (%zd given)", function,
                     nargs);
        return NULL;
    }
    if (!PyType_Check(args[1]) ||
        !PyType_IsSubtype((PyTypeObject *)args[1], &PyTuple_Type) ||
        !PyType_Check(args[2])) {
        PyErr_Format(PyExc_TypeError,
                     "%s() needs a tuple subclass and a class", function);
        return NULL;
    }
    line_type = (PyTypeObject *)args[1];
    headers_type = (PyTypeObject *)args[2];
    if (!PyBytes_CheckExact(args[0])) {
        Py_RETURN_NONE;
    }
    p = (const unsigned char *)PyBytes_AS_STRING(args[0]);
    end = p + PyBytes_GET_SIZE(args[0]);

    /* Empty lines before the request line are ignored. */
    while (p < end && (*p == '\r' || *p == '\n')) {
        p++;
    }
    line_end = memchr(p, '\n', end - p);
    if (line_end == NULL) {
        line_end = end;
    }
    /* method SP request-target SP HTTP/1.d [CR] LF */
    method = p;
    while (p < line_end && is_tchar(*p)) {
        p++;
    }
    if (p == method || p == line_end || *p != ' ') {
        Py_RETURN_NONE;
    }
    target = ++p;
    while (p < line_end && is_vchar(*p)) {
        p++;
    }
    if (p == target || p == line_end || *p != ' ') {
        Py_RETURN_NONE;
    }
    version = ++p;
    p = line_end;
    if (p > version && p[-1] == '\r') {
        p--;
    }
    if (p - version != 8 || memcmp(version, "HTTP/1.", 7) != 0 ||
        version[7] < '0' || version[7] > '9') {
        Py_RETURN_NONE;
    }

    table = PyDict_New();
    if (table == NULL) {
        return NULL;
    }
    plain = parse_plain_lines(line_end == end ? end : line_end + 1, end, table,
                              &last_key);
    if (plain <= 0) {
        Py_DECREF(table);
        if (plain < 0) {
            return NULL;
        }
        Py_RETURN_NONE;
    }
    if (with_flag && version[7] == '1') {
        flag = is_plain_request(state, table);
        if (flag < 0) {
            Py_DECREF(table);
            Py_XDECREF(last_key);
            return NULL;
        }
    }

    method_text = PyUnicode_DecodeLatin1((const char *)method,
                                         target - 1 - method, NULL);
    target_text = PyUnicode_DecodeLatin1((const char *)target,
                                         version - 1 - target, NULL);
    version_text = PyUnicode_DecodeLatin1((const char *)version, 8, NULL);
    start_line = new_triple(line_type, method_text, target_text, version_text);
    if (start_line == NULL) {
        goto done;
    }
    /* HTTPHeaders.__new__ without __init__, then __init__'s attributes. */
    empty = PyTuple_New(0);
    if (empty == NULL) {
        goto done;
    }
    headers = headers_type->tp_new(headers_type, empty, NULL);
    if (headers == NULL ||
        PyObject_SetAttr(headers, state->str_values, table) < 0 ||
        PyObject_SetAttr(headers, state->str_last_key,
                         last_key == NULL ? Py_None : last_key) < 0 ||
        PyObject_SetAttr(headers, state->str_pending_fold, Py_None) < 0) {
        goto done;
    }
    if (with_flag) {
        result = PyTuple_Pack(3, start_line, headers,
                              flag ? Py_True : Py_False);
    }
    else {
        result = PyTuple_Pack(2, start_line, headers);
    }
done:
    Py_XDECREF(empty);
    Py_XDECREF(headers);
    Py_XDECREF(start_line);
    Py_XDECREF(method_text);
    Py_XDECREF(target_text);
    Py_XDECREF(version_text);
    Py_XDECREF(last_key);
    Py_DECREF(table);
    return result;
}

static PyObject *
parse_request_head(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    return parse_head(module, args, nargs, "parse_request_head", 0);
}

static PyObject *
parse_request_head_plain(PyObject *module, PyObject *const *args,
                         Py_ssize_t nargs)
{
    return parse_head(module, args, nargs, "parse_request_head_plain", 1);
}

/* Whether text holds CR, LF or NUL (written to let the compiler vectorize). */
static int
has_line_break(const unsigned char *text, Py_ssize_t length)
{
    unsigned char found = 0;
    Py_ssize_t i;

    for (i = 0; i < length; i++) {
        unsigned char c = text[i];
        found |= (c == '\r') | (c == '\n') | (c == '\0');
    }
    return found;
}

/*
 * The bytes of one piece of a head line, if it can be sent as it is: a str
 * of one-byte characters (latin-1) or bytes, with no CR, LF or NUL (checked
 * when check is true).  Returns 0 (with *data and *length set) or -1 when
 * Python must handle it.
 */
static int
line_piece(PyObject *obj, int allow_bytes, int check, const char **data,
           Py_ssize_t *length)
{
    const char *text;
    Py_ssize_t size;

    if (PyUnicode_CheckExact(obj)) {
        if (PyUnicode_READY(obj) < 0) {
            PyErr_Clear();
            return -1;
        }
        if (PyUnicode_KIND(obj) != PyUnicode_1BYTE_KIND) {
            return -1;
        }
        text = (const char *)PyUnicode_1BYTE_DATA(obj);
        size = PyUnicode_GET_LENGTH(obj);
    }
    else if (allow_bytes && PyBytes_CheckExact(obj)) {
        text = PyBytes_AS_STRING(obj);
        size = PyBytes_GET_SIZE(obj);
    }
    else {
        return -1;
    }
    if (check && has_line_break((const unsigned char *)text, size)) {
        return -1;
    }
    *data = text;
    *length = size;
    return 0;
}

/*
 * Where a head is counted (out is NULL: total grows) or written (at out,
 * never past limit).
 */
typedef struct {
    char *out;
    char *limit;
    Py_ssize_t total;
} head_writer;

static int
put(head_writer *writer, const char *data, Py_ssize_t length)
{
    if (writer->out == NULL) {
        writer->total += length;
        return 0;
    }
    if (length > writer->limit - writer->out) {
        return -1;
    }
    memcpy(writer->out, data, length);
    writer->out += length;
    return 0;
}

/* "name: value\r\n", or -1 when a piece needs Python's handling. */
static int
put_field_line(head_writer *writer, PyObject *name, PyObject *value,
               int allow_bytes)
{
    const char *name_data, *value_data;
    Py_ssize_t name_length, value_length;

    int check = writer->out == NULL; /* validated while counting */

    if (line_piece(name, 0, check, &name_data, &name_length) < 0 ||
        line_piece(value, allow_bytes, check, &value_data, &value_length) <
            0) {
        return -1;
    }
    if (put(writer, name_data, name_length) < 0 || put(writer, ": ", 2) < 0 ||
        put(writer, value_data, value_length) < 0 ||
        put(writer, "\r\n", 2) < 0) {
        return -1;
    }
    return 0;
}

/*
 * Walk the head's lines through writer.  Returns -1 when a piece needs
 * Python's handling.  The walk runs no Python code (keys are checked to be
 * exact str before any lookup), so counting and writing see the same
 * objects; the writer's limit guards against it anyway.
 */
static int
walk_head(head_writer *writer, PyObject *first_line, PyObject *table,
          PyObject *extra)
{
    const char *data;
    Py_ssize_t length, pos = 0;
    PyObject *name, *value;
    int has_extra = PyDict_GET_SIZE(extra) > 0;

    while (PyDict_Next(extra, &pos, &name, &value)) {
        if (!PyUnicode_CheckExact(name)) {
            return -1;
        }
    }
    if (line_piece(first_line, 0, writer->out == NULL, &data, &length) < 0 ||
        put(writer, data, length) < 0 || put(writer, "\r\n", 2) < 0) {
        return -1;
    }
    pos = 0;
    while (PyDict_Next(table, &pos, &name, &value)) {
        if (!PyUnicode_CheckExact(name)) {
            return -1;
        }
        if (has_extra) {
            int skip = PyDict_Contains(extra, name);
            if (skip < 0) {
                PyErr_Clear();
                return -1;
            }
            if (skip) {
                continue;
            }
        }
        if (PyList_CheckExact(value)) {
            Py_ssize_t i;
#ifdef Py_GIL_DISABLED
            return -1;
#endif
            for (i = 0; i < PyList_GET_SIZE(value); i++) {
                if (put_field_line(writer, name, PyList_GET_ITEM(value, i),
                                   1) < 0) {
                    return -1;
                }
            }
        }
        else if (put_field_line(writer, name, value, 1) < 0) {
            return -1;
        }
    }
    pos = 0;
    while (PyDict_Next(extra, &pos, &name, &value)) {
        if (put_field_line(writer, name, value, 0) < 0) {
            return -1;
        }
    }
    return put(writer, "\r\n", 2);
}

/*
 * walk_head with the two dicts locked where there is no GIL (elsewhere the
 * critical section macros do nothing).  Lists of values, which the lock
 * does not cover, are then left to Python.
 */
static int
walk_head_locked(head_writer *writer, PyObject *first_line, PyObject *table,
                 PyObject *extra)
{
    int status;

#if PY_VERSION_HEX >= 0x030D0000
    Py_BEGIN_CRITICAL_SECTION2(table, extra);
    status = walk_head(writer, first_line, table, extra);
    Py_END_CRITICAL_SECTION2();
#else
    status = walk_head(writer, first_line, table, extra);
#endif
    return status;
}

static PyObject *
format_head(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    head_writer writer = {NULL, NULL, 0};
    PyObject *result;
    Py_ssize_t body_size = 0;

    (void)module;
    if (nargs != 3 && nargs != 4) {
        PyErr_Format(PyExc_TypeError,
                     "format_head() takes 3 or 4 arguments (%zd given)",
                     nargs);
        return NULL;
    }
    if (!PyDict_CheckExact(args[1]) || !PyDict_CheckExact(args[2])) {
        Py_RETURN_NONE;
    }
    if (nargs == 4) {
        /* A body to append: exact bytes only (immutable, so its size holds). */
        if (!PyBytes_CheckExact(args[3])) {
            Py_RETURN_NONE;
        }
        body_size = PyBytes_GET_SIZE(args[3]);
    }
    if (walk_head_locked(&writer, args[0], args[1], args[2]) < 0 ||
        writer.total > PY_SSIZE_T_MAX - body_size) {
        Py_RETURN_NONE;
    }
    result = PyBytes_FromStringAndSize(NULL, writer.total + body_size);
    if (result == NULL) {
        return NULL;
    }
    writer.out = PyBytes_AS_STRING(result);
    writer.limit = writer.out + writer.total;
    if (walk_head_locked(&writer, args[0], args[1], args[2]) < 0 ||
        writer.out != writer.limit) {
        /* Only if the objects changed between the walks. */
        Py_DECREF(result);
        Py_RETURN_NONE;
    }
    if (body_size) {
        memcpy(writer.out, PyBytes_AS_STRING(args[3]), body_size);
    }
    return result;
}

static int
speedups_exec(PyObject *module)
{
    speedups_state *state = get_state(module);

    state->str_values = PyUnicode_InternFromString("_values");
    state->str_last_key = PyUnicode_InternFromString("_last_key");
    state->str_pending_fold = PyUnicode_InternFromString("_pending_fold");
    state->str_host = PyUnicode_InternFromString("Host");
    state->str_content_length = PyUnicode_InternFromString("Content-Length");
    state->str_transfer_encoding =
        PyUnicode_InternFromString("Transfer-Encoding");
    state->str_expect = PyUnicode_InternFromString("Expect");
    state->str_connection = PyUnicode_InternFromString("Connection");
    if (state->str_values == NULL || state->str_last_key == NULL ||
        state->str_pending_fold == NULL || state->str_host == NULL ||
        state->str_content_length == NULL ||
        state->str_transfer_encoding == NULL || state->str_expect == NULL ||
        state->str_connection == NULL) {
        return -1;
    }
    return 0;
}

static int
speedups_traverse(PyObject *module, visitproc visit, void *arg)
{
    speedups_state *state = get_state(module);
    if (state != NULL) {
        Py_VISIT(state->str_values);
        Py_VISIT(state->str_last_key);
        Py_VISIT(state->str_pending_fold);
        Py_VISIT(state->str_host);
        Py_VISIT(state->str_content_length);
        Py_VISIT(state->str_transfer_encoding);
        Py_VISIT(state->str_expect);
        Py_VISIT(state->str_connection);
    }
    return 0;
}

static int
speedups_clear(PyObject *module)
{
    speedups_state *state = get_state(module);
    if (state != NULL) {
        Py_CLEAR(state->str_values);
        Py_CLEAR(state->str_last_key);
        Py_CLEAR(state->str_pending_fold);
        Py_CLEAR(state->str_host);
        Py_CLEAR(state->str_content_length);
        Py_CLEAR(state->str_transfer_encoding);
        Py_CLEAR(state->str_expect);
        Py_CLEAR(state->str_connection);
    }
    return 0;
}

static void
speedups_free(void *module)
{
    speedups_clear((PyObject *)module);
}


static PyMethodDef speedups_methods[] = {
    {"websocket_mask", (PyCFunction)(void (*)(void))websocket_mask,
     METH_FASTCALL,
     "websocket_mask(mask, data) -> bytes\n\n"
     "XOR data with the 4-byte mask repeated (RFC 6455 masking).\n"
     "Both arguments may be any bytes-like object; ValueError is raised\n"
     "if mask is not exactly 4 bytes long."},
    {"parse_request_head", (PyCFunction)(void (*)(void))parse_request_head,
     METH_FASTCALL,
     "parse_request_head(data, start_line_type, headers_type)\n\n"
     "The (start line, headers) of a plain request head, built as\n"
     "tornado._http1wire builds them, or None if data is not plain\n"
     "(the Python parser then handles it and its errors)."},
    {"parse_request_head_plain",
     (PyCFunction)(void (*)(void))parse_request_head_plain, METH_FASTCALL,
     "parse_request_head_plain(data, start_line_type, headers_type)\n\n"
     "As parse_request_head, with a third item: True when the head is\n"
     "HTTP/1.1 with one Host value of [A-Za-z0-9.:-] only, no\n"
     "Content-Length, Transfer-Encoding or Expect header and no\n"
     "Connection header but \"keep-alive\" (any case): such a request has\n"
     "no body, keeps the connection alive and expects no 100-continue."},
    {"format_head", (PyCFunction)(void (*)(void))format_head, METH_FASTCALL,
     "format_head(first_line, table, extra[, body]) -> bytes | None\n\n"
     "The bytes of a message head as tornado._http1wire renders them\n"
     "(followed by body, exact bytes, when given), or None if a piece\n"
     "needs the Python code (which may raise)."},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot speedups_slots[] = {
    {Py_mod_exec, speedups_exec},
#if PY_VERSION_HEX >= 0x030C0000
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
#if PY_VERSION_HEX >= 0x030D0000
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL},
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "tornado.speedups",
    .m_doc = "C implementations of hot helpers of tornado.util and tornado._http1wire.",
    .m_size = sizeof(speedups_state),
    .m_methods = speedups_methods,
    .m_slots = speedups_slots,
    .m_traverse = speedups_traverse,
    .m_clear = speedups_clear,
    .m_free = speedups_free,
};

PyMODINIT_FUNC
PyInit_speedups(void)
{
    return PyModuleDef_Init(&speedups_module);
}
