/* Fixed-width delta coding of many connections' rows into bucket payloads (serving layout 3).
 *
 * A bucket payload is the plaintext of one sealed serving unit:
 *
 *   0x33, k (fields), varint c (connections), then per connection:
 *     varint name length, name bytes, varint n (rows), and when n > 0:
 *       per field: width byte w (0-8), zigzag varint of the first value, zigzag varint of the
 *                  smallest step (base),
 *       per field: n - 1 steps, each stored as (step - base) in w little-endian bytes.
 *
 * A step is the difference to the connection's previous row, computed modulo 2^64, so any
 * int64 round-trips exactly. Registers climbing by a day's use need 2 bytes, a day that
 * advances by one or a constant field needs none. Why C: a bucket holds ~16 connections and a
 * month 100,000; numpy would need dozens of calls per connection (see decision 0014).
 *
 * decode() finds one connection in many payloads (months, segments), undoes the steps, keeps
 * the rows in a time window, orders them by (time, version) and optionally keeps only the
 * latest version per time, writing each field at the width its Arrow type needs. Every read
 * is bounds-checked: corrupt or truncated input raises ValueError. Loops run without the GIL.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TAG 0x33
#define MAX_FIELDS 16
/* Rows of one connection in one read, far above a month of 15-minute values (~3,000): a
   larger count can only come from a corrupt payload (constant fields take no bytes, so the
   payload's length alone does not bound it). */
#define MAX_ROWS (1 << 24)

/* -- varints ------------------------------------------------------------------------------ */

static inline uint64_t zigzag(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }
static inline int64_t unzigzag(uint64_t u) { return (int64_t)(u >> 1) ^ -(int64_t)(u & 1); }

static inline size_t varint_len(uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) { v >>= 7; n++; }
    return n;
}

static inline uint8_t *put_varint(uint8_t *p, uint64_t v) {
    while (v >= 0x80) { *p++ = (uint8_t)(v | 0x80); v >>= 7; }
    *p++ = (uint8_t)v;
    return p;
}

/* Reads a varint at *p (before end); 0 on truncated or over-long input. */
static inline int get_varint(const uint8_t **p, const uint8_t *end, uint64_t *out) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*p >= end) return 0;
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) { *out = v; return 1; }
    }
    return 0;
}

static inline int width_of(uint64_t range) {
    int w = 0;
    while (range) { w++; range >>= 8; }
    return w;
}

/* -- input columns ------------------------------------------------------------------------ */

typedef struct {
    const uint8_t *data;
    Py_ssize_t length; /* items */
    int itemsize;      /* 1: uint8 codes; 2, 4, 8: signed integers */
} Column;

static inline int64_t column_get(const Column *c, Py_ssize_t i) {
    switch (c->itemsize) {
    case 1: return (int64_t)c->data[i];
    case 2: { int16_t v; memcpy(&v, c->data + 2 * i, 2); return v; }
    case 4: { int32_t v; memcpy(&v, c->data + 4 * i, 4); return v; }
    default: { int64_t v; memcpy(&v, c->data + 8 * i, 8); return v; }
    }
}

/* One field of one connection: the smallest step and the byte width of (step - smallest).
   The item size is switched on outside the loop so each loop is a plain typed scan. */
#define STEP_RANGE(T)                                                                       \
    do {                                                                                    \
        const T *v = (const T *)c->data;                                                    \
        uint64_t prev = (uint64_t)(int64_t)v[s];                                            \
        for (Py_ssize_t r = s + 1; r < e; r++) {                                            \
            uint64_t x = (uint64_t)(int64_t)v[r];                                           \
            int64_t step = (int64_t)(x - prev);                                             \
            if (r == s + 1 || step < lo) lo = step;                                         \
            if (r == s + 1 || step > hi) hi = step;                                         \
            prev = x;                                                                       \
        }                                                                                   \
    } while (0)

static int field_width(const Column *c, Py_ssize_t s, Py_ssize_t e, int64_t *base) {
    int64_t lo = 0, hi = 0;
    switch (c->itemsize) {
    case 1: STEP_RANGE(uint8_t); break;
    case 2: STEP_RANGE(int16_t); break;
    case 4: STEP_RANGE(int32_t); break;
    default: STEP_RANGE(int64_t);
    }
    *base = lo;
    return width_of((uint64_t)hi - (uint64_t)lo);
}

