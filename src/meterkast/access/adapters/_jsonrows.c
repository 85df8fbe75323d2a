/* Disclosed readings columns written as one JSON array of objects, in one call.
 *
 * The API's 24-month answer is 730 rows of a handful of columns. Writing them through Python
 * objects (or Arrow's per-column casts and joins) cost 0.2-0.3 ms; here each row is formatted
 * straight from the column buffers, with the GIL released. The caller (arrow_rows.py) hands over
 * each column as (JSON key, kind, buffer, texts):
 *
 *   KIND_INT        signed integers of 1, 2, 4 or 8 bytes, written in decimal;
 *   KIND_DATE32     days since 1970-01-01 (int32), written "YYYY-MM-DD";
 *   KIND_MICROS     microseconds since the epoch, UTC (int64), written "YYYY-MM-DDTHH:MM:SS"
 *                   plus ".ffffff" only where the fraction is not zero, then "Z" (what pydantic
 *                   and orjson write for a UTC datetime);
 *   KIND_CODES      int32 indices into ``texts``, each already a complete JSON value (the few
 *                   distinct strings of a dictionary-encoded column, escaped once in Python);
 *   KIND_TEXT       an Arrow string column: its offsets (int32 or int64, rows + 1 of them) as
 *                   the buffer and its UTF-8 data as the fourth item, escaped here exactly as
 *                   json.dumps(ensure_ascii=False) escapes (quote, backslash, control bytes).
 *
 * Years outside 1..9999 (which Python's date cannot hold either), an index outside ``texts`` or
 * a buffer shorter than the rows raise ValueError; nothing is read out of bounds.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

enum { KIND_INT = 0, KIND_DATE32 = 1, KIND_MICROS = 2, KIND_CODES = 3, KIND_TEXT = 4 };

typedef struct {
    PyObject *key;      /* owned bytes: the JSON key with its quotes */
    const char *key_text;
    Py_ssize_t key_len;
    PyObject *text_seq; /* owned tuple of the code texts */
    int kind;
    Py_buffer view;
    int has_view;
    Py_buffer data;     /* KIND_TEXT: the strings' bytes */
    int has_data;
    const char **texts; /* KIND_CODES: the values' JSON, borrowed from the bytes objects */
    Py_ssize_t *text_lens;
    Py_ssize_t n_texts;
    Py_ssize_t widest;  /* the longest value this field can write */
} Field;

static const int64_t MICROS_PER_DAY = 86400000000LL;
/* 0001-01-01 and 9999-12-31 as days since 1970-01-01 */
static const int64_t FIRST_DAY = -719162, LAST_DAY = 2932896;

static void release(Field *fields, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++) {
        if (fields[i].has_view) PyBuffer_Release(&fields[i].view);
        if (fields[i].has_data) PyBuffer_Release(&fields[i].data);
        Py_XDECREF(fields[i].key);
        Py_XDECREF(fields[i].text_seq);
        PyMem_Free(fields[i].texts);
        PyMem_Free(fields[i].text_lens);
    }
    PyMem_Free(fields);
}

/* Howard Hinnant's civil_from_days: proleptic Gregorian date of a day count. */
static void civil(int64_t days, int *year, int *month, int *day) {
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int d = (int)(doy - (153 * mp + 2) / 5 + 1);
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *year = (int)(yoe + era * 400 + (m <= 2));
    *month = m;
    *day = d;
}

static char *digits(char *out, int64_t value, int width) {
    for (int i = width - 1; i >= 0; i--) {
        out[i] = (char)('0' + value % 10);
        value /= 10;
    }
    return out + width;
}

static char *write_date(char *out, int64_t days) {
    int y, m, d;
    civil(days, &y, &m, &d);
    out = digits(out, y, 4);
    *out++ = '-';
    out = digits(out, m, 2);
    *out++ = '-';
    return digits(out, d, 2);
}

