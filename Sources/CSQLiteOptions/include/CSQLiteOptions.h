#ifndef PIPE_CSQLITE_OPTIONS_H
#define PIPE_CSQLITE_OPTIONS_H

#include <sqlite3.h>

/// Closing the connection leaves the write-ahead log as it is, without the checkpoint (and
/// the fsyncs) SQLite does when the last connection to a database closes; SQLite still
/// checkpoints as it writes, every `wal_autocheckpoint` pages. `sqlite3_db_config` is
/// variadic, which Swift cannot call. Returns an SQLite result code.
int pipe_sqlite_no_checkpoint_on_close(sqlite3 *db);

/// The run store's connection settings, made in C because in a new process every first use of
/// a Swift generic path (a statement, a fetched value, a file's attributes) pays for the
/// runtime's type lookups: no checkpoint on close, a 256 KB page cache, `synchronous=NORMAL`
/// and WAL mode. Sets `*wal` to whether the database is in WAL mode now; returns an SQLite
/// result code (`SQLITE_BUSY` while another process creates the file).
int pipe_sqlite_set_up_store(sqlite3 *db, int *wal);

#endif