#define WRITE_STEPS(T)                                                                      \
    do {                                                                                    \
        const T *v = (const T *)c->data;                                                    \
        uint64_t prev = (uint64_t)(int64_t)v[s];                                            \
        for (Py_ssize_t r = s + 1; r < e; r++) {                                            \
            uint64_t x = (uint64_t)(int64_t)v[r];                                           \
            uint64_t u = x - prev - lo;                                                     \
            for (int q = 0; q < w; q++) p[q] = (uint8_t)(u >> (8 * q));                     \
            p += w;                                                                         \
            prev = x;                                                                       \
        }                                                                                   \
    } while (0)

static uint8_t *write_steps(uint8_t *p, const Column *c, Py_ssize_t s, Py_ssize_t e, int w,
                            uint64_t lo) {
    switch (c->itemsize) {
    case 1: WRITE_STEPS(uint8_t); break;
    case 2: WRITE_STEPS(int16_t); break;
    case 4: WRITE_STEPS(int32_t); break;
    default: WRITE_STEPS(int64_t);
    }
    return p;
}

/* -- encode ------------------------------------------------------------------------------- */

typedef struct {
    Py_buffer columns[MAX_FIELDS];
    Py_buffer starts, names, offsets, buckets;
    int k, have_columns;
    int have_starts, have_names, have_offsets, have_buckets;
} EncodeInput;

static void release_input(EncodeInput *in) {
    for (int j = 0; j < in->have_columns; j++) PyBuffer_Release(&in->columns[j]);
    if (in->have_starts) PyBuffer_Release(&in->starts);
    if (in->have_names) PyBuffer_Release(&in->names);
    if (in->have_offsets) PyBuffer_Release(&in->offsets);
    if (in->have_buckets) PyBuffer_Release(&in->buckets);
}

static int int64_buffer(PyObject *obj, Py_buffer *view, const char *what) {
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS) < 0) return 0;
    if (view->len % 8) {
        PyBuffer_Release(view);
        PyErr_Format(PyExc_ValueError, "%s must be int64", what);
        return 0;
    }
    return 1;
}

PyDoc_STRVAR(encode_doc,
"encode(columns, starts, names, offsets, buckets, n_buckets) -> list[bytes]\n\n"
"Code the rows of many connections into one payload per bucket (b'' for an empty one).\n"
"columns: one contiguous array per field (uint8, int16, int32 or int64), rows ordered by\n"
"connection; connection i owns rows starts[i]:starts[i+1] (int64) and is named\n"
"names[offsets[i]:offsets[i+1]] (int64 offsets); buckets[i] (int64) is its bucket.");

