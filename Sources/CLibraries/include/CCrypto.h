#ifndef PIPE_CCRYPTO_H
#define PIPE_CCRYPTO_H
#include <openssl/crypto.h>
#include <openssl/evp.h>

/* Opens libcrypto (the first call, on any thread): NULL once it is loaded, else what went
   wrong, naming the library and its package. */
const char *pipe_crypto_load(void);

/* The functions pipe calls, by their names in libcrypto (and the table's fields). */
#define PIPE_CRYPTO_FUNCTIONS(X) \
    X(OPENSSL_init_crypto) \
    X(EVP_MD_fetch) \
    X(EVP_MD_CTX_new) \
    X(EVP_MD_CTX_copy_ex) \
    X(EVP_MD_CTX_free) \
    X(EVP_DigestInit_ex2) \
    X(EVP_DigestUpdate) \
    X(EVP_DigestFinal_ex)

struct pipe_crypto_functions {
#define PIPE_CRYPTO_FIELD(name) __typeof__(name) *name;
    PIPE_CRYPTO_FUNCTIONS(PIPE_CRYPTO_FIELD)
#undef PIPE_CRYPTO_FIELD
};
/* Filled by pipe_crypto_load; read only after it returned NULL. */
extern struct pipe_crypto_functions pipe_crypto_library;

static inline int pipe_OPENSSL_init_crypto(uint64_t opts, const OPENSSL_INIT_SETTINGS *settings) { return pipe_crypto_library.OPENSSL_init_crypto(opts, settings); }
static inline EVP_MD *pipe_EVP_MD_fetch(OSSL_LIB_CTX *ctx, const char *algorithm, const char *properties) { return pipe_crypto_library.EVP_MD_fetch(ctx, algorithm, properties); }
static inline EVP_MD_CTX *pipe_EVP_MD_CTX_new(void) { return pipe_crypto_library.EVP_MD_CTX_new(); }
static inline int pipe_EVP_MD_CTX_copy_ex(EVP_MD_CTX *out, const EVP_MD_CTX *in) { return pipe_crypto_library.EVP_MD_CTX_copy_ex(out, in); }
static inline void pipe_EVP_MD_CTX_free(EVP_MD_CTX *ctx) { pipe_crypto_library.EVP_MD_CTX_free(ctx); }
static inline int pipe_EVP_DigestInit_ex2(EVP_MD_CTX *ctx, const EVP_MD *type, const OSSL_PARAM params[]) { return pipe_crypto_library.EVP_DigestInit_ex2(ctx, type, params); }
static inline int pipe_EVP_DigestUpdate(EVP_MD_CTX *ctx, const void *d, size_t cnt) { return pipe_crypto_library.EVP_DigestUpdate(ctx, d, cnt); }
static inline int pipe_EVP_DigestFinal_ex(EVP_MD_CTX *ctx, unsigned char *md, unsigned int *s) { return pipe_crypto_library.EVP_DigestFinal_ex(ctx, md, s); }
#endif
