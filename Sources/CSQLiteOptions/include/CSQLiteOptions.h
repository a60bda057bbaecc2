#ifndef PIPE_CSQLITE_OPTIONS_H
#define PIPE_CSQLITE_OPTIONS_H

#include <sqlite3.h>

/// Closing the connection leaves the write-ahead log as it is, without the checkpoint (and
/// the fsyncs) SQLite does when the last connection to a database closes; SQLite still
/// checkpoints as it writes, every `wal_autocheckpoint` pages. `sqlite3_db_config` is
/// variadic, which Swift cannot call. Returns an SQLite result code.
int pipe_sqlite_no_checkpoint_on_close(sqlite3 *db);

#endif
