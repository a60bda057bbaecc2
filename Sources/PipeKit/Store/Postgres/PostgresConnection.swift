import CLibraries
import Foundation

/// A failure PostgreSQL or libpq reported, with the server's SQLSTATE code when it sent one.
/// It stays inside the PostgreSQL layer: `PostgresClient` turns it into a `StoreError`.
struct PostgresError: Error, Sendable {
    var sqlState: String?
    var message: String

    init(sqlState: String? = nil, _ message: String) {
        self.sqlState = sqlState
        self.message = message
    }
}

/// A value sent as a query parameter, in PostgreSQL's text format; nil is SQL NULL.
protocol PostgresParameter: Sendable {
    var postgresText: String? { get }
}

extension String: PostgresParameter {
    var postgresText: String? { self }
}

extension Int: PostgresParameter {
    var postgresText: String? { String(self) }
}

extension Double: PostgresParameter {
    /// Swift's shortest round-tripping form, which PostgreSQL's float8 reads back exactly.
    var postgresText: String? { "\(self)" }
}

extension Bool: PostgresParameter {
    var postgresText: String? { self ? "true" : "false" }
}

extension Optional: PostgresParameter where Wrapped: PostgresParameter {
    var postgresText: String? { self?.postgresText ?? nil }
}

/// An `int[]` parameter (`item = ANY($1::int[])`).
struct PostgresIntArray: PostgresParameter {
    var values: [Int]
    var postgresText: String? { "{" + values.map(String.init).joined(separator: ",") + "}" }
}

/// One row of a result, its values in text format (nil for NULL), read by column name.
struct PostgresRow {
    let columns: [String: Int]
    let values: [String?]

    subscript(_ column: String) -> String? {
        columns[column].flatMap { values[$0] }
    }

    func int(_ column: String) -> Int? { self[column].flatMap { Int($0) } }
    func double(_ column: String) -> Double? { self[column].flatMap { Double($0) } }
    func bool(_ column: String) -> Bool? { self[column].map { $0 == "t" } }
}

/// A statement and its parameters, one of a group sent together.
struct PostgresStatement: Sendable {
    var sql: String
    var parameters: [any PostgresParameter]
    /// For one row of an insert (`row(into:_:)`): the insert's head (`INSERT INTO t (a, b) VALUES`),
    /// so that the rows of one group into one table can be sent as one statement.
    private(set) var insertHead: String?

    init(_ sql: String, _ parameters: [any PostgresParameter] = []) {
        self.sql = sql
        self.parameters = parameters
    }

    /// One row inserted by `head` (`INSERT INTO t (a, b) VALUES`, without `RETURNING` or
    /// `ON CONFLICT`): its value is one inserted row and nothing else, so it may be sent together
    /// with other rows of the same head (`PostgresClient`'s groups: `rows(_:)`).
    static func row(into head: String, _ parameters: [any PostgresParameter]) -> PostgresStatement {
        var statement = PostgresStatement(head + " " + values(rows: 1, columns: parameters.count), parameters)
        statement.insertHead = head
        return statement
    }

    /// The rows of several `row(into:_:)` statements of one head (and as many parameters), as one
    /// statement that inserts them in order.
    static func rows(_ rows: [PostgresStatement]) -> PostgresStatement {
        let columns = rows[0].parameters.count
        return PostgresStatement(
            (rows[0].insertHead ?? "") + " " + values(rows: rows.count, columns: columns), rows.flatMap(\.parameters))
    }

    /// `($1, $2), ($3, $4)` for 2 rows of 2 columns.
    private static func values(rows: Int, columns: Int) -> String {
        (0..<rows).map { row in
            "(" + (1...columns).map { "$\(row * columns + $0)" }.joined(separator: ", ") + ")"
        }.joined(separator: ", ")
    }
}

/// What a statement returned: its rows, and how many it inserted, updated or deleted.
struct PostgresResult: Sendable {
    var rows: [PostgresRow]
    var affected: Int
}

/// One libpq connection. It blocks on every call, so it lives on one thread of a
/// `PostgresClient` and is only ever used there.
final class PostgresConnection {
    private let handle: OpaquePointer
    /// Statements prepared on this connection (parsed once, planned from a cached plan
    /// thereafter), by SQL text; each under a name never used before on it.
    private var prepared: [String: String] = [:]
    private var preparedSoFar = 0
    /// At most this many statements are prepared, each at most `preparedLength` long: pipe's
    /// few statements that run again and again, not the long ones built for one use
    /// (`enqueue`'s rows).
    static let preparedLimit = 64
    static let preparedLength = 4000

