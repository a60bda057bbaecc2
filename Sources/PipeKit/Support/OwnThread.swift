import Foundation

/// Runs blocking work (waiting for a process, reading a pipe or a terminal) on a thread of
/// its own and awaits its result.
///
/// On Linux, Swift concurrency's global executor runs on Dispatch's global queues, whose pool
/// has as many threads as cores: work that blocks on `DispatchQueue.global()` or in a task
/// starves every other task of the process (two blocked threads stop everything on two cores).
public func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}

/// `onOwnThread` for work that cannot fail.
public func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread { continuation.resume(returning: work()) }.start()
    }
}

/// Starts `work` now on a thread of its own, without waiting for it: first-time work (making
/// a static value) that the process will need soon, done beside what it does meanwhile.
public func startOnOwnThread(_ work: @escaping @Sendable () -> Void) {
    Thread { work() }.start()
}

/// A value that some work makes later (on a thread of its own, `onOwnThread`), awaited by
/// whoever needs it, any number of times: blocking work that starts the moment it is asked
/// for, without waiting for Swift concurrency to schedule a task first (on a busy machine a
/// child task can start milliseconds late, `pipe run`'s store opening did).
public final class Eventually<Value: Sendable>: Sendable {
    private struct State {
        var value: Value?
        var waiting: [CheckedContinuation<Value, Never>] = []
        var then: [@Sendable (Value) -> Void] = []
    }

    private let state: Locked<State>

    private init(_ value: Value?) {
        state = Locked(State(value: value))
    }

    /// A value already there.
    public static func ready(_ value: Value) -> Eventually {
        Eventually(value)
    }

    /// `work` started now, on a thread of its own.
    public static func onOwnThread(_ work: @escaping @Sendable () -> Value) -> Eventually {
        let eventually = Eventually(nil)
        Thread { eventually.resolve(work()) }.start()
        return eventually
    }

    /// `work` started now, in a task (work that awaits, such as a server's connection).
    public static func inTask(_ work: @escaping @Sendable () async -> Value) -> Eventually {
        let eventually = Eventually(nil)
        Task { eventually.resolve(await work()) }
        return eventually
    }

    /// The value once made, by `transform` on the thread that made it.
    public func map<Other: Sendable>(_ transform: @escaping @Sendable (Value) -> Other) -> Eventually<Other> {
        let other = Eventually<Other>(nil)
        let made: Value? = state.withLock { state in
            if state.value == nil { state.then.append { other.resolve(transform($0)) } }
            return state.value
        }
        if let made { other.resolve(transform(made)) }
        return other
    }

    /// Waits for the value.
    public var value: Value {
        get async {
            if let value = state.withLock({ $0.value }) { return value }
            return await withCheckedContinuation { continuation in
                let made: Value? = state.withLock { state in
                    if state.value == nil { state.waiting.append(continuation) }
                    return state.value
                }
                if let made { continuation.resume(returning: made) }
            }
        }
    }

    private func resolve(_ value: Value) {
        let (waiting, then) = state.withLock { state in
            state.value = value
            defer { (state.waiting, state.then) = ([], []) }
            return (state.waiting, state.then)
        }
        for next in then { next(value) }
        for continuation in waiting { continuation.resume(returning: value) }
    }
}

/// Lowers the calling thread's priority for the rest of its life (its nice value 10 higher,
/// at most 19; an unprivileged thread cannot raise it again): for a thread of its own
/// (`Eventually.onOwnThread`) whose work should take only the CPU the process's other threads
/// leave, such as `pipe run`'s store opening beside the compile of its spec. On two cores, a
/// store whose write-ahead log the opening reads back (a thousand frames after a wide run)
/// otherwise delayed the compile, and the run's first call, by a few milliseconds
/// (BENCHMARKS.md).
func lowerThisThreadsPriority() {
    let thisThread = __priority_which_t(PRIO_PROCESS.rawValue)
    _ = setpriority(thisThread, 0, min(getpriority(thisThread, 0) + 10, 19))
}
