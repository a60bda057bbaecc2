/// A run store: the run catalog and the approvals, as the commands and `RunLifecycle` use it.
public typealias RunStorage = RunCatalog & RunApprovals

/// Where run stores are opened: the one place that knows which implementation a location
/// names: a file path is an embedded SQLite store (`RunStore`); a `postgres://` or
/// `postgresql://` URL is PostgreSQL (`PostgresRunStore`, its tables created if missing).
public enum RunStores {
    /// Opens the store at `location`. With `create`, a missing store is created (its folder
    /// too); without, a missing one is `StoreError.missing`. With `recording` (`pipe run`: one
    /// run, then the process ends), a store file queues its writes' first-time work before
    /// anything else (`RunStore.warmUp`) and stays open until the process exits
    /// (`RunStore.keepOpenUntilExit`).
    public static func open(_ location: String, create: Bool, recording: Bool = false) async throws(StoreError) -> any RunStorage {
        if PostgresURL.isURL(location) { return PostgresRunStore(client: try await PostgresClient.open(url: location)) }
        if !create, !RunStore.exists(location) { throw .missing(location) }
        // Opening a file is blocking work (the file system, SQLite): on a thread of its own, so
        // that a command can compile its spec and read its input meanwhile.
        return try await onOwnThread {
            Result { () throws(StoreError) in
                let store = try RunStore(path: location)
                if recording {
                    store.warmUp()
                    store.keepOpenUntilExit()
                }
                return store
            }
        }.get()
    }

    /// Whether a store file is at `location` (false for a server's URL): opening it creates
    /// nothing.
    public static func exists(_ location: String) -> Bool {
        !PostgresURL.isURL(location) && RunStore.exists(location)
    }
}
