#include "CCrypto.h"
#include "Loading.h"

struct pipe_crypto_functions pipe_crypto_library;

#define PIPE_CRYPTO_SYMBOL(name) {#name, (void **)&pipe_crypto_library.name},
static const struct pipe_symbol symbols[] = {PIPE_CRYPTO_FUNCTIONS(PIPE_CRYPTO_SYMBOL)};

static struct pipe_library crypto = {
#ifdef __APPLE__
    .file = "libcrypto.3.dylib",
#else
    .file = "libcrypto.so.3",
#endif
    .name = "libcrypto",
    .purpose = "which pipe hashes fingerprints with",
    .package = "libssl3",
    .version = "OpenSSL 3",
    .symbols = symbols,
    .count = sizeof symbols / sizeof *symbols,
};

const char *pipe_crypto_load(void) { return pipe_open_library(&crypto); }
