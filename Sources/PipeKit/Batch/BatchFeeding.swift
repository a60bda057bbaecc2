/// A batch whose items are still being enqueued while it runs (`pipe batch` reads its input
/// beside the items already running): a `BatchRunner` claim that finds no item waits for the
/// next chunk, or for the input's end, instead of ending the run as drained.
public final class BatchFeeding: Sendable {
    private struct State {
        /// Chunks enqueued so far.
        var chunks = 0
        var ended = false
        var waiters: [Int: CheckedContinuation<Bool, Never>] = [:]
        var nextWaiter = 0
    }

    private let state = Locked(State())

    public init() {}

    /// How many chunks were enqueued so far: read before a claim, given to `more(after:)`
    /// when the claim found nothing.
    public var chunks: Int { state.withLock { $0.chunks } }

    /// A chunk of items was enqueued (committed): claims may find them.
    public func added() {
        resumeAll(with: true) { $0.chunks += 1 }
    }

    /// No item will be enqueued any more (the input was read to its end, or its reading
    /// stopped). Called once the feeding is over, however it ended.
    public func ended() {
        resumeAll(with: false) { $0.ended = true }
    }

    /// Whether the feeding is over.
    public var hasEnded: Bool { state.withLock { $0.ended } }

    /// Waits until a chunk after the first `seen` was enqueued (true: claim again) or the
    /// feeding ended without one (false). False at once when the task is cancelled.
    public func more(after seen: Int) async -> Bool {
        let waiter = state.withLock { state -> Int? in
            if state.chunks > seen || state.ended { return nil }
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        guard let waiter else { return state.withLock { $0.chunks > seen } }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ready = state.withLock { state -> Bool? in
                    if Task.isCancelled { return false }
                    if state.chunks > seen { return true }
                    if state.ended { return false }
                    state.waiters[waiter] = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: waiter) }?.resume(returning: false)
        }
    }

    private func resumeAll(with value: Bool, _ change: (inout State) -> Void) {
        let waiters = state.withLock { state in
            change(&state)
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: value) }
    }
}
