#include "Loading.h"
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

static const char *open_library(struct pipe_library *library) {
    void *handle = dlopen(library->file, RTLD_LAZY | RTLD_LOCAL);
    if (!handle) {
        snprintf(library->failure, sizeof library->failure, "cannot load %s (%s), %s: install it (Debian: apt-get install %s)",
                 library->name, dlerror(), library->purpose, library->package);
        return library->failure;
    }
    for (size_t i = 0; i < library->count; i++) {
        *library->symbols[i].slot = dlsym(handle, library->symbols[i].name);
        if (!*library->symbols[i].slot) {
            snprintf(library->failure, sizeof library->failure, "cannot use %s: it has no %s; pipe needs %s (Debian: apt-get install %s)",
                     library->file, library->symbols[i].name, library->version, library->package);
            return library->failure;
        }
    }
    return NULL;
}

/* One lock for every library: each is opened once in a process, so they hardly ever wait on
   each other. */
static pthread_mutex_t opening = PTHREAD_MUTEX_INITIALIZER;

const char *pipe_open_library(struct pipe_library *library) {
    pthread_mutex_lock(&opening);
    if (!library->opened) {
        library->error = open_library(library);
        library->opened = 1;
    }
    const char *error = library->error;
    pthread_mutex_unlock(&opening);
    return error;
}
