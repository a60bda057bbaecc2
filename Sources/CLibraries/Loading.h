#ifndef PIPE_LOADING_H
#define PIPE_LOADING_H
#include <stddef.h>

/* One function a table needs: its name in the library, and the table's slot for it. */
struct pipe_symbol {
    const char *name;
    void **slot;
};

/* What one library's first load decided: NULL once every symbol is in its slot, else what went
   wrong, naming the library and the package that has it. */
struct pipe_library {
    const char *file;      /* "libcurl.so.4" */
    const char *name;      /* "libcurl" */
    const char *purpose;   /* "which pipe calls models with" */
    const char *package;   /* "libcurl4" */
    const char *version;   /* "libcurl 7.x or 8.x", for a library that lacks a function */
    const struct pipe_symbol *symbols;
    size_t count;
    char failure[512];
};

/* Opens `library->file` and fills every slot; NULL, or the failure. Not thread-safe: callers
   run it once (pthread_once). */
const char *pipe_open_library(struct pipe_library *library);
#endif
