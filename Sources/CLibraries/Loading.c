#include "Loading.h"
#include <dlfcn.h>
#include <stdio.h>

const char *pipe_open_library(struct pipe_library *library) {
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
