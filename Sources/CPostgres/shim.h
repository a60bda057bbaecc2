#ifndef PIPE_CPOSTGRES_SHIM_H
#define PIPE_CPOSTGRES_SHIM_H
#include <libpq-fe.h>
#endif