    /// Connects with a URL or a libpq connection string.
    init(_ conninfo: String) throws(PostgresError) {
        if let failure = pipe_pq_load() { throw PostgresError(String(cString: failure)) }
        guard let handle = pipe_PQconnectdb(conninfo) else { throw PostgresError("libpq could not allocate a connection") }
        guard pipe_PQstatus(handle) == CONNECTION_OK else {
            let message = Self.text(pipe_PQerrorMessage(handle))
            pipe_PQfinish(handle)
            throw PostgresError(message)
        }
        // libpq prints the server's notices ("table already exists, skipping") on stderr by default.
        pipe_PQsetNoticeProcessor(handle, { _, _ in }, nil)
        self.handle = handle
    }

    deinit { pipe_PQfinish(handle) }

    /// The server went away (restarted, or the network dropped): the connection must be made again.
    var isBroken: Bool { pipe_PQstatus(handle) != CONNECTION_OK }

    /// Runs one statement with `$1, $2, ...` parameters and returns its rows.
    @discardableResult
    func query(_ sql: String, _ parameters: [any PostgresParameter] = []) throws(PostgresError) -> [PostgresRow] {
        try result(sql, parameters).rows
    }

    /// Runs one statement and returns how many rows it inserted, updated or deleted.
    @discardableResult
    func execute(_ sql: String, _ parameters: [any PostgresParameter] = []) throws(PostgresError) -> Int {
        try result(sql, parameters).affected
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    func transaction<T>(_ body: () throws(PostgresError) -> T) throws(PostgresError) -> T {
        try execute("BEGIN")
        do throws(PostgresError) {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            _ = try? execute("ROLLBACK")
            throw error
        }
    }

    /// Runs the statements in one transaction, sent together in libpq's pipeline mode: one
    /// round trip for all of them (and one commit). The first failure is thrown, and the
    /// transaction rolled back.
    func transaction(sendingTogether statements: [PostgresStatement]) throws(PostgresError) -> [PostgresResult] {
        guard pipe_PQenterPipelineMode(handle) == 1 else { throw PostgresError(Self.text(pipe_PQerrorMessage(handle))) }
        let sent = [PostgresStatement("BEGIN")] + statements + [PostgresStatement("COMMIT")]
        var results: [PostgresResult] = []
        var failure: PostgresError?
        // The statements prepared in this round trip (by their position): kept once their
        // preparation succeeded.
        var preparing: [Int: (sql: String, name: String)] = [:]
        for (position, statement) in sent.enumerated() {
            var name = prepared[statement.sql]
            if name == nil, let new = nameForPreparing(statement) {
                guard pipe_PQsendPrepare(handle, new, statement.sql, Int32(statement.parameters.count), nil) == 1 else {
                    failure = PostgresError(Self.text(pipe_PQerrorMessage(handle)))
                    break
                }
                preparing[position] = (statement.sql, new)
                name = new
            }
            let queued = Self.withValues(statement.parameters) { count, values in
                if let name { pipe_PQsendQueryPrepared(handle, name, count, values, nil, nil, 0) == 1 }
                else { pipe_PQsendQueryParams(handle, statement.sql, count, nil, values, nil, nil, 0) == 1 }
            }
            if !queued {
                failure = PostgresError(Self.text(pipe_PQerrorMessage(handle)))
                break
            }
        }
        if failure == nil, pipe_PQpipelineSync(handle) != 1 { failure = PostgresError(Self.text(pipe_PQerrorMessage(handle))) }
        if failure == nil {
            // Each statement's result (after its preparation's, if prepared now), then the nil
            // that ends it; the sync's result last.
            for position in sent.indices {
                if let preparation = preparing[position] {
                    guard let result = pipe_PQgetResult(handle) else {
                        failure = failure ?? PostgresError(Self.text(pipe_PQerrorMessage(handle)))
                        break
                    }
                    if pipe_PQresultStatus(result) == PGRES_COMMAND_OK { prepared[preparation.sql] = preparation.name }
                    pipe_PQclear(result)
                    while let extra = pipe_PQgetResult(handle) { pipe_PQclear(extra) }
                }
                guard let result = pipe_PQgetResult(handle) else {
                    failure = failure ?? PostgresError(Self.text(pipe_PQerrorMessage(handle)))
                    break
                }
                do throws(PostgresError) {
                    if pipe_PQresultStatus(result) != PGRES_PIPELINE_ABORTED { results.append(try Self.read(result)) }
                } catch {
                    failure = failure ?? error
                }
                pipe_PQclear(result)
                while let extra = pipe_PQgetResult(handle) { pipe_PQclear(extra) }
            }
            if let sync = pipe_PQgetResult(handle) { pipe_PQclear(sync) }
        }
        while pipe_PQexitPipelineMode(handle) != 1 {
            guard let extra = pipe_PQgetResult(handle) else { break }
            pipe_PQclear(extra)
        }
        if let failure {
            if pipe_PQtransactionStatus(handle) != PQTRANS_IDLE { _ = try? execute("ROLLBACK") }
            throw failure
        }
        // Those of BEGIN and COMMIT are not the caller's.
        return Array(results.dropFirst().dropLast())
    }

    /// A new name for preparing `statement`, if it is one to prepare (it has parameters, it
    /// is not long, and there is room).
    private func nameForPreparing(_ statement: PostgresStatement) -> String? {
        guard !statement.parameters.isEmpty, statement.sql.utf8.count <= Self.preparedLength,
            prepared.count < Self.preparedLimit
        else { return nil }
        preparedSoFar += 1
        return "pipe_\(preparedSoFar)"
    }

    /// Runs one statement: its rows and count. A statement to prepare is prepared first (one
    /// round trip more, the first time on this connection).
    func result(_ sql: String, _ parameters: [any PostgresParameter]) throws(PostgresError) -> PostgresResult {
        var name = prepared[sql]
        if name == nil, let new = nameForPreparing(PostgresStatement(sql, parameters)),
            let preparation = pipe_PQprepare(handle, new, sql, Int32(parameters.count), nil)
        {
            defer { pipe_PQclear(preparation) }
            // A statement that cannot be prepared could not run either: its error (not the
            // transaction's abort that running it would report).
            _ = try Self.read(preparation)
            prepared[sql] = new
            name = new
        }
        let result = Self.withValues(parameters) { count, values in
            if let name { pipe_PQexecPrepared(handle, name, count, values, nil, nil, 0) }
            else { pipe_PQexecParams(handle, sql, count, nil, values, nil, nil, 0) }
        }
        guard let result else { throw PostgresError(Self.text(pipe_PQerrorMessage(handle))) }
        defer { pipe_PQclear(result) }
        return try Self.read(result)
    }

    /// The parameters as libpq takes them (C strings, NULL for SQL NULL), for the time of `body`.
    private static func withValues<T>(
        _ parameters: [any PostgresParameter], _ body: (Int32, UnsafePointer<UnsafePointer<CChar>?>?) -> T
    ) -> T {
        let values: [UnsafeMutablePointer<CChar>?] = parameters.map { $0.postgresText.map { strdup($0) } ?? nil }
        defer { values.forEach { free($0) } }
        return values.map { UnsafePointer($0) }.withUnsafeBufferPointer { body(Int32($0.count), $0.baseAddress) }
    }

    /// A statement's result: its rows and count, or its error.
    private static func read(_ result: OpaquePointer) throws(PostgresError) -> PostgresResult {
        switch pipe_PQresultStatus(result) {
        case PGRES_COMMAND_OK:
            return PostgresResult(rows: [], affected: affected(result))
        case PGRES_TUPLES_OK:
            return PostgresResult(rows: rows(result), affected: affected(result))
        default:
            let state = pipe_PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            let primary = pipe_PQresultErrorField(result, Int32(UInt8(ascii: "M"))).map { String(cString: $0) }
            throw PostgresError(sqlState: state, primary ?? text(pipe_PQresultErrorMessage(result)))
        }
    }

    /// How many rows the statement inserted, updated or deleted: libpq's digits (none for other commands).
    private static func affected(_ result: OpaquePointer) -> Int {
        guard let digits = pipe_PQcmdTuples(result) else { return 0 }
        return strtol(digits, nil, 10)
    }

    private static func rows(_ result: OpaquePointer) -> [PostgresRow] {
        let fieldCount = pipe_PQnfields(result)
        var columns: [String: Int] = [:]
        for field in 0..<fieldCount {
            columns[String(cString: pipe_PQfname(result, field))] = Int(field)
        }
        return (0..<pipe_PQntuples(result)).map { row in
            PostgresRow(
                columns: columns,
                values: (0..<fieldCount).map { field in
                    pipe_PQgetisnull(result, row, field) == 1 ? nil : String(cString: pipe_PQgetvalue(result, row, field))
                })
        }
    }

    /// libpq's messages end with a newline and may span lines: one line, trimmed.
    private static func text(_ message: UnsafePointer<CChar>?) -> String {
        guard let message else { return "" }
        return String(cString: message).split(whereSeparator: \.isNewline)
            .map(\.trimmingSpaces).filter { !$0.isEmpty }.joined(separator: "; ")
    }
}
