import Foundation

/// A value guarded by a lock. Like `Synchronization.Mutex`, but built on a pthread
/// mutex (`NSLock`), which ThreadSanitizer understands: `Mutex` on Linux uses raw
/// futexes, so TSan reports every access under it as a race.
final class Locked<State>: @unchecked Sendable {
    private let lock = NSLock()
    private var state: State

    init(_ state: State) {
        self.state = state
    }

    func withLock<Result>(_ body: (inout State) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&state)
    }
}

extension Locked {
    /// The value `make` makes the first time it is asked for (under the lock, so once), then
    /// the same value.
    func value<Value>(orMake make: () -> Value) -> Value where State == Value? {
        withLock { state in
            if let state { return state }
            let made = make()
            state = made
            return made
        }
    }
}
