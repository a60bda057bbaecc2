/// Why the run store could not do what was asked, in words a user can act on.
public enum StoreError: Error, Sendable, CustomStringConvertible {
    /// There is no store at this location (and none was to be created).
    case missing(String)
    /// The store's folder or file could not be created.
    case cannotCreate(path: String, reason: String)
    /// SQLite refused to open the file (not a database, locked for too long, no permission).
    case cannotOpen(path: String, reason: String)
    /// A read or a write failed.
    case database(path: String, reason: String)
    /// Another live process is running (or resuming, or approving) the run.
    case runInUse(runID: String, holder: RunHolder)
    /// A run's lock file could not be made or taken.
    case lease(path: String, reason: String)
    /// A run id prefix that matches more than one run.
    case ambiguousRunID(String, candidates: [String])

    public var description: String {
        switch self {
        case .missing(let path): "no run store at \(path)"
        case .cannotCreate(let path, let reason): "cannot create the run store \(path): \(reason)"
        case .cannotOpen(let path, let reason): "cannot open the run store \(path): \(reason)"
        case .database(let path, let reason): "run store \(path): \(reason)"
        case .runInUse(let id, let holder):
            "run \(id) is still running in \(holder); wait for it to end"
                + (holder.pid.map { ", or stop it (kill \($0)) and try again" } ?? "")
        case .lease(let path, let reason): "cannot lock \(path): \(reason)"
        case .ambiguousRunID(let text, let candidates):
            "run id `\(text)` matches \(candidates.count) runs (\(candidates.prefix(5).joined(separator: ", "))"
                + (candidates.count > 5 ? ", ..." : "") + "); give more of it"
        }
    }
}
