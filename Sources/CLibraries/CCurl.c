#include "CCurl.h"
#include "Loading.h"

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

const char *pipe_curl_load(void) { return pipe_open_library(&curl); }
