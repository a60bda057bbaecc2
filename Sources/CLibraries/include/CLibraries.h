#ifndef PIPE_CLIBRARIES_H
#define PIPE_CLIBRARIES_H
/* libcurl, libpq and libcrypto, opened where pipe first needs them, not when it starts
   (dlopen): with the libraries they bring they were most of what the dynamic loader did at
   every start, and `pipe lint`, `pipe logs` or a `--mock` run without a store never use
   them. Swift calls each only through the pipe_ functions of its header, which call through
   a table its load fills; the real names are never linked, so a call that bypasses the table
   does not build. */
#include "CCrypto.h"
#include "CCurl.h"
#include "CPostgres.h"
#endif
