/*
 * Optional C accelerator for tornado.util: WebSocket (un)masking.
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

static PyMethodDef speedups_methods[] = {
    {"websocket_mask", (PyCFunction)(void (*)(void))websocket_mask,
     METH_FASTCALL,
     "websocket_mask(mask, data) -> bytes\n\n"
     "XOR data with the 4-byte mask repeated (RFC 6455 masking).\n"
     "Both arguments may be any bytes-like object; ValueError is raised\n"
     "if mask is not exactly 4 bytes long."},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot speedups_slots[] = {
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
    .m_doc = "C implementations of hot helpers of tornado.util.",
    .m_size = 0,
    .m_methods = speedups_methods,
    .m_slots = speedups_slots,
};

PyMODINIT_FUNC
PyInit_speedups(void)
{
    return PyModuleDef_Init(&speedups_module);
}
