/* The consecutive-reading checks of intake for an "ordered forward batch", in one pass.
 *
 * Preconditions (checked here; when one fails the caller falls back to the general numpy path
 * in validation.decide): incoming rows are strictly ordered by (EAN, day), and a connection's
 * one stored anchor (if any) lies before its first incoming day. Then every pair of adjacent
 * anchors blames its later row, and decide's rounds (reject every row of a failing pair at
 * once, compare the survivors again) are repeated per connection here, with decide's limit of
 * ten rounds: a connection that would need more makes the whole batch fall back.
 *
 * Rules and their order (the first failing one is the reason) are those of decide; integer
 * differences wrap like numpy's and float comparisons use the same operations in the same
 * order (setup.py turns off FMA contraction), so the result is the same to the last bit.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Reason codes (validation.py's fastpath maps them to messages). 0 means accepted. */
enum {
    OK = 0,
    UNKNOWN = 1,
    NEGATIVE = 2,
    SERIES_BELOW_ONE = 3,
    SERIES_LOWER = 4,
    CONSUMPTION = 5,
    FEED_IN = 6,
    CUSTOMER = 7,
    REGISTER_LOWER = 8, /* + register index */
};

#define MAX_ROUNDS 10
#define MAX_REGISTERS 16
#define CUSTOMER_FACTOR 3.0
#define CUSTOMER_MARGIN 0.05

typedef struct {
    Py_buffer view;
    int held;
} Buffer;

static void release(Buffer *b) {
    if (b->held) {
        PyBuffer_Release(&b->view);
        b->held = 0;
    }
}

/* A C-contiguous buffer of `count` items of `itemsize` bytes whose format is one of `kinds`
 * (numpy's int64 is 'l' or 'q', float64 'd', bool '?', uint8 'B', int8 'b'). */
static int take(PyObject *obj, Buffer *b, const char *name, Py_ssize_t count, Py_ssize_t itemsize,
                const char *kinds, int writable) {
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, &b->view, flags) < 0) {
        PyErr_Format(PyExc_ValueError, "%s: not a contiguous%s array", name,
                     writable ? " writable" : "");
        return -1;
    }
    b->held = 1;
    const char *format = b->view.format ? b->view.format : "B";
    if (*format == '<' || *format == '=' || *format == '@') format++;
    if (b->view.itemsize != itemsize || strlen(format) != 1 || !strchr(kinds, *format)) {
        PyErr_Format(PyExc_ValueError, "%s: wrong item type '%s' (size %zd)", name,
                     b->view.format ? b->view.format : "B", b->view.itemsize);
        return -1;
    }
    if (count >= 0 && b->view.len != count * itemsize) {
        PyErr_Format(PyExc_ValueError, "%s: %zd items, expected %zd", name,
                     b->view.len / itemsize, count);
        return -1;
    }
    return 0;
}

typedef struct {
    const int64_t *day, *series, *regs; /* regs: k rows of `stride` values */
    Py_ssize_t stride;
} Side;

typedef struct {
    Py_ssize_t k;
    const uint8_t *is_import;
    int has_export;
    double import_limit, export_limit, annual;
    const double *shares; /* cumulative shares from day `origin` */
    Py_ssize_t shares_len;
    int64_t origin;
    int bad_share_index;
} Rules;

static inline int64_t wrapped_difference(int64_t a, int64_t b) {
    return (int64_t)((uint64_t)a - (uint64_t)b); /* numpy's int64 arithmetic wraps */
}

/* The first rule a pair (earlier `p` on side `ps`, later `c` on side `cs`) breaks, or OK. */
static int check_pair(Rules *rules, const Side *ps, Py_ssize_t p, const Side *cs,
                      Py_ssize_t c, int customer) {
    int64_t s_prev = ps->series[p], s_cur = cs->series[c];
    if (s_cur < s_prev) return SERIES_LOWER;
    if (s_cur != s_prev) return OK; /* a meter exchange: a new series starts unchecked */
    int64_t used = 0, fed = 0;
    for (Py_ssize_t k = 0; k < rules->k; k++) {
        int64_t delta = wrapped_difference(cs->regs[k * cs->stride + c], ps->regs[k * ps->stride + p]);
        if (delta < 0) return REGISTER_LOWER + (int)k;
        if (rules->is_import[k] || !rules->has_export)
            used = (int64_t)((uint64_t)used + (uint64_t)delta);
        else
            fed = (int64_t)((uint64_t)fed + (uint64_t)delta);
    }
    int64_t a = ps->day[p], b = cs->day[c];
    double days = (double)wrapped_difference(b, a);
    if ((double)used > rules->import_limit * days) return CONSUMPTION;
    if (rules->has_export && (double)fed > rules->export_limit * days) return FEED_IN;
    if (customer) {
        int64_t from = a - rules->origin, to = b - rules->origin;
        if (from < 0 || to < 0 || from >= rules->shares_len || to >= rules->shares_len) {
            rules->bad_share_index = 1;
            return OK;
        }
        double expected = rules->annual * (rules->shares[to] - rules->shares[from]);
        if ((double)used > CUSTOMER_FACTOR * expected + CUSTOMER_MARGIN * rules->annual)
            return CUSTOMER;
    }
    return OK;
}

