import CLibraries
import Foundation

/// A PostgreSQL URL as `--queue` takes it: `postgres://USER@HOST:PORT/DB`, or
/// `postgres://USER@/DB?host=/socket/dir` for a unix socket. libpq reads it as given (also
/// its other parameters, and `PGPASSWORD` or `~/.pgpass` for a password); pipe only checks
/// its form and keeps a version without the password to name the database in messages.
struct PostgresURL: Sendable {
    /// The URL as given, for libpq only: it may hold a password.
    let conninfo: String
    /// `postgres://USER@HOST:PORT/DB`, never with the password.
    let location: String
    /// The password written in the URL, removed from any message that could echo it.
    private let password: String?

    static let form = "postgres://USER@HOST:PORT/DB, or postgres://USER@/DB?host=/socket/dir"

    /// Whether `location` names PostgreSQL (rather than a file).
    static func isURL(_ location: String) -> Bool {
        location.hasPrefix("postgres://") || location.hasPrefix("postgresql://")
    }

    init(_ url: String) throws(StoreError) {
        // libpq's parser also takes `key=value` strings; pipe takes URLs only. Its message
        // on a malformed URL may quote the URL, password included: it is not passed on.
        let invalid = StoreError.cannotOpen(path: "the queue URL", reason: "not a PostgreSQL URL (\(Self.form))")
        guard Self.isURL(url) else { throw invalid }
        if let failure = pipe_pq_load() { throw StoreError.cannotOpen(path: "the queue URL", reason: String(cString: failure)) }
        var error: UnsafeMutablePointer<CChar>?
        guard let options = pipe_PQconninfoParse(url, &error) else {
            pipe_PQfreemem(error)
            throw invalid
        }
        defer { pipe_PQconninfoFree(options) }
        var values: [String: String] = [:]
        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val { values[String(cString: keyword)] = String(cString: value) }
            option += 1
        }
        conninfo = url
        password = values["password"].flatMap { $0.isEmpty ? nil : $0 }
        let host = values["host"] ?? ""
        let user = values["user"].map { $0 + "@" } ?? ""
        let port = values["port"].map { ":" + $0 } ?? ""
        let database = "/" + (values["dbname"] ?? "")
        location = host.hasPrefix("/")
            ? "postgres://\(user)\(port)\(database)?host=\(host)"
            : "postgres://\(user)\(host)\(port)\(database)"
    }

    /// `message` with the URL's password, if it appears, replaced.
    func redacted(_ message: String) -> String {
        guard let password else { return message }
        return message.replacingOccurrences(of: password, with: "***")
    }
}