static PyObject *encode(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *columns_obj, *starts_obj, *names_obj, *offsets_obj, *buckets_obj;
    Py_ssize_t n_buckets;
    if (!PyArg_ParseTuple(args, "OOOOOn", &columns_obj, &starts_obj, &names_obj, &offsets_obj,
                          &buckets_obj, &n_buckets))
        return NULL;
    if (n_buckets < 1 || n_buckets > (1 << 30)) {
        PyErr_SetString(PyExc_ValueError, "n_buckets must be 1 to 2**30");
        return NULL;
    }
    PyObject *seq = PySequence_Fast(columns_obj, "columns must be a sequence");
    if (!seq) return NULL;
    EncodeInput in;
    memset(&in, 0, sizeof in);
    in.k = (int)PySequence_Fast_GET_SIZE(seq);
    PyObject *result = NULL;
    Column cols[MAX_FIELDS];
    int64_t *base = NULL;
    uint8_t *width = NULL;
    Py_ssize_t *order = NULL, *bucket_start = NULL;
    size_t *conn_size = NULL, *bucket_size = NULL;
    if (in.k < 1 || in.k > MAX_FIELDS) {
        PyErr_SetString(PyExc_ValueError, "1 to 16 fields");
        goto done;
    }
    for (int j = 0; j < in.k; j++) {
        if (PyObject_GetBuffer(PySequence_Fast_GET_ITEM(seq, j), &in.columns[j],
                               PyBUF_C_CONTIGUOUS) < 0)
            goto done;
        in.have_columns++;
        Py_ssize_t size = in.columns[j].itemsize;
        if (size != 1 && size != 2 && size != 4 && size != 8) {
            PyErr_SetString(PyExc_ValueError, "column items must be 1, 2, 4 or 8 bytes");
            goto done;
        }
        cols[j].data = in.columns[j].buf;
        cols[j].itemsize = (int)size;
        cols[j].length = in.columns[j].len / size;
    }
    if (!int64_buffer(starts_obj, &in.starts, "starts")) goto done;
    in.have_starts = 1;
    if (PyObject_GetBuffer(names_obj, &in.names, PyBUF_C_CONTIGUOUS) < 0) goto done;
    in.have_names = 1;
    if (!int64_buffer(offsets_obj, &in.offsets, "offsets")) goto done;
    in.have_offsets = 1;
    if (!int64_buffer(buckets_obj, &in.buckets, "buckets")) goto done;
    in.have_buckets = 1;

    const int64_t *starts = in.starts.buf, *offsets = in.offsets.buf, *buckets = in.buckets.buf;
    const uint8_t *names = in.names.buf;
    Py_ssize_t m = in.buckets.len / 8;
    if (in.starts.len / 8 != m + 1 || in.offsets.len / 8 != m + 1) {
        PyErr_SetString(PyExc_ValueError, "starts and offsets need one item per connection + 1");
        goto done;
    }
    if (starts[0] != 0 || offsets[0] != 0 || offsets[m] > in.names.len) {
        PyErr_SetString(PyExc_ValueError, "starts or offsets out of range");
        goto done;
    }
    for (Py_ssize_t i = 0; i < m; i++) {
        if (starts[i + 1] < starts[i] || offsets[i + 1] < offsets[i] || buckets[i] < 0 ||
            buckets[i] >= n_buckets) {
            PyErr_SetString(PyExc_ValueError, "starts, offsets or buckets out of range");
            goto done;
        }
    }
    for (int j = 0; j < in.k; j++) {
        if (cols[j].length < starts[m]) {
            PyErr_SetString(PyExc_ValueError, "a column is shorter than the rows");
            goto done;
        }
    }
    int k = in.k;
    base = malloc(sizeof *base * (size_t)(m ? m : 1) * (size_t)k);
    width = malloc((size_t)(m ? m : 1) * (size_t)k);
    conn_size = malloc(sizeof *conn_size * (size_t)(m ? m : 1));
    order = malloc(sizeof *order * (size_t)(m ? m : 1));
    bucket_start = calloc((size_t)n_buckets + 1, sizeof *bucket_start);
    bucket_size = calloc((size_t)n_buckets, sizeof *bucket_size);
    if (!base || !width || !conn_size || !order || !bucket_start || !bucket_size) {
        PyErr_NoMemory();
        goto done;
    }

    /* Pass 1: per connection and field the smallest step and the width of the rest. */
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < m; i++) {
        Py_ssize_t s = starts[i], e = starts[i + 1], n = e - s;
        size_t len = (size_t)(offsets[i + 1] - offsets[i]);
        size_t size = varint_len(len) + len + varint_len((uint64_t)n);
        for (int j = 0; j < k && n > 0; j++) {
            const Column *c = &cols[j];
            int64_t lo;
            int w = field_width(c, s, e, &lo);
            base[i * k + j] = lo;
            width[i * k + j] = (uint8_t)w;
            size += 1 + varint_len(zigzag(column_get(c, s))) + varint_len(zigzag(lo)) +
                    (size_t)(n - 1) * (size_t)w;
        }
        conn_size[i] = size;
        bucket_start[buckets[i] + 1]++;
    }
    for (Py_ssize_t b = 0; b < n_buckets; b++) bucket_start[b + 1] += bucket_start[b];
    /* Counting sort: connections of a bucket keep their input order. */
    {
        Py_ssize_t *fill = malloc(sizeof *fill * (size_t)n_buckets);
        if (fill) {
            memcpy(fill, bucket_start, sizeof *fill * (size_t)n_buckets);
            for (Py_ssize_t i = 0; i < m; i++) order[fill[buckets[i]]++] = i;
            free(fill);
        }
        for (Py_ssize_t b = 0; fill && b < n_buckets; b++) {
            Py_ssize_t count = bucket_start[b + 1] - bucket_start[b];
            if (!count) continue;
            /* conn_size becomes each connection's offset within its bucket's payload. */
            size_t size = 2 + varint_len((uint64_t)count);
            for (Py_ssize_t x = bucket_start[b]; x < bucket_start[b + 1]; x++) {
                size_t own = conn_size[order[x]];
                conn_size[order[x]] = size;
                size += own;
            }
            bucket_size[b] = size;
        }
        if (!fill) bucket_size[0] = (size_t)-1;
    }
    Py_END_ALLOW_THREADS
    if (bucket_size[0] == (size_t)-1) {
        PyErr_NoMemory();
        goto done;
    }

    result = PyList_New(n_buckets);
    if (!result) goto done;
    for (Py_ssize_t b = 0; b < n_buckets; b++) {
        PyObject *item = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)bucket_size[b]);
        if (!item) { Py_CLEAR(result); goto done; }
        PyList_SET_ITEM(result, b, item);
    }

    /* Pass 2: write each bucket (the fresh bytes objects are not shared yet). */
    {
        uint8_t **out = malloc(sizeof *out * (size_t)n_buckets);
        if (!out) { Py_CLEAR(result); PyErr_NoMemory(); goto done; }
        for (Py_ssize_t b = 0; b < n_buckets; b++)
            out[b] = (uint8_t *)PyBytes_AS_STRING(PyList_GET_ITEM(result, b));
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t b = 0; b < n_buckets; b++) {
            Py_ssize_t count = bucket_start[b + 1] - bucket_start[b];
            if (!count) continue;
            uint8_t *p = out[b];
            *p++ = TAG;
            *p++ = (uint8_t)k;
            put_varint(p, (uint64_t)count);
        }
        /* Connections in input order (the columns are read front to back, which at 3 M rows
           costs half of reading them bucket by bucket), each at its offset in its bucket. */
        for (Py_ssize_t i = 0; i < m; i++) {
            Py_ssize_t s = starts[i], e = starts[i + 1], n = e - s;
            uint8_t *p = out[buckets[i]] + conn_size[i];
            size_t len = (size_t)(offsets[i + 1] - offsets[i]);
            p = put_varint(p, len);
            memcpy(p, names + offsets[i], len);
            p += len;
            p = put_varint(p, (uint64_t)n);
            if (n == 0) continue;
            for (int j = 0; j < k; j++) {
                *p++ = width[i * k + j];
                p = put_varint(p, zigzag(column_get(&cols[j], s)));
                p = put_varint(p, zigzag(base[i * k + j]));
            }
            for (int j = 0; j < k; j++) {
                int w = width[i * k + j];
                if (w) p = write_steps(p, &cols[j], s, e, w, (uint64_t)base[i * k + j]);
            }
        }
        Py_END_ALLOW_THREADS
        free(out);
    }

