import CSQLiteOptions
import GRDB

/// A value bound to a statement's parameter by `Database.run(_:_:)`: straight to SQLite, as
/// GRDB binds it (text as UTF-8, a `Bool` as 0 or 1, nil as NULL), without building
/// `StatementArguments` of boxed values first. The store's writes of every batch item (a
/// run's start and end, its call and stage, the item's claim and finish) go this way: GRDB's
/// arguments and their nested temporary bindings cost more than SQLite's insert itself.
protocol SQLParameter {
    /// Binds the value to parameter `index` (1-based); an SQLite result code.
    func bind(to statement: OpaquePointer, at index: Int32) -> Int32
}

/// SQLite copies the bytes before the bind returns.
private let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

extension String: SQLParameter {
    func bind(to statement: OpaquePointer, at index: Int32) -> Int32 {
        var text = self
        return text.withUTF8 { bytes in
            guard let base = bytes.baseAddress, bytes.count > 0 else { return sqlite3_bind_text(statement, index, "", 0, transient) }
            return base.withMemoryRebound(to: CChar.self, capacity: bytes.count) { sqlite3_bind_text(statement, index, $0, Int32(bytes.count), transient) }
        }
    }
}

extension Int: SQLParameter {
    func bind(to statement: OpaquePointer, at index: Int32) -> Int32 { sqlite3_bind_int64(statement, index, Int64(self)) }
}

extension Double: SQLParameter {
    func bind(to statement: OpaquePointer, at index: Int32) -> Int32 { sqlite3_bind_double(statement, index, self) }
}

extension Bool: SQLParameter {
    func bind(to statement: OpaquePointer, at index: Int32) -> Int32 { sqlite3_bind_int64(statement, index, self ? 1 : 0) }
}

extension Optional: SQLParameter where Wrapped: SQLParameter {
    func bind(to statement: OpaquePointer, at index: Int32) -> Int32 {
        switch self {
        case .some(let value): value.bind(to: statement, at: index)
        case .none: sqlite3_bind_null(statement, index)
        }
    }
}

extension Database {
    /// Runs the statement `sql` (prepared once per connection, as `cachedStatement`) with
    /// `parameters` bound in order, to its end; throws a `DatabaseError` as GRDB's
    /// `execute(arguments:)` would. For writes: rows it returns are stepped over.
    func run<each P: SQLParameter>(_ sql: String, _ parameters: repeat each P) throws {
        let statement = try cachedStatement(sql: sql)
        let handle = statement.sqliteStatement
        sqlite3_reset(handle)
        var index: Int32 = 0
        var code = SQLITE_OK
        for parameter in repeat each parameters {
            index += 1
            if code == SQLITE_OK { code = parameter.bind(to: handle, at: index) }
        }
        if code == SQLITE_OK, index != sqlite3_bind_parameter_count(handle) {
            sqlite3_clear_bindings(handle)
            throw DatabaseError(
                resultCode: .SQLITE_MISUSE, message: "\(index) arguments for \(sqlite3_bind_parameter_count(handle)) parameters", sql: sql)
        }
        if code == SQLITE_OK {
            repeat { code = sqlite3_step(handle) } while code == SQLITE_ROW
        }
        let message = code == SQLITE_DONE ? nil : String(cString: sqlite3_errmsg(sqliteConnection))
        // Ready for its next use, whatever happened (a failed step leaves its error for
        // `sqlite3_reset` to return, which GRDB's next use of the statement would throw). Its
        // bindings are cleared only after a failure: each use binds every parameter (checked
        // above), and clearing them after every write cost 2K instructions a statement.
        sqlite3_reset(handle)
        if let message {
            sqlite3_clear_bindings(handle)
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: sql)
        }
    }
}
