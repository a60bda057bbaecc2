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
