import Foundation

/// Ctrl-C cancels the run: in-flight calls are cancelled, finished stages are kept, and the
/// command exits 130. A second Ctrl-C exits at once.
enum Interrupt {
    static func run<T: Sendable>(_ body: @escaping @Sendable () async -> T) async -> T {
        signal(SIGINT, SIG_IGN)
        let task = Task { await body() }
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        nonisolated(unsafe) var count = 0
        source.setEventHandler {
            count += 1
            if count > 1 { exit(130) }
            // Cannot throw here; a failed write is kept, and `Pipe.main` exits 74 for it.
            try? Terminal.writeError("\npipe: interrupted; cancelling the calls in flight (Ctrl-C again to quit at once)\n")
            task.cancel()
        }
        source.resume()
        let result = await task.value
        source.cancel()
        signal(SIGINT, SIG_DFL)
        return result
    }
}
