/* What keys/_aes.c offers other compiled kernels (through the capsule
   "meterkast.keys._aes._C_API"): a month's derived read keys as an opaque object, and the
   two operations a read needs, callable without the interpreter lock. The key bytes never
   leave keys/_aes.c. */
#ifndef METERKAST_AES_API_H
#define METERKAST_AES_API_H

#include <Python.h>
#include <stdint.h>

#define MK_AES_CAPSULE "meterkast.keys._aes._C_API"
#define MK_PRF_BLOCK 16
#define MK_NONCE_BYTES 12
#define MK_TAG_BYTES 16

typedef struct {
    PyTypeObject *read_keys_type;  /* instances: meterkast.keys._aes.ReadKeys */
    /* AES-256 of one zero-padded block under the PRF key: the first eight bytes read
       little-endian, shifted right by two. 0, or -1 if OpenSSL failed. */
    int (*prf)(PyObject *keys, const unsigned char block[MK_PRF_BLOCK], uint64_t *number);
    /* AES-256-GCM opening of nonce || ciphertext || tag into plain (sealed_len - 28 bytes):
       1 opened, 0 failed authentication (plain cleared), -1 OpenSSL failed. */
    int (*open)(PyObject *keys, const unsigned char *sealed, Py_ssize_t sealed_len,
                const unsigned char *aad, Py_ssize_t aad_len, unsigned char *plain);
} MkAesApi;

#endif
