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

    /// How long (real time) `nextDeadline` waits for a task to sleep before it gives up: only
    /// a broken test waits that long, and it then fails instead of hanging.
    static let patience: Duration = .seconds(10)

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
        var watchers: [(id: Int, continuation: CheckedContinuation<Instant?, Never>)] = []
        var stopped = false
    }

    private let state = Locked(State())

    var now: Instant { state.withLock { $0.now } }
    var minimumResolution: Duration { .zero }

    func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        let id = newID()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let (outcome, watchers) = state.withLock { state -> (Result<Void, any Error>?, [CheckedContinuation<Instant?, Never>]) in
                    if Task.isCancelled { return (.failure(CancellationError()), []) }
                    if deadline <= state.now { return (.success(()), []) }
                    state.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    defer { state.watchers = [] }
                    return (nil, state.watchers.map(\.continuation))
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
    /// `stopDriving`, or when no task sleeps within `patience`.
    func nextDeadline() async -> Instant? {
        await withTaskGroup(of: Instant?.self) { group in
            group.addTask { await self.firstSleeper() }
            group.addTask {
                try? await Task.sleep(for: Self.patience)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    private func firstSleeper() async -> Instant? {
        let id = newID()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now: Instant?? = state.withLock { state in
                    if state.stopped {
                        state.stopped = false
                        return .some(nil)
                    }
                    if Task.isCancelled { return .some(nil) }
                    if let deadline = state.sleepers.map(\.deadline).min() { return deadline }
                    state.watchers.append((id, continuation))
                    return nil
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            let watcher = state.withLock { state in
                state.watchers.firstIndex { $0.id == id }.map { state.watchers.remove(at: $0).continuation }
            }
            watcher?.resume(returning: nil)
        }
    }

    /// Ends `drive`: the next `nextDeadline` (or the one waiting) returns nil.
    func stopDriving() {
        let watchers = state.withLock { state in
            state.stopped = state.watchers.isEmpty
            defer { state.watchers = [] }
            return state.watchers.map(\.continuation)
        }
        for watcher in watchers { watcher.resume(returning: nil) }
    }

    /// Advances to each deadline in turn until `stopDriving` is called (or nothing sleeps).
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

    private func newID() -> Int {
        state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
    }
}
