/// A journal's records handed to its store and not yet committed, and who waits for them
/// all (`DurableJournal.flush`): a flush with nothing pending returns at once, without a trip
/// through the store's queue. Keeps the first write that failed.
final class PendingWrites: Sendable {
    private struct State {
        var count = 0
        var waiting: [CheckedContinuation<Void, Never>] = []
        var error: StoreError?
    }

    private let state = Locked(State())

    /// A record is handed over: call `done` once it is committed (or failed).
    func add() {
        state.withLock { $0.count += 1 }
    }

    /// A record handed over is committed, or failed with `failure` (the first one is kept).
    func done(_ failure: StoreError?) {
        let waiting = state.withLock { state in
            state.count -= 1
            if state.error == nil { state.error = failure }
            guard state.count == 0 else { return [CheckedContinuation<Void, Never>]() }
            defer { state.waiting = [] }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }

    /// Keeps `failure` if it is the first (a read that failed).
    func keep(_ failure: StoreError) {
        state.withLock { $0.error = $0.error ?? failure }
    }

    /// The first write or read that failed, if any.
    var firstError: StoreError? { state.withLock { $0.error } }

    /// Waits until every record handed over is committed; the first failure, if any.
    func flush() async -> StoreError? {
        await withCheckedContinuation { continuation in
            let written = state.withLock { state in
                if state.count == 0 { return true }
                state.waiting.append(continuation)
                return false
            }
            if written { continuation.resume() }
        }
        return firstError
    }
}