done:
    free(base);
    free(width);
    free(conn_size);
    free(order);
    free(bucket_start);
    free(bucket_size);
    release_input(&in);
    Py_DECREF(seq);
    return result;
}

/* -- decode ------------------------------------------------------------------------------- */

typedef struct {
    const uint8_t *header; /* the connection's field headers */
    const uint8_t *end;    /* end of its payload */
    Py_ssize_t rows;
} Match;

/* Parses one payload; appends the connection named `name` (if present) to matches.
   Returns 0 on success, -1 on corrupt input, -2 when out of memory. */
static int scan_payload(const uint8_t *p, const uint8_t *end, int k, const uint8_t *name,
                        size_t name_len, Match **matches, size_t *count, size_t *capacity,
                        Py_ssize_t *total) {
    if (end - p < 2 || p[0] != TAG || p[1] != k) return -1;
    p += 2;
    uint64_t connections;
    if (!get_varint(&p, end, &connections)) return -1;
    for (uint64_t c = 0; c < connections; c++) {
        uint64_t len, n;
        if (!get_varint(&p, end, &len) || len > (uint64_t)(end - p)) return -1;
        int same = len == name_len && memcmp(p, name, name_len) == 0;
        p += len;
        if (!get_varint(&p, end, &n) || n > MAX_ROWS) return -1;
        if (n == 0) continue;
        const uint8_t *header = p;
        uint64_t data = 0;
        for (int j = 0; j < k; j++) {
            uint64_t first, lo;
            if (p >= end) return -1;
            uint8_t w = *p++;
            if (w > 8 || !get_varint(&p, end, &first) || !get_varint(&p, end, &lo)) return -1;
            data += (n - 1) * w;
        }
        if (data > (uint64_t)(end - p)) return -1;
        p += data;
        if (same) {
            if (*count == *capacity) {
                size_t grown = *capacity ? 2 * *capacity : 32;
                Match *more = realloc(*matches, grown * sizeof *more);
                if (!more) return -2;
                *matches = more;
                *capacity = grown;
            }
            (*matches)[(*count)++] = (Match){header, end, (Py_ssize_t)n};
            *total += (Py_ssize_t)n;
            if (*total > MAX_ROWS) return -1;
        }
    }
    return p == end ? 0 : -1;
}

