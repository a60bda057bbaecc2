#include "CSQLiteOptions.h"
#include <string.h>

int pipe_sqlite_no_checkpoint_on_close(sqlite3 *db) {
#ifdef SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE
    return sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, (int *)0);
#else
    (void)db;
    return SQLITE_OK;
#endif
}

int pipe_sqlite_set_up_store(sqlite3 *db, int *wal) {
    *wal = 0;
    int code = pipe_sqlite_no_checkpoint_on_close(db);
    if (code != SQLITE_OK) return code;
    code = sqlite3_exec(db, "PRAGMA cache_size = -256; PRAGMA synchronous = NORMAL", 0, 0, 0);
    if (code != SQLITE_OK) return code;
    sqlite3_stmt *statement = 0;
    code = sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &statement, 0);
    if (code != SQLITE_OK) return code;
    code = sqlite3_step(statement);
    if (code == SQLITE_ROW) {
        const unsigned char *mode = sqlite3_column_text(statement, 0);
        *wal = mode != 0 && strcmp((const char *)mode, "wal") == 0;
        code = SQLITE_OK;
    }
    int finalized = sqlite3_finalize(statement);
    return code == SQLITE_OK ? finalized : code;
}

static int pipe_wal_hook(void *argument, sqlite3 *db, const char *name, int frames) {
    pipe_wal_watch *watch = argument;
    watch->frames = frames;
    if (watch->limit > 0 && frames >= watch->limit) {
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, 0, 0);
    }
    return SQLITE_OK;
}

void pipe_sqlite_watch_wal(sqlite3 *db, pipe_wal_watch *watch) {
    sqlite3_wal_hook(db, pipe_wal_hook, watch);
}

int pipe_sqlite_checkpoint(sqlite3 *db) {
    return sqlite3_wal_checkpoint_v2(db, 0, SQLITE_CHECKPOINT_PASSIVE, 0, 0);
}

int pipe_sqlite_migrated(sqlite3 *db, int count, const char *last) {
    sqlite3_stmt *statement = 0;
    if (sqlite3_prepare_v2(db, "SELECT count(*), coalesce(sum(identifier = ?), 0) FROM grdb_migrations", -1, &statement, 0) != SQLITE_OK) {
        sqlite3_finalize(statement);
        return 0;
    }
    int migrated = 0;
    if (sqlite3_bind_text(statement, 1, last, -1, SQLITE_TRANSIENT) == SQLITE_OK && sqlite3_step(statement) == SQLITE_ROW) {
        migrated = sqlite3_column_int(statement, 0) == count && sqlite3_column_int(statement, 1) == 1;
    }
    sqlite3_finalize(statement);
    return migrated;
}
