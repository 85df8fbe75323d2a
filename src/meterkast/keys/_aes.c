/* AES for reads across many month keys: the PRF and AES-GCM opening, one item per key.

   A 24-month history read evaluates the bucket PRF under 25 month keys and opens about 25
   sealed units, each under its own key. Through the Python AES bindings every item is a
   separate call costing a few microseconds of interpreter work (per read more than the
   decryption itself); here one call does all items, through OpenSSL's EVP interface (this
   file implements no cipher), with the interpreter lock released while the items are
   processed. The results equal those of DerivedKeys.prf_one and DerivedKeys.open
   (tests hold them to it): the PRF is AES-256 on one zero-padded block, the first eight
   bytes of the output read little-endian and shifted right by two; a sealed item is a
   12-byte nonce, the ciphertext and a 16-byte tag.

   Keys arrive as bytes objects from DerivedKeys (which holds them anyway); nothing here
   keeps a key beyond the call, and a failed opening leaves no plaintext behind. */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <openssl/evp.h>
#include <openssl/crypto.h>
#include <stdint.h>
#include <string.h>

#include "_aes_api.h"

#define KEY_BYTES 32
#define BLOCK 16
#define NONCE_BYTES 12
#define TAG_BYTES 16

static EVP_CIPHER *ecb;  /* fetched once: an implicit fetch per use costs a provider lookup */
static EVP_CIPHER *gcm;
static PyObject *RejectedError;  /* _aes.RejectedError: an item failed authentication */

/* The key of item i as a 32-byte buffer (borrowed from a bytes object). */
static int key_at(PyObject *keys, Py_ssize_t i, const unsigned char **key) {
    PyObject *item = PySequence_Fast_GET_ITEM(keys, i);
    if (!PyBytes_Check(item) || PyBytes_GET_SIZE(item) != KEY_BYTES) {
        PyErr_SetString(PyExc_ValueError, "a key is 32 bytes");
        return -1;
    }
    *key = (const unsigned char *)PyBytes_AS_STRING(item);
    return 0;
}

/* The PRF of one zero-padded block under one key, on a context the caller owns: AES-256 of
   the block, the first eight bytes read little-endian, shifted right by two. 0, or -1 if
   OpenSSL failed. Needs no interpreter lock. */
static int prf_one(EVP_CIPHER_CTX *ctx, const unsigned char *key, const unsigned char *block,
                   uint64_t *number) {
    unsigned char result[2 * BLOCK];
    int length = 0;
    int ok = EVP_EncryptInit_ex2(ctx, ecb, key, NULL, NULL) == 1
             && EVP_CIPHER_CTX_set_padding(ctx, 0) == 1
             && EVP_EncryptUpdate(ctx, result, &length, block, BLOCK) == 1 && length == BLOCK;
    if (ok) {
        uint64_t word = 0;
        for (int b = 7; b >= 0; b--) word = (word << 8) | result[b];
        *number = word >> 2;
    }
    OPENSSL_cleanse(result, sizeof result);
    return ok ? 0 : -1;
}