/* Undoes one connection's steps into values[j * stride + row0 ...]. */
static void expand(const Match *m, int k, int64_t *values, Py_ssize_t stride, Py_ssize_t row0) {
    const uint8_t *p = m->header;
    uint8_t widths[MAX_FIELDS];
    uint64_t firsts[MAX_FIELDS], bases[MAX_FIELDS];
    for (int j = 0; j < k; j++) {
        widths[j] = *p++;
        get_varint(&p, m->end, &firsts[j]);
        get_varint(&p, m->end, &bases[j]);
    }
    Py_ssize_t n = m->rows;
    for (int j = 0; j < k; j++) {
        int64_t *out = values + j * stride + row0;
        uint64_t v = (uint64_t)unzigzag(firsts[j]), lo = (uint64_t)unzigzag(bases[j]);
        int w = widths[j];
        out[0] = (int64_t)v;
        for (Py_ssize_t r = 1; r < n; r++) {
            uint64_t u = 0;
            for (int q = 0; q < w; q++) u |= (uint64_t)p[q] << (8 * q);
            p += w;
            v += lo + u;
            out[r] = (int64_t)v;
        }
    }
}

/* Stable merge sort of row positions by (time, version). */
static int before(const int64_t *time, const int64_t *version, Py_ssize_t a, Py_ssize_t b) {
    if (time[a] != time[b]) return time[a] < time[b];
    if (version[a] != version[b]) return version[a] < version[b];
    return a < b;
}

static void merge_sort(Py_ssize_t *rows, Py_ssize_t *scratch, Py_ssize_t n, const int64_t *time,
                       const int64_t *version) {
    for (Py_ssize_t size = 1; size < n; size *= 2) {
        for (Py_ssize_t lo = 0; lo < n; lo += 2 * size) {
            Py_ssize_t mid = lo + size < n ? lo + size : n;
            Py_ssize_t hi = lo + 2 * size < n ? lo + 2 * size : n;
            Py_ssize_t a = lo, b = mid, o = lo;
            while (a < mid && b < hi)
                scratch[o++] = before(time, version, rows[b], rows[a]) ? rows[b++] : rows[a++];
            while (a < mid) scratch[o++] = rows[a++];
            while (b < hi) scratch[o++] = rows[b++];
        }
        memcpy(rows, scratch, sizeof *rows * (size_t)n);
    }
}

PyDoc_STRVAR(decode_doc,
"decode(payloads, name, widths, time_field, version_field, low, high, latest)\n"
"    -> tuple[int, list[bytes]]\n\n"
"The rows of connection `name` in all `payloads` (a list of bytes): those whose time field\n"
"lies in [low, high), ordered by (time, version), only the highest version per time when\n"
"`latest`. time_field -1 keeps every row in payload order. Each field comes back as one\n"
"bytes object of little-endian integers of widths[j] bytes (1, 2, 4 or 8).");

