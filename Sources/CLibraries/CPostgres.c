#include "CPostgres.h"
#include "Loading.h"

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

const char *pipe_pq_load(void) { return pipe_open_library(&pq); }
