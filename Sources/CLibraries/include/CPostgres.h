#ifndef PIPE_CPOSTGRES_H
#define PIPE_CPOSTGRES_H
#if __has_include(<libpq-fe.h>)
#include <libpq-fe.h>
#else
#include <postgresql/libpq-fe.h>
#endif

/* Opens libpq (the first call, on any thread): NULL once it is loaded, else what went wrong,
   naming the library and its package. */
const char *pipe_pq_load(void);

/* The functions pipe calls, by their names in libpq (and the table's fields). */
#define PIPE_PQ_FUNCTIONS(X) \
    X(PQclear) \
    X(PQcmdTuples) \
    X(PQconnectdb) \
    X(PQconninfoFree) \
    X(PQconninfoParse) \
    X(PQenterPipelineMode) \
    X(PQerrorMessage) \
    X(PQexecParams) \
    X(PQexecPrepared) \
    X(PQexitPipelineMode) \
    X(PQfinish) \
    X(PQfname) \
    X(PQfreemem) \
    X(PQgetResult) \
    X(PQgetisnull) \
    X(PQgetvalue) \
    X(PQnfields) \
    X(PQntuples) \
    X(PQpipelineSync) \
    X(PQprepare) \
    X(PQresultErrorField) \
    X(PQresultErrorMessage) \
    X(PQresultStatus) \
    X(PQsendPrepare) \
    X(PQsendQueryParams) \
    X(PQsendQueryPrepared) \
    X(PQsetNoticeProcessor) \
    X(PQstatus) \
    X(PQtransactionStatus)

struct pipe_pq_functions {
#define PIPE_PQ_FIELD(name) __typeof__(name) *name;
    PIPE_PQ_FUNCTIONS(PIPE_PQ_FIELD)
#undef PIPE_PQ_FIELD
};
/* Filled by pipe_pq_load; read only after it returned NULL. */
extern struct pipe_pq_functions pipe_pq_library;

static inline void pipe_PQclear(PGresult *res) { pipe_pq_library.PQclear(res); }
static inline char *pipe_PQcmdTuples(PGresult *res) { return pipe_pq_library.PQcmdTuples(res); }
static inline PGconn *pipe_PQconnectdb(const char *conninfo) { return pipe_pq_library.PQconnectdb(conninfo); }
static inline void pipe_PQconninfoFree(PQconninfoOption *connOptions) { pipe_pq_library.PQconninfoFree(connOptions); }
static inline PQconninfoOption *pipe_PQconninfoParse(const char *conninfo, char **errmsg) { return pipe_pq_library.PQconninfoParse(conninfo, errmsg); }
static inline int pipe_PQenterPipelineMode(PGconn *conn) { return pipe_pq_library.PQenterPipelineMode(conn); }
static inline char *pipe_PQerrorMessage(const PGconn *conn) { return pipe_pq_library.PQerrorMessage(conn); }
static inline PGresult *pipe_PQexecParams(PGconn *conn, const char *command, int nParams, const Oid *paramTypes, const char *const *paramValues, const int *paramLengths, const int *paramFormats, int resultFormat) { return pipe_pq_library.PQexecParams(conn, command, nParams, paramTypes, paramValues, paramLengths, paramFormats, resultFormat); }
static inline PGresult *pipe_PQexecPrepared(PGconn *conn, const char *stmtName, int nParams, const char *const *paramValues, const int *paramLengths, const int *paramFormats, int resultFormat) { return pipe_pq_library.PQexecPrepared(conn, stmtName, nParams, paramValues, paramLengths, paramFormats, resultFormat); }
static inline int pipe_PQexitPipelineMode(PGconn *conn) { return pipe_pq_library.PQexitPipelineMode(conn); }
static inline void pipe_PQfinish(PGconn *conn) { pipe_pq_library.PQfinish(conn); }
static inline char *pipe_PQfname(const PGresult *res, int field_num) { return pipe_pq_library.PQfname(res, field_num); }
static inline void pipe_PQfreemem(void *ptr) { pipe_pq_library.PQfreemem(ptr); }
static inline PGresult *pipe_PQgetResult(PGconn *conn) { return pipe_pq_library.PQgetResult(conn); }
static inline int pipe_PQgetisnull(const PGresult *res, int tup_num, int field_num) { return pipe_pq_library.PQgetisnull(res, tup_num, field_num); }
static inline char *pipe_PQgetvalue(const PGresult *res, int tup_num, int field_num) { return pipe_pq_library.PQgetvalue(res, tup_num, field_num); }
static inline int pipe_PQnfields(const PGresult *res) { return pipe_pq_library.PQnfields(res); }
static inline int pipe_PQntuples(const PGresult *res) { return pipe_pq_library.PQntuples(res); }
static inline int pipe_PQpipelineSync(PGconn *conn) { return pipe_pq_library.PQpipelineSync(conn); }
static inline PGresult *pipe_PQprepare(PGconn *conn, const char *stmtName, const char *query, int nParams, const Oid *paramTypes) { return pipe_pq_library.PQprepare(conn, stmtName, query, nParams, paramTypes); }
static inline char *pipe_PQresultErrorField(const PGresult *res, int fieldcode) { return pipe_pq_library.PQresultErrorField(res, fieldcode); }
static inline char *pipe_PQresultErrorMessage(const PGresult *res) { return pipe_pq_library.PQresultErrorMessage(res); }
static inline ExecStatusType pipe_PQresultStatus(const PGresult *res) { return pipe_pq_library.PQresultStatus(res); }
static inline int pipe_PQsendPrepare(PGconn *conn, const char *stmtName, const char *query, int nParams, const Oid *paramTypes) { return pipe_pq_library.PQsendPrepare(conn, stmtName, query, nParams, paramTypes); }
static inline int pipe_PQsendQueryParams(PGconn *conn, const char *command, int nParams, const Oid *paramTypes, const char *const *paramValues, const int *paramLengths, const int *paramFormats, int resultFormat) { return pipe_pq_library.PQsendQueryParams(conn, command, nParams, paramTypes, paramValues, paramLengths, paramFormats, resultFormat); }
static inline int pipe_PQsendQueryPrepared(PGconn *conn, const char *stmtName, int nParams, const char *const *paramValues, const int *paramLengths, const int *paramFormats, int resultFormat) { return pipe_pq_library.PQsendQueryPrepared(conn, stmtName, nParams, paramValues, paramLengths, paramFormats, resultFormat); }
static inline PQnoticeProcessor pipe_PQsetNoticeProcessor(PGconn *conn, PQnoticeProcessor proc, void *arg) { return pipe_pq_library.PQsetNoticeProcessor(conn, proc, arg); }
static inline ConnStatusType pipe_PQstatus(const PGconn *conn) { return pipe_pq_library.PQstatus(conn); }
static inline PGTransactionStatusType pipe_PQtransactionStatus(const PGconn *conn) { return pipe_pq_library.PQtransactionStatus(conn); }
#endif