static PyObject *decode(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *payloads;
    const char *name_ptr, *widths_ptr;
    Py_ssize_t name_len, k;
    int time_field, version_field, latest;
    long long low, high;
    if (!PyArg_ParseTuple(args, "O!y#y#iiLLp", &PyList_Type, &payloads, &name_ptr, &name_len,
                          &widths_ptr, &k, &time_field, &version_field, &low, &high, &latest))
        return NULL;
    if (k < 1 || k > MAX_FIELDS || time_field >= k || version_field < 0 || version_field >= k) {
        PyErr_SetString(PyExc_ValueError, "bad field layout");
        return NULL;
    }
    for (Py_ssize_t j = 0; j < k; j++) {
        int w = widths_ptr[j];
        if (w != 1 && w != 2 && w != 4 && w != 8) {
            PyErr_SetString(PyExc_ValueError, "output widths must be 1, 2, 4 or 8");
            return NULL;
        }
    }
    Py_ssize_t count = PyList_GET_SIZE(payloads);
    const uint8_t **starts = malloc(sizeof *starts * (size_t)(count + 1));
    const uint8_t **ends = malloc(sizeof *ends * (size_t)(count + 1));
    if (!starts || !ends) {
        free(starts);
        free(ends);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *item = PyList_GET_ITEM(payloads, i);
        if (!PyBytes_Check(item)) {
            free(starts);
            free(ends);
            PyErr_SetString(PyExc_TypeError, "payloads must be bytes");
            return NULL;
        }
        starts[i] = (const uint8_t *)PyBytes_AS_STRING(item);
        ends[i] = starts[i] + PyBytes_GET_SIZE(item);
    }
    /* The list holds its bytes objects; keep it alive while the GIL is released. */
    Py_INCREF(payloads);
    Match *matches = NULL;
    size_t found = 0, capacity = 0;
    Py_ssize_t total = 0, kept = 0;
    int status = 0;
    int64_t *values = NULL;
    Py_ssize_t *rows = NULL, *scratch = NULL;
    PyObject *fields = NULL, *result = NULL;
    int kk = (int)k;

    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < count && status == 0; i++)
        status = scan_payload(starts[i], ends[i], kk, (const uint8_t *)name_ptr,
                              (size_t)name_len, &matches, &found, &capacity, &total);
    if (status == 0) {
        values = malloc(sizeof *values * (size_t)(total ? total : 1) * (size_t)kk);
        rows = malloc(sizeof *rows * (size_t)(total ? total : 1));
        scratch = malloc(sizeof *scratch * (size_t)(total ? total : 1));
        if (!values || !rows || !scratch) status = -2;
    }
    if (status == 0) {
        Py_ssize_t row0 = 0;
        for (size_t x = 0; x < found; x++) {
            expand(&matches[x], kk, values, total, row0);
            row0 += matches[x].rows;
        }
        if (time_field < 0) {
            for (Py_ssize_t r = 0; r < total; r++) rows[r] = r;
            kept = total;
        } else {
            const int64_t *time = values + (Py_ssize_t)time_field * total;
            const int64_t *version = values + (Py_ssize_t)version_field * total;
            int sorted = 1;
            for (Py_ssize_t r = 0; r < total; r++) {
                if (time[r] < low || time[r] >= high) continue;
                if (kept && !before(time, version, rows[kept - 1], r)) sorted = 0;
                rows[kept++] = r;
            }
            if (!sorted) merge_sort(rows, scratch, kept, time, version);
            if (latest) {
                Py_ssize_t out = 0;
                for (Py_ssize_t x = 0; x < kept; x++)
                    if (x + 1 == kept || time[rows[x + 1]] != time[rows[x]]) rows[out++] = rows[x];
                kept = out;
            }
        }
    }
    Py_END_ALLOW_THREADS

    if (status == -1) {
        PyErr_SetString(PyExc_ValueError, "corrupt or truncated serving payload");
        goto done;
    }
    if (status == -2) {
        PyErr_NoMemory();
        goto done;
    }
    fields = PyList_New(k);
    if (!fields) goto done;
    for (Py_ssize_t j = 0; j < k; j++) {
        PyObject *item = PyBytes_FromStringAndSize(NULL, kept * widths_ptr[j]);
        if (!item) { Py_CLEAR(fields); goto done; }
        PyList_SET_ITEM(fields, j, item);
    }
    for (Py_ssize_t j = 0; j < k; j++) {
        uint8_t *out = (uint8_t *)PyBytes_AS_STRING(PyList_GET_ITEM(fields, j));
        const int64_t *column = values + j * total;
        int w = widths_ptr[j];
        for (Py_ssize_t x = 0; x < kept; x++) {
            int64_t v = column[rows[x]];
            switch (w) {
            case 1: out[x] = (uint8_t)v; break;
            case 2: { int16_t t = (int16_t)v; memcpy(out + 2 * x, &t, 2); break; }
            case 4: { int32_t t = (int32_t)v; memcpy(out + 4 * x, &t, 4); break; }
            default: memcpy(out + 8 * x, &v, 8);
            }
        }
    }
    result = Py_BuildValue("nN", kept, fields);

