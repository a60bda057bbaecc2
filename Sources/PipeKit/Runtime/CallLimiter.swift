/// The run-wide `--concurrency`: at most `limit` stages or `for_each` items calling their
/// models at once, however the pipeline fans out. Waiters are served in order of arrival.
///
/// Only the runs of single stages and items hold a permit (a `for_each` stage or a loop
/// holds none while its items or iterations wait for theirs), so no holder ever waits
/// for another permit.
public final class CallLimiter: Sendable {
    private struct State {
        var available: Int
        var waiters: [(id: Int, continuation: CheckedContinuation<Bool, Never>)] = []
        var nextID = 0
    }

    private let state: Locked<State>

    public init(limit: Int) {
        state = Locked(State(available: max(1, limit)))
    }

    /// A unit's run (`executor.run(context)`) holding a permit. A task cancelled while it
    /// waits runs without one: a cancelled stage makes no call, it only reports that it was
    /// cancelled. Its frame is held while the unit waits for its call: `acquire` is not
    /// inlined into it.
    @inline(never)
    func run(_ context: StageContext) async -> (StageOutcome, StageReport) {
        let granted = await acquire()
        defer { if granted { release() } }
        return await context.executor.run(context)
    }

    /// Waits for a permit; false when the task was cancelled first.
    @inline(never)
    private func acquire() async -> Bool {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                // Under the lock: the cancellation handler either runs before (and the task
                // is cancelled already) or finds this waiter.
                let granted: Bool? = state.withLock { state in
                    if Task.isCancelled { return false }
                    if state.available > 0 {
                        state.available -= 1
                        return true
                    }
                    state.waiters.append((id, continuation))
                    return nil
                }
                if let granted { continuation.resume(returning: granted) }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                state.waiters.firstIndex { $0.id == id }.map { state.waiters.remove(at: $0).continuation }
            }
            waiter?.resume(returning: false)
        }
    }

    /// Hands the permit to the first waiter, or returns it.
    private func release() {
        let next = state.withLock { state in
            if state.waiters.isEmpty {
                state.available += 1
                return nil as CheckedContinuation<Bool, Never>?
            }
            return state.waiters.removeFirst().continuation
        }
        next?.resume(returning: true)
    }
}