static PyObject *check_forward(PyObject *self, PyObject *args, PyObject *kwargs) {
    (void)self;
    static char *names[] = {"ean", "day", "series", "registers", "customer", "is_import",
                            "known", "import_limit", "export_limit", "annual", "stored_row",
                            "stored_day", "stored_series", "stored_registers", "shares",
                            "shares_origin", "status", "previous", NULL};
    PyObject *o[16];
    long long origin;
    PyObject *o_status, *o_previous;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOOOOOOOOOOOOOOLOO", names, &o[0], &o[1],
                                     &o[2], &o[3], &o[4], &o[5], &o[6], &o[7], &o[8], &o[9],
                                     &o[10], &o[11], &o[12], &o[13], &o[14], &origin, &o_status,
                                     &o_previous))
        return NULL;
    enum { EAN, DAY, SERIES, REGS, CUST, IMPORT, KNOWN, ILIM, ELIM, ANNUAL, SROW, SDAY, SSERIES,
           SREGS, SHARES, STATUS, PREV, COUNT };
    Buffer buf[COUNT];
    memset(buf, 0, sizeof(buf));
    PyObject *result = NULL;
    Py_ssize_t *alive = NULL;

    if (take(o[EAN], &buf[EAN], "ean", -1, 8, "lq", 0) < 0) goto done;
    Py_ssize_t n = buf[EAN].view.len / 8;
    if (take(o[IMPORT], &buf[IMPORT], "is_import", -1, 1, "?B", 0) < 0) goto done;
    Py_ssize_t k = buf[IMPORT].view.len;
    if (k < 1 || k > MAX_REGISTERS) {
        PyErr_Format(PyExc_ValueError, "is_import: %zd registers (1 to %d)", k, MAX_REGISTERS);
        goto done;
    }
    if (take(o[KNOWN], &buf[KNOWN], "known", -1, 1, "?B", 0) < 0) goto done;
    Py_ssize_t g = buf[KNOWN].view.len;
    if (take(o[SDAY], &buf[SDAY], "stored_day", -1, 8, "lq", 0) < 0) goto done;
    Py_ssize_t m = buf[SDAY].view.len / 8;
    if (take(o[DAY], &buf[DAY], "day", n, 8, "lq", 0) < 0 ||
        take(o[SERIES], &buf[SERIES], "series", n, 8, "lq", 0) < 0 ||
        take(o[REGS], &buf[REGS], "registers", n * k, 8, "lq", 0) < 0 ||
        take(o[CUST], &buf[CUST], "customer", n, 1, "?B", 0) < 0 ||
        take(o[ILIM], &buf[ILIM], "import_limit", g, 8, "d", 0) < 0 ||
        take(o[ELIM], &buf[ELIM], "export_limit", g, 8, "d", 0) < 0 ||
        take(o[ANNUAL], &buf[ANNUAL], "annual", g, 8, "d", 0) < 0 ||
        take(o[SROW], &buf[SROW], "stored_row", g, 8, "lq", 0) < 0 ||
        take(o[SSERIES], &buf[SSERIES], "stored_series", m, 8, "lq", 0) < 0 ||
        take(o[SREGS], &buf[SREGS], "stored_registers", m * k, 8, "lq", 0) < 0 ||
        take(o[SHARES], &buf[SHARES], "shares", -1, 8, "d", 0) < 0 ||
        take(o_status, &buf[STATUS], "status", n, 1, "bB", 1) < 0 ||
        take(o_previous, &buf[PREV], "previous", n, 8, "lq", 1) < 0)
        goto done;

    const int64_t *ean = buf[EAN].view.buf, *stored_row = buf[SROW].view.buf;
    const uint8_t *known = buf[KNOWN].view.buf, *customer = buf[CUST].view.buf;
    const double *ilim = buf[ILIM].view.buf, *elim = buf[ELIM].view.buf;
    const double *annual = buf[ANNUAL].view.buf;
    int8_t *status = buf[STATUS].view.buf;
    int64_t *previous = buf[PREV].view.buf;
    Side in = {buf[DAY].view.buf, buf[SERIES].view.buf, buf[REGS].view.buf, n};
    Side st = {buf[SDAY].view.buf, buf[SSERIES].view.buf, buf[SREGS].view.buf, m};
    Rules rules = {k, buf[IMPORT].view.buf, 0, 0, 0, 0, buf[SHARES].view.buf,
                   buf[SHARES].view.len / 8, (int64_t)origin, 0};
    for (Py_ssize_t r = 0; r < k; r++) rules.has_export |= !rules.is_import[r];
    for (Py_ssize_t j = 0; j < g; j++) {
        if (stored_row[j] < -1 || stored_row[j] >= m) {
            PyErr_Format(PyExc_ValueError, "stored_row[%zd] = %lld is out of range", j,
                         (long long)stored_row[j]);
            goto done;
        }
    }
    alive = malloc(sizeof(Py_ssize_t) * (size_t)(n > 0 ? n : 1));
    if (!alive) {
        PyErr_NoMemory();
        goto done;
    }

    int forward = 1, bad_share = 0;
    Py_BEGIN_ALLOW_THREADS
    Py_ssize_t group = -1;
    for (Py_ssize_t start = 0, end; start < n && forward; start = end) {
        group++;
        for (end = start + 1; end < n && ean[end] == ean[start]; end++) {
            if (in.day[end] <= in.day[end - 1]) forward = 0; /* unordered or the same day twice */
        }
        if (end < n && ean[end] < ean[start]) forward = 0;
        if (group >= g || !forward) {
            forward = 0;
            break;
        }
        int64_t anchor = stored_row[group];
        if (anchor >= 0 && st.day[anchor] >= in.day[start]) {
            forward = 0; /* the batch touches a stored day: duplicates, versions */
            break;
        }
        rules.import_limit = ilim[group];
        rules.export_limit = elim[group];
        rules.annual = annual[group];
        /* Row checks first (decide's order: unknown, negative, series below one). */
        Py_ssize_t count = 0;
        for (Py_ssize_t r = start; r < end; r++) {
            int code = OK;
            if (!known[group]) code = UNKNOWN;
            for (Py_ssize_t j = 0; code == OK && j < k; j++)
                if (in.regs[j * n + r] < 0) code = NEGATIVE;
            if (code == OK && in.series[r] < 1) code = SERIES_BELOW_ONE;
            status[r] = (int8_t)code;
            previous[r] = -1;
            if (code == OK) alive[count++] = r;
        }
        /* Rounds: every adjacent pair at once, then again over the survivors. */
        for (int round = 0;; round++) {
            int rejected = 0;
            for (Py_ssize_t i = 0; i < count; i++) {
                Py_ssize_t r = alive[i];
                int code;
                if (i > 0)
                    code = check_pair(&rules, &in, alive[i - 1], &in, r, customer[r]);
                else if (anchor >= 0)
                    code = check_pair(&rules, &st, anchor, &in, r, customer[r]);
                else
                    code = OK;
                if (code != OK) {
                    status[r] = (int8_t)code;
                    rejected = 1;
                }
            }
            if (!rejected) break;
            if (round + 1 >= MAX_ROUNDS) {
                forward = 0; /* decide stops after ten rounds: leave such a batch to it */
                break;
            }
            Py_ssize_t kept = 0;
            for (Py_ssize_t i = 0; i < count; i++)
                if (status[alive[i]] == OK) alive[kept++] = alive[i];
            count = kept;
        }
        /* Where estimates go: an accepted row after a gap of days in the same series gets
         * its previous anchor (an incoming row, or -2 - stored row); every other row -1. */
        for (Py_ssize_t i = 0; i < count; i++) {
            Py_ssize_t r = alive[i];
            if (i > 0) {
                Py_ssize_t p = alive[i - 1];
                if (in.series[p] == in.series[r] && in.day[r] - in.day[p] > 1) previous[r] = p;
            } else if (anchor >= 0) {
                if (st.series[anchor] == in.series[r] && in.day[r] - st.day[anchor] > 1)
                    previous[r] = -2 - anchor;
            }
        }
    }
    if (forward && group + 1 != g) forward = 0; /* facts not aligned to the batch's EANs */
    bad_share = rules.bad_share_index;
    Py_END_ALLOW_THREADS

    if (bad_share) {
        PyErr_SetString(PyExc_ValueError, "shares do not cover a customer reading's days");
        goto done;
    }
    result = PyBool_FromLong(forward);
done:
    free(alive);
    for (int i = 0; i < COUNT; i++) release(&buf[i]);
    return result;
}

static PyMethodDef methods[] = {
    {"check_forward", (PyCFunction)(void (*)(void))check_forward, METH_VARARGS | METH_KEYWORDS,
     "Check an ordered forward batch in place; False when its preconditions do not hold."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_checks", "Compiled consecutive-reading checks of intake.", -1,
    methods,
};

PyMODINIT_FUNC PyInit__checks(void) { return PyModule_Create(&module); }