done:
    Py_DECREF(payloads);
    free(starts);
    free(ends);
    free(matches);
    free(values);
    free(rows);
    free(scratch);
    return result;
}

/* -- code positions --------------------------------------------------------------------- */

PyDoc_STRVAR(positions_doc,
"positions(offsets, data, codes) -> bytes\n\n"
"The position in `codes` (a list of at most 255 bytes objects) of each string of an Arrow\n"
"string array given as its int32 `offsets` (n + 1, starting anywhere) and `data`: one byte\n"
"per string. ValueError for a string that is not in `codes`. (A linear scan: the code lists\n"
"are a handful of short words, hashing millions of strings costs ten times more.)");

static PyObject *positions(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer offsets_view, data_view;
    PyObject *codes;
    if (!PyArg_ParseTuple(args, "y*y*O!", &offsets_view, &data_view, &PyList_Type, &codes))
        return NULL;
    PyObject *result = NULL;
    const char *words[255];
    Py_ssize_t lengths[255];
    Py_ssize_t k = PyList_GET_SIZE(codes);
    Py_ssize_t n = offsets_view.len / 4 - 1;
    const int32_t *offsets = offsets_view.buf;
    const char *data = data_view.buf;
    if (k > 255 || offsets_view.len % 4 || n < 0) {
        PyErr_SetString(PyExc_ValueError, "bad offsets or too many codes");
        goto done;
    }
    for (Py_ssize_t c = 0; c < k; c++) {
        PyObject *item = PyList_GET_ITEM(codes, c);
        if (!PyBytes_Check(item)) {
            PyErr_SetString(PyExc_TypeError, "codes must be bytes");
            goto done;
        }
        words[c] = PyBytes_AS_STRING(item);
        lengths[c] = PyBytes_GET_SIZE(item);
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (offsets[i + 1] < offsets[i] || offsets[i] < 0 || offsets[i + 1] > data_view.len) {
            PyErr_SetString(PyExc_ValueError, "offsets out of range");
            goto done;
        }
    }
    result = PyBytes_FromStringAndSize(NULL, n);
    if (!result) goto done;
    uint8_t *out = (uint8_t *)PyBytes_AS_STRING(result);
    Py_ssize_t unknown = -1;
    Py_BEGIN_ALLOW_THREADS
    int last = 0;
    for (Py_ssize_t i = 0; i < n && unknown < 0; i++) {
        const char *word = data + offsets[i];
        Py_ssize_t length = offsets[i + 1] - offsets[i];
        /* Runs of one code are the rule: try the previous row's code first. */
        if (k && length == lengths[last] && memcmp(word, words[last], (size_t)length) == 0) {
            out[i] = (uint8_t)last;
            continue;
        }
        int c = 0;
        while (c < k && !(length == lengths[c] && memcmp(word, words[c], (size_t)length) == 0))
            c++;
        if (c == k) unknown = i;
        else out[i] = (uint8_t)(last = c);
    }
    Py_END_ALLOW_THREADS
    if (unknown >= 0) {
        Py_CLEAR(result);
        PyErr_Format(PyExc_ValueError, "unknown code at row %zd", unknown);
    }

done:
    PyBuffer_Release(&offsets_view);
    PyBuffer_Release(&data_view);
    return result;
}

static PyMethodDef methods[] = {
    {"positions", positions, METH_VARARGS, positions_doc},
    {"encode", encode, METH_VARARGS, encode_doc},
    {"decode", decode, METH_VARARGS, decode_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_codec",
    "Fixed-width delta coding of connections' rows into serving bucket payloads.", -1, methods,
};

PyMODINIT_FUNC PyInit__codec(void) { return PyModule_Create(&module); }
