/// Why the run store could not do what was asked, in words a user can act on.
public enum StoreError: Error, Sendable, CustomStringConvertible {
    /// The store's folder or file could not be created.
    case cannotCreate(path: String, reason: String)
    /// SQLite refused to open the file (not a database, locked for too long, no permission).
    case cannotOpen(path: String, reason: String)
    /// A read or a write failed.
    case database(path: String, reason: String)
    /// A run id prefix that matches more than one run.
    case ambiguousRunID(String, candidates: [String])

    public var description: String {
        switch self {
        case .cannotCreate(let path, let reason): "cannot create the run store \(path): \(reason)"
        case .cannotOpen(let path, let reason): "cannot open the run store \(path): \(reason)"
        case .database(let path, let reason): "run store \(path): \(reason)"
        case .ambiguousRunID(let text, let candidates):
            "run id `\(text)` matches \(candidates.count) runs (\(candidates.prefix(5).joined(separator: ", "))"
                + (candidates.count > 5 ? ", ..." : "") + "); give more of it"
        }
    }
}
