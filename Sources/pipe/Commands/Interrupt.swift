import Foundation
import PipeKit

/// Ctrl-C (SIGINT), SIGTERM and SIGHUP cancel the run: in-flight calls are cancelled,
/// finished stages are kept, and the command exits 128 + the signal's number (130, 143, 129).
/// A second signal exits at once.
enum Interrupt {
    static let signals: [(number: Int32, name: String)] = [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM"), (SIGHUP, "SIGHUP")]

    /// The name of one of `signals`.
    static func name(_ number: Int32) -> String {
        signals.first { $0.number == number }?.name ?? "signal \(number)"
    }

    /// Runs `body`; returns its result and the signal that cancelled it, if one did.
    static func run<T: Sendable>(_ body: @escaping @Sendable () async -> T) async -> (value: T, signal: Int32?) {
        // One serial queue for every handler, so that `received` and `task` are only touched there.
        let queue = DispatchQueue(label: "pipe.signals")
        nonisolated(unsafe) var received: Int32?
        nonisolated(unsafe) var task: Task<T, Never>?
        let sources = signals.map { entry in
            signal(entry.number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: entry.number, queue: queue)
            source.setEventHandler {
                if received != nil {
                    // No task is waited for: the programs of command stages go with pipe.
                    RunningPrograms.killAll()
                    HTTPClient.finishPreparing()
                    exit(128 + entry.number)
                }
                received = entry.number
                let again = entry.number == SIGINT ? "Ctrl-C" : entry.name
                let what = entry.number == SIGINT ? "interrupted" : "\(entry.name) received"
                // Cannot throw here; a failed write is kept, and `Pipe.main` exits 74 for it.
                try? Terminal.writeError("\npipe: \(what); cancelling the calls in flight (\(again) again to quit at once)\n")
                task?.cancel()
            }
            source.resume()
            return source
        }
        // Started once the signals are watched; cancelled at once if one came already.
        let started = queue.sync {
            let started = Task { await body() }
            task = started
            if received != nil { started.cancel() }
            return started
        }
        let value = await started.value
        for (source, entry) in zip(sources, signals) {
            source.cancel()
            signal(entry.number, SIG_DFL)
        }
        return (value, queue.sync { received })
    }
}
