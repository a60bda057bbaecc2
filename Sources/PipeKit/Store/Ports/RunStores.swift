/// A run store: the run catalog and the approvals, as the commands and `RunLifecycle` use it.
public typealias RunStorage = RunCatalog & RunApprovals

/// Where run stores are opened: the one place that knows which implementation a location
/// names: a file path is an embedded SQLite store (`RunStore`); a `postgres://` or
/// `postgresql://` URL is PostgreSQL (`PostgresRunStore`, its tables created if missing).
public enum RunStores {
    /// Opens the store at `location`. With `create`, a missing store is created (its folder
    /// too); without, a missing one is `StoreError.missing`. With `recording` (`pipe run`: one
    /// run, then the process ends), see `opening`.
    public static func open(_ location: String, create: Bool, recording: Bool = false) async throws(StoreError) -> any RunStorage {
        try await opening(location, create: create, recording: recording).value.get()
    }

    /// `open`, started now and awaited later: a store file is opened on a thread of its own
    /// (the file system, SQLite: blocking work), so that a command compiles its spec and reads
    /// its input meanwhile. With `recording`, that thread also does the first-time work of a
    /// run's writes and checks that the store can be written (`RunStore.warmUp`), and the store
    /// stays open until the process exits (`RunStore.keepOpenUntilExit`).
    public static func opening(_ location: String, create: Bool, recording: Bool = false)
        -> Eventually<Result<any RunStorage, StoreError>>
    {
        if PostgresURL.isURL(location) {
            return .inTask {
                do throws(StoreError) {
                    return .success(PostgresRunStore(client: try await PostgresClient.open(url: location)))
                } catch {
                    return .failure(error)
                }
            }
        }
        if !create, !RunStore.exists(location) { return .ready(.failure(.missing(location))) }
        return .onOwnThread {
            Result { () throws(StoreError) -> any RunStorage in
                if recording { lowerThisThreadsPriority() }
                let store = try RunStore(path: location, recording: recording)
                if recording {
                    try store.warmUp()
                    store.keepOpenUntilExit()
                }
                return store
            }
        }
    }

    /// Whether a store file is at `location` (false for a server's URL): opening it creates
    /// nothing.
    public static func exists(_ location: String) -> Bool {
        !PostgresURL.isURL(location) && RunStore.exists(location)
    }
}
