/// The port for a run's journal as a store keeps it: `RunJournal` (what the runner calls),
/// with records written behind the run. `record` hands a record over and returns at once;
/// the store writes the records in the order they were handed over, and a read
/// (`reusableOutput`, `cachedReply`) sees every record handed over before it. A write that
/// fails does not stop the run: `flush` reports the first failure.
public protocol DurableJournal: RunJournal {
    /// Waits until every record handed over so far is written; returns the first write or
    /// read of this journal that failed, if any. `RunLifecycle.finish` records the run's end
    /// behind the records (written in order: committed with them or after) and then calls it,
    /// so that a run ends (normally, on Ctrl-C or SIGTERM, or when its output cannot be
    /// written) with all its records in the store.
    func flush() async -> StoreError?
}
