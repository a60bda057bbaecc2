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

/// The write-ahead log as a connection sees it after its last commit: `frames` is how many
/// frames the log holds (those of earlier processes included); `limit` is where the connection
/// checkpoints by itself, as SQLite's `wal_autocheckpoint` does (0: never).
typedef struct {
    int frames;
    int limit;
} pipe_wal_watch;

/// Replaces SQLite's automatic checkpoint (`wal_autocheckpoint`, itself a WAL hook) with one
/// that also keeps the log's frame count in `*watch` after every commit, so that the caller can
/// checkpoint when it suits it (`pipe run`: while its first call is in flight, not in the
/// commit of its start or its end, which the run waits for). `watch` must outlive the
/// connection, and is only touched by the thread that commits.
void pipe_sqlite_watch_wal(sqlite3 *db, pipe_wal_watch *watch);

/// A passive checkpoint of the main database (never waits for readers or writers); an SQLite
/// result code.
int pipe_sqlite_checkpoint(sqlite3 *db);

/// 1 when the table of applied migrations (GRDB's `grdb_migrations`) holds `count` rows, `last`
/// among them; 0 otherwise (fewer or more, or no such table).
int pipe_sqlite_migrated(sqlite3 *db, int count, const char *last);

#endif
