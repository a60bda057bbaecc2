/// A run store: the run catalog and the approvals, as the commands and `RunLifecycle` use it.
public typealias RunStorage = RunCatalog & RunApprovals

/// Where run stores are opened: the one place that knows which implementation a location
/// names: a file path is an embedded SQLite store (`RunStore`); a `postgres://` or
/// `postgresql://` URL is PostgreSQL (`PostgresRunStore`, its tables created if missing).
public enum RunStores {
    /// Opens the store at `location`. With `create`, a missing store is created (its folder
    /// too); without, a missing one is `StoreError.missing`.
    public static func open(_ location: String, create: Bool) async throws(StoreError) -> any RunStorage {
        if PostgresURL.isURL(location) { return PostgresRunStore(client: try await PostgresClient.open(url: location)) }
        if !create, !RunStore.exists(location) { throw .missing(location) }
        return try RunStore(path: location)
    }
}
