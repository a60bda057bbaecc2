#ifndef PIPE_LOADING_H
#define PIPE_LOADING_H
#include <stddef.h>

/* One function a table needs: its name in the library, and the table's slot for it. */
struct pipe_symbol {
    const char *name;
    void **slot;
};

/* A library opened where first needed: its file, the functions to find in it, and what to say
   when it cannot be used (its name, what pipe needs it for, the Debian package that has it). */
struct pipe_library {
    const char *file;      /* "libcurl.so.4" */
    const char *name;      /* "libcurl" */
    const char *purpose;   /* "which pipe calls models with" */
    const char *package;   /* "libcurl4" */
    const char *version;   /* "libcurl 7.x or 8.x", for a library that lacks a function */
    const struct pipe_symbol *symbols;
    size_t count;
    /* What the first call of pipe_open_library decided; zero until then. */
    int opened;
    const char *error;
    char failure[512];
};

/* Opens `library->file` and fills every slot, the first time it is called for that library (on
   any thread; later calls return what the first decided): NULL, or the failure, naming the
   library and its package. */
const char *pipe_open_library(struct pipe_library *library);
#endif
