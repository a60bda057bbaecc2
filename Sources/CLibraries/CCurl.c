#include "CCurl.h"
#include "Loading.h"
#include <pthread.h>

struct pipe_curl_functions pipe_curl_library;

#define PIPE_CURL_SYMBOL(field, symbol) {#symbol, (void **)&pipe_curl_library.field},
static const struct pipe_symbol symbols[] = {PIPE_CURL_FUNCTIONS(PIPE_CURL_SYMBOL)};

static struct pipe_library curl = {
#ifdef __APPLE__
    .file = "libcurl.4.dylib",
#else
    .file = "libcurl.so.4",
#endif
    .name = "libcurl",
    .purpose = "which pipe calls models with",
    .package = "libcurl4",
    .version = "libcurl 7.x or 8.x",
    .symbols = symbols,
    .count = sizeof symbols / sizeof *symbols,
};
static const char *loadError;
static void load(void) { loadError = pipe_open_library(&curl); }

const char *pipe_curl_load(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, load);
    return loadError;
}
