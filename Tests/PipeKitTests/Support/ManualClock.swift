import Foundation
@testable import PipeKit

/// A clock that moves only when a test advances it: sleepers wake in order of their deadlines,
/// so tests of timing order events instead of sleeping.
final class ManualClock: Clock, Sendable {
    struct Instant: InstantProtocol {
        /// Since the clock's start.
        var offset: Duration

        func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        func duration(to other: Instant) -> Duration { other.offset - offset }
        static func < (a: Instant, b: Instant) -> Bool { a.offset < b.offset }
    }

    private struct Sleeper {
        let id: Int
        let deadline: Instant
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now = Instant(offset: .zero)
        var sleepers: [Sleeper] = []
        var nextID = 0
        /// Tests waiting for a task to sleep.
        var watchers: [CheckedContinuation<Instant?, Never>] = []
        var stopped = false
    }

    private let state = Locked(State())

    var now: Instant { state.withLock { $0.now } }
    var minimumResolution: Duration { .zero }

    func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let (outcome, watchers): (Result<Void, any Error>?, [CheckedContinuation<Instant?, Never>]) = state.withLock { state in
                    if Task.isCancelled { return (.failure(CancellationError()), []) }
                    if deadline <= state.now { return (.success(()), []) }
                    state.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    defer { state.watchers = [] }
                    return (nil, state.watchers)
                }
                if let outcome { continuation.resume(with: outcome) }
                for watcher in watchers { watcher.resume(returning: deadline) }
            }
        } onCancel: {
            let sleeper = state.withLock { state in
                state.sleepers.firstIndex { $0.id == id }.map { state.sleepers.remove(at: $0) }
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// The earliest deadline of the tasks sleeping now, once one sleeps; nil once after
    /// `stopDriving`.
    func nextDeadline() async -> Instant? {
        await withCheckedContinuation { continuation in
            let now: Instant?? = state.withLock { state in
                if state.stopped {
                    state.stopped = false
                    return .some(nil)
                }
                if let deadline = state.sleepers.map(\.deadline).min() { return deadline }
                state.watchers.append(continuation)
                return nil
            }
            if let now { continuation.resume(returning: now) }
        }
    }

    /// Ends `drive`: the next `nextDeadline` (or the one waiting) returns nil.
    func stopDriving() {
        let watchers = state.withLock { state in
            state.stopped = state.watchers.isEmpty
            defer { state.watchers = [] }
            return state.watchers
        }
        for watcher in watchers { watcher.resume(returning: nil) }
    }

    /// Advances to each deadline in turn until `stopDriving` is called.
    func drive() async {
        while let deadline = await nextDeadline() { advance(to: deadline) }
    }

    /// Moves to `instant` and wakes every sleeper whose deadline has come.
    func advance(to instant: Instant) {
        let due = state.withLock { state in
            state.now = max(state.now, instant)
            let due = state.sleepers.filter { $0.deadline <= state.now }
            state.sleepers.removeAll { $0.deadline <= state.now }
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    func advance(by duration: Duration) { advance(to: now.advanced(by: duration)) }
}