static const char PAIRS[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

static char *write_int(char *out, int64_t value) {
    char tmp[20];
    char *end = tmp + sizeof tmp, *p = end;
    uint64_t magnitude = value < 0 ? (uint64_t)0 - (uint64_t)value : (uint64_t)value;
    while (magnitude >= 100) {  /* two digits per division */
        unsigned pair = (unsigned)(magnitude % 100) * 2;
        magnitude /= 100;
        *--p = PAIRS[pair + 1];
        *--p = PAIRS[pair];
    }
    if (magnitude >= 10) {
        unsigned pair = (unsigned)magnitude * 2;
        *--p = PAIRS[pair + 1];
        *--p = PAIRS[pair];
    } else {
        *--p = (char)('0' + magnitude);
    }
    if (value < 0) *out++ = '-';
    memcpy(out, p, (size_t)(end - p));
    return out + (end - p);
}

static char *write_micros(char *out, int64_t micros) {
    int64_t days = micros / MICROS_PER_DAY, rest = micros % MICROS_PER_DAY;
    if (rest < 0) {
        rest += MICROS_PER_DAY;
        days -= 1;
    }
    int64_t seconds = rest / 1000000, fraction = rest % 1000000;
    out = write_date(out, days);
    *out++ = 'T';
    out = digits(out, seconds / 3600, 2);
    *out++ = ':';
    out = digits(out, seconds / 60 % 60, 2);
    *out++ = ':';
    out = digits(out, seconds % 60, 2);
    if (fraction) {
        *out++ = '.';
        out = digits(out, fraction, 6);
    }
    *out++ = 'Z';
    return out;
}

/* A signed integer buffer of the given item size (0: 1, 2, 4 or 8 bytes), native byte order. */
static int integer_view(PyObject *obj, Py_buffer *view, Py_ssize_t itemsize, Py_ssize_t rows) {
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) return -1;
    const char *format = view->format ? view->format : "B";
    if (*format == '@' || *format == '=' || *format == '<') format++;
    int signed_int = strlen(format) == 1 && strchr("bhilq", *format) != NULL;
    int size_fits = itemsize ? view->itemsize == itemsize
                             : (view->itemsize == 1 || view->itemsize == 2 ||
                                view->itemsize == 4 || view->itemsize == 8);
    if (!signed_int || !size_fits) {
        PyErr_Format(PyExc_ValueError, "a column needs signed %zd-byte integers, not '%s'",
                     itemsize ? itemsize : 8, view->format ? view->format : "B");
        PyBuffer_Release(view);
        return -1;
    }
    if (view->len / view->itemsize < rows) {
        PyErr_SetString(PyExc_ValueError, "a column is shorter than the rows");
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

static inline int64_t integer_at(const Py_buffer *view, Py_ssize_t r) {
    switch (view->itemsize) {
    case 1: return ((const int8_t *)view->buf)[r];
    case 2: return ((const int16_t *)view->buf)[r];
    case 4: return ((const int32_t *)view->buf)[r];
    default: return ((const int64_t *)view->buf)[r];
    }
}

/* A text column: offsets (already viewed) and the data; every offset checked, and the widest
 * escaped value (6 bytes per input byte at most: \u00XX) counted. */
static int prepare_text(Field *f, PyObject *data, Py_ssize_t rows) {
    if (f->view.itemsize != 4 && f->view.itemsize != 8) {
        PyErr_SetString(PyExc_ValueError, "text offsets must be int32 or int64");
        return -1;
    }
    if (f->view.len / f->view.itemsize < rows + 1) {
        PyErr_SetString(PyExc_ValueError, "a column is shorter than the rows");
        return -1;
    }
    if (PyObject_GetBuffer(data, &f->data, PyBUF_SIMPLE) < 0) {
        PyErr_Clear();
        PyErr_SetString(PyExc_ValueError, "a text column needs its data as a bytes buffer");
        return -1;
    }
    f->has_data = 1;
    int64_t widest = 0, previous = rows ? integer_at(&f->view, 0) : 0;
    if (previous < 0) {
        PyErr_SetString(PyExc_ValueError, "text offsets outside the data");
        return -1;
    }
    for (Py_ssize_t r = 1; r <= rows; r++) {
        int64_t next = integer_at(&f->view, r);
        if (next < previous || next > (int64_t)f->data.len) {
            PyErr_SetString(PyExc_ValueError, "text offsets outside the data");
            return -1;
        }
        if (next - previous > widest) widest = next - previous;
        previous = next;
    }
    if (widest > (PY_SSIZE_T_MAX - 2) / 6) return (PyErr_NoMemory(), -1);
    f->widest = 2 + 6 * (Py_ssize_t)widest;
    return 0;
}

static char *write_text(char *out, const unsigned char *text, int64_t length) {
    static const char HEX[] = "0123456789abcdef";
    *out++ = '"';
    for (int64_t i = 0; i < length; i++) {
        unsigned char c = text[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            *out++ = (char)c;
            continue;
        }
        *out++ = '\\';
        switch (c) {
        case '"': *out++ = '"'; break;
        case '\\': *out++ = '\\'; break;
        case '\n': *out++ = 'n'; break;
        case '\r': *out++ = 'r'; break;
        case '\t': *out++ = 't'; break;
        case '\b': *out++ = 'b'; break;
        case '\f': *out++ = 'f'; break;
        default:
            memcpy(out, "u00", 3);
            out[3] = HEX[c >> 4];
            out[4] = HEX[c & 15];
            out += 5;
        }
    }
    *out++ = '"';
    return out;
}

static int prepare(Field *f, PyObject *spec, Py_ssize_t rows) {
    PyObject *key, *buffer, *texts;
    if (!PyTuple_Check(spec) ||
        !PyArg_ParseTuple(spec, "SiOO", &key, &f->kind, &buffer, &texts)) {
        if (!PyErr_Occurred() || PyErr_ExceptionMatches(PyExc_TypeError)) {
            PyErr_Clear();
            PyErr_SetString(PyExc_ValueError,
                            "each field is (key: bytes, kind: int, buffer, texts, data or None)");
        }
        return -1;
    }
    Py_INCREF(key);
    f->key = key;
    f->key_text = PyBytes_AS_STRING(key);
    f->key_len = PyBytes_GET_SIZE(key);
    Py_ssize_t itemsize;
    switch (f->kind) {
    case KIND_INT: itemsize = 0; f->widest = 20; break;
    case KIND_DATE32: itemsize = 4; f->widest = 12; break;
    case KIND_MICROS: itemsize = 8; f->widest = 30; break;
    case KIND_CODES: itemsize = 4; f->widest = 0; break;
    case KIND_TEXT: itemsize = 0; f->widest = 2; break;
    default: PyErr_Format(PyExc_ValueError, "unknown column kind %d", f->kind); return -1;
    }
    if (integer_view(buffer, &f->view, itemsize, rows) < 0) return -1;
    f->has_view = 1;
    if (f->kind == KIND_TEXT) return prepare_text(f, texts, rows);
    if (f->kind != KIND_CODES) return 0;
    /* A tuple (the caller's own if it is one): immutable, so the texts stay put while the GIL
     * is released. */
    f->text_seq = PySequence_Tuple(texts);
    if (f->text_seq == NULL) {
        PyErr_Clear();
        PyErr_SetString(PyExc_ValueError, "a code column needs its texts as a sequence");
        return -1;
    }
    f->n_texts = PyTuple_GET_SIZE(f->text_seq);
    f->texts = PyMem_Calloc((size_t)f->n_texts + 1, sizeof(char *));
    f->text_lens = PyMem_Calloc((size_t)f->n_texts + 1, sizeof(Py_ssize_t));
    if (f->texts == NULL || f->text_lens == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < f->n_texts; i++) {
        PyObject *text = PyTuple_GET_ITEM(f->text_seq, i);
        if (!PyBytes_Check(text)) {
            PyErr_SetString(PyExc_ValueError, "the texts of a code column must be bytes");
            return -1;
        }
        f->texts[i] = PyBytes_AS_STRING(text);
        f->text_lens[i] = PyBytes_GET_SIZE(text);
        if (f->text_lens[i] > f->widest) f->widest = f->text_lens[i];
    }
    return 0;
}

/* Checks every value first (with the GIL released), so writing cannot fail half-way. */
static const char *invalid(const Field *fields, Py_ssize_t n, Py_ssize_t rows) {
    for (Py_ssize_t i = 0; i < n; i++) {
        const Field *f = &fields[i];
        if (f->kind == KIND_DATE32) {
            const int32_t *v = f->view.buf;
            for (Py_ssize_t r = 0; r < rows; r++)
                if (v[r] < FIRST_DAY || v[r] > LAST_DAY) return "a day outside years 1..9999";
        } else if (f->kind == KIND_MICROS) {
            const int64_t *v = f->view.buf;
            for (Py_ssize_t r = 0; r < rows; r++) {
                int64_t day = v[r] / MICROS_PER_DAY - (v[r] % MICROS_PER_DAY < 0);
                if (day < FIRST_DAY || day > LAST_DAY) return "a moment outside years 1..9999";
            }
        } else if (f->kind == KIND_CODES) {
            const int32_t *v = f->view.buf;
            for (Py_ssize_t r = 0; r < rows; r++)
                if (v[r] < 0 || v[r] >= f->n_texts) return "a code index outside its texts";
        }
    }
    return NULL;
}

static char *write_rows(const Field *fields, Py_ssize_t n, Py_ssize_t rows, char *out) {
    *out++ = '[';
    for (Py_ssize_t r = 0; r < rows; r++) {
        if (r) *out++ = ',';
        *out++ = '{';
        for (Py_ssize_t i = 0; i < n; i++) {
            const Field *f = &fields[i];
            if (i) *out++ = ',';
            memcpy(out, f->key_text, (size_t)f->key_len);
            out += f->key_len;
            *out++ = ':';
            switch (f->kind) {
            case KIND_INT: out = write_int(out, integer_at(&f->view, r)); break;
            case KIND_DATE32:
                *out++ = '"';
                out = write_date(out, ((const int32_t *)f->view.buf)[r]);
                *out++ = '"';
                break;
            case KIND_MICROS:
                *out++ = '"';
                out = write_micros(out, ((const int64_t *)f->view.buf)[r]);
                *out++ = '"';
                break;
            case KIND_TEXT: {
                int64_t start = integer_at(&f->view, r);
                out = write_text(out, (const unsigned char *)f->data.buf + start,
                                 integer_at(&f->view, r + 1) - start);
                break;
            }
            default: {
                int32_t code = ((const int32_t *)f->view.buf)[r];
                memcpy(out, f->texts[code], (size_t)f->text_lens[code]);
                out += f->text_lens[code];
            }
            }
        }
        *out++ = '}';
    }
    *out++ = ']';
    return out;
}

static PyObject *rows_json(PyObject *self, PyObject *args) {
    (void)self;
    Py_ssize_t rows;
    PyObject *specs;
    if (!PyArg_ParseTuple(args, "nO:rows_json", &rows, &specs)) return NULL;
    if (rows < 0) {
        PyErr_SetString(PyExc_ValueError, "rows must not be negative");
        return NULL;
    }
    PyObject *seq = PySequence_Fast(specs, "fields must be a sequence");
    if (seq == NULL) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    Field *fields = PyMem_Calloc((size_t)n + 1, sizeof(Field));
    if (fields == NULL) {
        Py_DECREF(seq);
        return PyErr_NoMemory();
    }
    /* '{' '}' per row, ',' between rows; per field: ',' key ':' value */
    Py_ssize_t per_row = 3;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (prepare(&fields[i], PySequence_Fast_GET_ITEM(seq, i), rows) < 0) {
            release(fields, n);
            Py_DECREF(seq);
            return NULL;
        }
        per_row += 2 + fields[i].key_len + fields[i].widest;
    }
    if (rows && per_row > (PY_SSIZE_T_MAX - 2) / rows) {
        release(fields, n);
        Py_DECREF(seq);
        return PyErr_NoMemory();
    }
    char *buffer = PyMem_RawMalloc((size_t)(per_row * rows + 2));
    if (buffer == NULL) {
        release(fields, n);
        Py_DECREF(seq);
        return PyErr_NoMemory();
    }
    const char *problem;
    char *end;
    Py_BEGIN_ALLOW_THREADS
    problem = invalid(fields, n, rows);
    end = problem ? buffer : write_rows(fields, n, rows, buffer);
    Py_END_ALLOW_THREADS
    PyObject *result = problem ? NULL : PyBytes_FromStringAndSize(buffer, end - buffer);
    if (problem) PyErr_SetString(PyExc_ValueError, problem);
    PyMem_RawFree(buffer);
    release(fields, n);
    Py_DECREF(seq);
    return result;
}

static PyMethodDef methods[] = {
    {"rows_json", rows_json, METH_VARARGS,
     "rows_json(rows, fields) -> bytes: the columns as a JSON array of objects."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_jsonrows", "Disclosed readings columns written as JSON.", -1, methods,
};

PyMODINIT_FUNC PyInit__jsonrows(void) {
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    if (PyModule_AddIntConstant(m, "KIND_INT", KIND_INT) < 0 ||
        PyModule_AddIntConstant(m, "KIND_DATE32", KIND_DATE32) < 0 ||
        PyModule_AddIntConstant(m, "KIND_MICROS", KIND_MICROS) < 0 ||
        PyModule_AddIntConstant(m, "KIND_CODES", KIND_CODES) < 0 ||
        PyModule_AddIntConstant(m, "KIND_TEXT", KIND_TEXT) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
