/// A run store: the run catalog and the approvals, as the commands and `RunLifecycle` use it.
public typealias RunStorage = RunCatalog & RunApprovals

/// Where run stores are opened: the one place that knows which implementation a location
/// names. Today every location is a file path, an embedded SQLite store (`RunStore`); a
/// server's URL will open its own implementation of the same ports here.
public enum RunStores {
    /// Opens the store at `location`. With `create`, a missing store is created (its folder
    /// too); without, a missing one is `StoreError.missing`.
    public static func open(_ location: String, create: Bool) async throws(StoreError) -> any RunStorage {
        if !create, !RunStore.exists(location) { throw .missing(location) }
        return try RunStore(path: location)
    }
}