static PyObject *prf_each(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *keys_arg;
    Py_buffer message;
    if (!PyArg_ParseTuple(args, "Oy*", &keys_arg, &message)) return NULL;
    PyObject *keys = PySequence_Fast(keys_arg, "keys must be a sequence");
    PyObject *out = NULL;
    uint64_t *words = NULL;
    EVP_CIPHER_CTX *ctx = NULL;
    if (keys == NULL) goto done;
    if (message.len > BLOCK) {
        PyErr_SetString(PyExc_ValueError, "a PRF message is at most 16 bytes");
        goto done;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(keys);
    const unsigned char **key = PyMem_Calloc(n ? n : 1, sizeof *key);
    words = PyMem_Calloc(n ? n : 1, sizeof *words);
    if (key == NULL || words == NULL) {
        PyMem_Free(key);
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (key_at(keys, i, &key[i]) < 0) {
            PyMem_Free(key);
            goto done;
        }
    }
    unsigned char block[BLOCK] = {0};
    memcpy(block, message.buf, (size_t)message.len);
    int ok = 1;
    Py_BEGIN_ALLOW_THREADS
    ctx = EVP_CIPHER_CTX_new();
    ok = ctx != NULL;
    for (Py_ssize_t i = 0; ok && i < n; i++) ok = prf_one(ctx, key[i], block, &words[i]) == 0;
    Py_END_ALLOW_THREADS
    PyMem_Free(key);
    if (!ok) {
        PyErr_SetString(PyExc_RuntimeError, "AES failed");
        goto done;
    }
    out = PyList_New(n);
    for (Py_ssize_t i = 0; out != NULL && i < n; i++) {
        PyObject *number = PyLong_FromUnsignedLongLong(words[i]);
        if (number == NULL) {
            Py_CLEAR(out);
            break;
        }
        PyList_SET_ITEM(out, i, number);
    }
done:
    EVP_CIPHER_CTX_free(ctx);
    PyMem_Free(words);
    Py_XDECREF(keys);
    PyBuffer_Release(&message);
    return out;
}

typedef struct {
    const unsigned char *key;
    const unsigned char *sealed;
    Py_ssize_t sealed_len;
    const unsigned char *aad;
    Py_ssize_t aad_len;
    unsigned char *plain;  /* the output bytes object's storage */
} Item;

/* Opens every item or none: -1 with the index of the first that failed authentication. */
static Py_ssize_t open_items(Item *items, Py_ssize_t n, int *failed_setup) {
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL) {
        *failed_setup = 1;
        return 0;
    }
    Py_ssize_t bad = -1;
    for (Py_ssize_t i = 0; i < n; i++) {
        Item *it = &items[i];
        Py_ssize_t body = it->sealed_len - NONCE_BYTES - TAG_BYTES;
        int length = 0, final = 0;
        int ok = EVP_DecryptInit_ex2(ctx, gcm, it->key, it->sealed, NULL) == 1;
        if (ok && it->aad_len > 0) {
            ok = it->aad_len <= INT32_MAX
                 && EVP_DecryptUpdate(ctx, NULL, &length, it->aad, (int)it->aad_len) == 1;
        }
        if (ok && body > 0) {
            ok = body <= INT32_MAX
                 && EVP_DecryptUpdate(ctx, it->plain, &length, it->sealed + NONCE_BYTES,
                                      (int)body) == 1;
        }
        ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TAG_BYTES,
                                       (void *)(it->sealed + it->sealed_len - TAG_BYTES)) == 1;
        ok = ok && EVP_DecryptFinal_ex(ctx, it->plain + (body > 0 ? body : 0), &final) == 1;
        if (!ok) {
            bad = i;
            break;
        }
    }
    EVP_CIPHER_CTX_free(ctx);
    if (bad >= 0) {  /* nothing of an unauthenticated batch is kept */
        for (Py_ssize_t i = 0; i <= bad; i++) {
            Py_ssize_t body = items[i].sealed_len - NONCE_BYTES - TAG_BYTES;
            if (body > 0) OPENSSL_cleanse(items[i].plain, (size_t)body);
        }
    }
    return bad;
}

static PyObject *open_each(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *keys_arg, *sealed_arg, *aad_arg;
    if (!PyArg_ParseTuple(args, "OOO", &keys_arg, &sealed_arg, &aad_arg)) return NULL;
    PyObject *keys = PySequence_Fast(keys_arg, "keys must be a sequence");
    PyObject *sealed = keys ? PySequence_Fast(sealed_arg, "sealed must be a sequence") : NULL;
    PyObject *aad = sealed ? PySequence_Fast(aad_arg, "associated must be a sequence") : NULL;
    PyObject *out = NULL;
    Item *items = NULL;
    if (aad == NULL) goto done;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(keys);
    if (PySequence_Fast_GET_SIZE(sealed) != n || PySequence_Fast_GET_SIZE(aad) != n) {
        PyErr_SetString(PyExc_ValueError, "one key and one associated data item per item");
        goto done;
    }
    items = PyMem_Calloc(n ? n : 1, sizeof *items);
    out = PyList_New(n);
    if (items == NULL || out == NULL) {
        if (items == NULL) PyErr_NoMemory();
        goto fail;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *s = PySequence_Fast_GET_ITEM(sealed, i);
        PyObject *a = PySequence_Fast_GET_ITEM(aad, i);
        if (!PyBytes_Check(s) || !PyBytes_Check(a)) {
            PyErr_SetString(PyExc_TypeError, "sealed items and associated data are bytes");
            goto fail;
        }
        Item *it = &items[i];
        if (key_at(keys, i, &it->key) < 0) goto fail;
        it->sealed = (const unsigned char *)PyBytes_AS_STRING(s);
        it->sealed_len = PyBytes_GET_SIZE(s);
        it->aad = (const unsigned char *)PyBytes_AS_STRING(a);
        it->aad_len = PyBytes_GET_SIZE(a);
        Py_ssize_t body = it->sealed_len - NONCE_BYTES - TAG_BYTES;
        PyObject *plain = PyBytes_FromStringAndSize(NULL, body > 0 ? body : 0);
        if (plain == NULL) goto fail;
        PyList_SET_ITEM(out, i, plain);
        it->plain = (unsigned char *)PyBytes_AS_STRING(plain);
        if (body < 0) {  /* too short to hold a nonce and a tag: it cannot authenticate */
            PyErr_SetString(RejectedError, "sealed data failed authentication");
            goto fail;
        }
    }
    int failed_setup = 0;
    Py_ssize_t bad;
    Py_BEGIN_ALLOW_THREADS
    bad = open_items(items, n, &failed_setup);
    Py_END_ALLOW_THREADS
    if (failed_setup) {
        PyErr_SetString(PyExc_RuntimeError, "AES failed");
        goto fail;
    }
    if (bad >= 0) {
        PyErr_SetString(RejectedError, "sealed data failed authentication");
        goto fail;
    }
    goto done;
fail:
    Py_CLEAR(out);
done:
    PyMem_Free(items);
    Py_XDECREF(aad);
    Py_XDECREF(sealed);
    Py_XDECREF(keys);
    return out;
}

