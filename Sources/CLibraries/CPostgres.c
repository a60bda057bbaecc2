#include "CPostgres.h"
#include "Loading.h"
#include <pthread.h>

struct pipe_pq_functions pipe_pq_library;

#define PIPE_PQ_SYMBOL(name) {#name, (void **)&pipe_pq_library.name},
static const struct pipe_symbol symbols[] = {PIPE_PQ_FUNCTIONS(PIPE_PQ_SYMBOL)};

static struct pipe_library pq = {
#ifdef __APPLE__
    .file = "libpq.5.dylib",
#else
    .file = "libpq.so.5",
#endif
    .name = "libpq",
    .purpose = "which a PostgreSQL queue needs",
    .package = "libpq5",
    .version = "libpq 14 or later",
    .symbols = symbols,
    .count = sizeof symbols / sizeof *symbols,
};
static const char *loadError;
static void load(void) { loadError = pipe_open_library(&pq); }

const char *pipe_pq_load(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, load);
    return loadError;
}
