/* The serving units of one connection across months, found and opened in one call.

   A history read needs, per month, the connection's bucket (a PRF of the EAN under the
   month's key), that bucket's sealed units from the month's serving file and each unit opened
   under the month's sealing key, bound to dataset, month, bucket and segment. Done per month
   in Python that was about 25 x 15 microseconds of interpreter work around a little SQLite
   and AES; here it is one call that releases the interpreter lock for all of it. SQLite is
   used through its C interface on a read-only, immutable, memory-mapped connection per file
   (the files never change in place: see adapters/serving.py); the keys are opaque ReadKeys
   objects whose operations keys/_aes.c provides (this file sees no key).

   read(units, keys, counts, places, dataset, message) -> list[bytes]
     units:   Units, one per month;  keys: ReadKeys, one per month
     counts:  the month's bucket count for the dataset (> 0)
     places:  the start of each unit's associated data for the month (format, dataset,
              month); the bucket and segment follow as "<bucket>\0<segment>" in decimal
     dataset: the dataset's name as stored; message: the 16-byte PRF block of the EAN
   The opened payloads come back in month order, each month's segments in stored order.
   RejectedError is raised when any unit fails authentication (nothing opened is returned). */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pythread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../keys/_aes_api.h"

static const char *READ_SQL = "SELECT segment, sealed FROM units WHERE dataset = ?1 AND bucket = ?2";
static const MkAesApi *aes;
static PyObject *RejectedError;

typedef struct {
    PyObject_HEAD
    sqlite3 *db;
    sqlite3_stmt *read;
    PyThread_type_lock lock;  /* one statement per file: reads of a file take turns */
} Units;