/* ReadKeys: a month's PRF and sealing keys for the compiled serving read (see _aes_api.h).
   Holds copies of the two derived keys, cleared when the object goes; no repr of them, no
   pickling (a C type without reduce support refuses). */
typedef struct {
    PyObject_HEAD
    unsigned char prf[KEY_BYTES];
    unsigned char aead[KEY_BYTES];
} ReadKeys;

static PyObject *ReadKeys_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
    static char *names[] = {"prf_key", "aead_key", NULL};
    Py_buffer prf, aead;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "y*y*", names, &prf, &aead)) return NULL;
    ReadKeys *self = NULL;
    if (prf.len != KEY_BYTES || aead.len != KEY_BYTES) {
        PyErr_SetString(PyExc_ValueError, "a key is 32 bytes");
    } else if ((self = (ReadKeys *)type->tp_alloc(type, 0)) != NULL) {
        memcpy(self->prf, prf.buf, KEY_BYTES);
        memcpy(self->aead, aead.buf, KEY_BYTES);
    }
    PyBuffer_Release(&prf);
    PyBuffer_Release(&aead);
    return (PyObject *)self;
}

static void ReadKeys_dealloc(ReadKeys *self) {
    OPENSSL_cleanse(self->prf, KEY_BYTES);
    OPENSSL_cleanse(self->aead, KEY_BYTES);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *ReadKeys_repr(PyObject *self) {
    (void)self;
    return PyUnicode_FromString("ReadKeys()");
}

static PyTypeObject ReadKeysType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "meterkast.keys._aes.ReadKeys",
    .tp_doc = "ReadKeys(prf_key, aead_key): a month's read keys for the compiled serving read.",
    .tp_basicsize = sizeof(ReadKeys),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = ReadKeys_new,
    .tp_dealloc = (destructor)ReadKeys_dealloc,
    .tp_repr = ReadKeys_repr,
};

static int api_prf(PyObject *keys, const unsigned char block[MK_PRF_BLOCK], uint64_t *number) {
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int status = ctx == NULL ? -1 : prf_one(ctx, ((ReadKeys *)keys)->prf, block, number);
    EVP_CIPHER_CTX_free(ctx);
    return status;
}

static int api_open(PyObject *keys, const unsigned char *sealed, Py_ssize_t sealed_len,
                    const unsigned char *aad, Py_ssize_t aad_len, unsigned char *plain) {
    if (sealed_len < NONCE_BYTES + TAG_BYTES) return 0;
    ReadKeys *k = (ReadKeys *)keys;
    Item item = {k->aead, sealed, sealed_len, aad, aad_len, plain};
    int failed_setup = 0;
    Py_ssize_t bad = open_items(&item, 1, &failed_setup);
    if (failed_setup) return -1;
    return bad < 0 ? 1 : 0;
}

static MkAesApi api = {&ReadKeysType, api_prf, api_open};

static PyMethodDef methods[] = {
    {"prf_each", prf_each, METH_VARARGS,
     "prf_each(keys, message) -> list[int]: the 62-bit PRF of message under each 32-byte key."},
    {"open_each", open_each, METH_VARARGS,
     "open_each(keys, sealed, associated) -> list[bytes]: every item opened under its key, "
     "or RejectedError if any fails authentication."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_aes", "AES across many keys, one call (OpenSSL EVP).", -1,
    methods,
};

PyMODINIT_FUNC PyInit__aes(void) {
    if (ecb == NULL) ecb = EVP_CIPHER_fetch(NULL, "AES-256-ECB", NULL);
    if (gcm == NULL) gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    if (ecb == NULL || gcm == NULL) {
        PyErr_SetString(PyExc_ImportError, "OpenSSL offers no AES-256-ECB or AES-256-GCM");
        return NULL;
    }
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    if (RejectedError == NULL) {
        RejectedError = PyErr_NewException("meterkast.keys._aes.RejectedError", PyExc_ValueError, NULL);
        if (RejectedError == NULL) {
            Py_DECREF(m);
            return NULL;
        }
    }
    Py_INCREF(RejectedError);
    if (PyModule_AddObject(m, "RejectedError", RejectedError) < 0) {
        Py_DECREF(RejectedError);
        Py_DECREF(m);
        return NULL;
    }
    if (PyType_Ready(&ReadKeysType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&ReadKeysType);
    if (PyModule_AddObject(m, "ReadKeys", (PyObject *)&ReadKeysType) < 0) {
        Py_DECREF(&ReadKeysType);
        Py_DECREF(m);
        return NULL;
    }
    PyObject *capsule = PyCapsule_New(&api, MK_AES_CAPSULE, NULL);
    if (capsule == NULL || PyModule_AddObject(m, "_C_API", capsule) < 0) {
        Py_XDECREF(capsule);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