static void Units_dealloc(Units *self) {
    if (self->read != NULL) sqlite3_finalize(self->read);
    if (self->db != NULL) sqlite3_close_v2(self->db);
    if (self->lock != NULL) PyThread_free_lock(self->lock);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *Units_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    static char *names[] = {"uri", "mmap_bytes", NULL};
    const char *uri;
    long long mmap_bytes = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "s|L", names, &uri, &mmap_bytes)) return NULL;
    Units *self = (Units *)type->tp_alloc(type, 0);
    if (self == NULL) return NULL;
    self->lock = PyThread_allocate_lock();
    if (self->lock == NULL) {
        Py_DECREF(self);
        return PyErr_NoMemory();
    }
    int rc;
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA mmap_size = %lld", mmap_bytes);
    Py_BEGIN_ALLOW_THREADS
    rc = sqlite3_open_v2(uri, &self->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX,
                         NULL);
    if (rc == SQLITE_OK && mmap_bytes > 0) rc = sqlite3_exec(self->db, pragma, NULL, NULL, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_prepare_v3(self->db, READ_SQL, -1, SQLITE_PREPARE_PERSISTENT,
                                                 &self->read, NULL);
    Py_END_ALLOW_THREADS
    if (rc != SQLITE_OK) {
        PyErr_Format(PyExc_OSError, "serving file: %s",
                     self->db != NULL ? sqlite3_errmsg(self->db) : sqlite3_errstr(rc));
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static PyTypeObject UnitsType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "meterkast.readings._units.Units",
    .tp_doc = "Units(uri, mmap_bytes=0): a serving file's units, read-only.",
    .tp_basicsize = sizeof(Units),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = Units_new,
    .tp_dealloc = (destructor)Units_dealloc,
};

typedef struct {
    unsigned char *data;
    Py_ssize_t len;
} Opened;

typedef struct {
    Opened *items;
    Py_ssize_t n, cap;
} OpenedList;

static int opened_push(OpenedList *list, unsigned char *data, Py_ssize_t len) {
    if (list->n == list->cap) {
        Py_ssize_t cap = list->cap ? 2 * list->cap : 32;
        Opened *grown = realloc(list->items, (size_t)cap * sizeof *grown);
        if (grown == NULL) return -1;
        list->items = grown;
        list->cap = cap;
    }
    list->items[list->n++] = (Opened){data, len};
    return 0;
}

static void opened_free(OpenedList *list) {
    for (Py_ssize_t i = 0; i < list->n; i++) {
        explicit_bzero(list->items[i].data, (size_t)list->items[i].len);  /* not optimised away */
        free(list->items[i].data);
    }
    free(list->items);
}

enum { OK = 0, FAIL_SQL, FAIL_AES, FAIL_AUTH, FAIL_MEMORY, FAIL_PLACE };

typedef struct {
    Units *units;
    PyObject *keys;
    long long count;
    const char *place;
    Py_ssize_t place_len;
} Month;

/* Everything without the interpreter lock: PRF, lookup and opening per month. */
static int read_months(Month *months, Py_ssize_t n, const char *dataset, Py_ssize_t dataset_len,
                       const unsigned char *block, OpenedList *out, char *sql_error,
                       size_t sql_error_len) {
    for (Py_ssize_t i = 0; i < n; i++) {
        Month *m = &months[i];
        uint64_t number;
        if (aes->prf(m->keys, block, &number) != 0) return FAIL_AES;
        long long bucket = (long long)(number % (uint64_t)m->count);
        PyThread_acquire_lock(m->units->lock, WAIT_LOCK);
        sqlite3_stmt *st = m->units->read;
        int status = OK, rc;
        if (sqlite3_bind_text(st, 1, dataset, (int)dataset_len, SQLITE_STATIC) != SQLITE_OK
            || sqlite3_bind_int64(st, 2, bucket) != SQLITE_OK) {
            status = FAIL_SQL;
        }
        while (status == OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
            long long segment = sqlite3_column_int64(st, 0);
            const unsigned char *sealed = sqlite3_column_blob(st, 1);
            Py_ssize_t sealed_len = sqlite3_column_bytes(st, 1);
            char aad[512];
            if (m->place_len > (Py_ssize_t)sizeof aad - 48) {
                status = FAIL_PLACE;
                break;
            }
            memcpy(aad, m->place, (size_t)m->place_len);
            int tail = snprintf(aad + m->place_len, sizeof aad - (size_t)m->place_len,
                                "%lld%c%lld", bucket, '\0', segment);
            Py_ssize_t plain_len = sealed_len - MK_NONCE_BYTES - MK_TAG_BYTES;
            if (sealed == NULL || plain_len < 0) {
                status = FAIL_AUTH;
                break;
            }
            unsigned char *plain = malloc(plain_len > 0 ? (size_t)plain_len : 1);
            if (plain == NULL) {
                status = FAIL_MEMORY;
                break;
            }
            int opened = aes->open(m->keys, sealed, sealed_len, (const unsigned char *)aad,
                                   m->place_len + tail, plain);
            if (opened != 1 || opened_push(out, plain, plain_len) != 0) {
                free(plain);
                status = opened == 0 ? FAIL_AUTH : opened < 0 ? FAIL_AES : FAIL_MEMORY;
            }
        }
        if (status == OK && rc != SQLITE_DONE) status = FAIL_SQL;
        if (status == FAIL_SQL) {
            snprintf(sql_error, sql_error_len, "%s", sqlite3_errmsg(m->units->db));
        }
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        PyThread_release_lock(m->units->lock);
        if (status != OK) return status;
    }
    return OK;
}

static PyObject *units_read(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *units_arg, *keys_arg, *counts_arg, *places_arg;
    const char *dataset;
    Py_ssize_t dataset_len;
    Py_buffer message;
    if (!PyArg_ParseTuple(args, "OOOOs#y*", &units_arg, &keys_arg, &counts_arg, &places_arg,
                          &dataset, &dataset_len, &message)) {
        return NULL;
    }
    /* Tuples: they hold every item for the whole call, whatever the caller's lists do. */
    PyObject *units = PySequence_Tuple(units_arg);
    PyObject *keys = units ? PySequence_Tuple(keys_arg) : NULL;
    PyObject *counts = keys ? PySequence_Tuple(counts_arg) : NULL;
    PyObject *places = counts ? PySequence_Tuple(places_arg) : NULL;
    PyObject *result = NULL;
    Month *months = NULL;
    OpenedList out = {NULL, 0, 0};
    if (places == NULL) goto done;
    Py_ssize_t n = PyTuple_GET_SIZE(units);
    if (PyTuple_GET_SIZE(keys) != n || PyTuple_GET_SIZE(counts) != n
        || PyTuple_GET_SIZE(places) != n) {
        PyErr_SetString(PyExc_ValueError, "one key, bucket count and place per month");
        goto done;
    }
    if (message.len != MK_PRF_BLOCK) {
        PyErr_SetString(PyExc_ValueError, "the PRF message is one 16-byte block");
        goto done;
    }
    months = PyMem_Calloc(n ? (size_t)n : 1, sizeof *months);
    if (months == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *u = PyTuple_GET_ITEM(units, i), *k = PyTuple_GET_ITEM(keys, i);
        PyObject *p = PyTuple_GET_ITEM(places, i);
        if (!PyObject_TypeCheck(u, &UnitsType) || !PyObject_TypeCheck(k, aes->read_keys_type)
            || !PyBytes_Check(p)) {
            PyErr_SetString(PyExc_TypeError, "Units, ReadKeys and bytes expected");
            goto done;
        }
        long long count = PyLong_AsLongLong(PyTuple_GET_ITEM(counts, i));
        if (count == -1 && PyErr_Occurred()) goto done;
        if (count <= 0) {
            PyErr_SetString(PyExc_ValueError, "a bucket count is positive");
            goto done;
        }
        months[i] = (Month){(Units *)u, k, count, PyBytes_AS_STRING(p), PyBytes_GET_SIZE(p)};
    }
    char sql_error[256] = "";
    int status;
    Py_BEGIN_ALLOW_THREADS
    status = read_months(months, n, dataset, dataset_len, message.buf, &out, sql_error,
                         sizeof sql_error);
    Py_END_ALLOW_THREADS
    switch (status) {
    case OK:
        break;
    case FAIL_AUTH:
        PyErr_SetString(RejectedError, "sealed data failed authentication");
        goto done;
    case FAIL_SQL:
        PyErr_Format(PyExc_OSError, "serving file: %s", sql_error);
        goto done;
    case FAIL_PLACE:
        PyErr_SetString(PyExc_ValueError, "a place is at most 460 bytes");
        goto done;
    case FAIL_MEMORY:
        PyErr_NoMemory();
        goto done;
    default:
        PyErr_SetString(PyExc_RuntimeError, "AES failed");
        goto done;
    }
    result = PyList_New(out.n);
    for (Py_ssize_t i = 0; result != NULL && i < out.n; i++) {
        PyObject *payload = PyBytes_FromStringAndSize((const char *)out.items[i].data,
                                                      out.items[i].len);
        if (payload == NULL) {
            Py_CLEAR(result);
            break;
        }
        PyList_SET_ITEM(result, i, payload);
    }
done:
    opened_free(&out);
    PyMem_Free(months);
    Py_XDECREF(places);
    Py_XDECREF(counts);
    Py_XDECREF(keys);
    Py_XDECREF(units);
    PyBuffer_Release(&message);
    return result;
}

static PyMethodDef methods[] = {
    {"read", units_read, METH_VARARGS,
     "read(units, keys, counts, places, dataset, message) -> list[bytes]: a connection's "
     "opened serving units across months (see the file's comment)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_units", "A connection's serving units across months, one call.",
    -1, methods,
};

PyMODINIT_FUNC PyInit__units(void) {
    if (aes == NULL) {
        aes = PyCapsule_Import(MK_AES_CAPSULE, 0);
        if (aes == NULL) return NULL;
    }
    if (PyType_Ready(&UnitsType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    if (RejectedError == NULL) {
        RejectedError = PyErr_NewException("meterkast.readings._units.RejectedError", PyExc_ValueError,
                                      NULL);
        if (RejectedError == NULL) goto fail;
    }
    Py_INCREF(RejectedError);
    if (PyModule_AddObject(m, "RejectedError", RejectedError) < 0) {
        Py_DECREF(RejectedError);
        goto fail;
    }
    Py_INCREF(&UnitsType);
    if (PyModule_AddObject(m, "Units", (PyObject *)&UnitsType) < 0) {
        Py_DECREF(&UnitsType);
        goto fail;
    }
    return m;
fail:
    Py_DECREF(m);
    return NULL;
}
