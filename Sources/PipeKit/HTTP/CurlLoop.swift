import CCurl
import Foundation
import Synchronization

/// libcurl's one-time global setup, run before the first multi handle exists.
private let curlGlobalSetup: CURLcode = curl_global_init(Int(CURL_GLOBAL_ALL))

/// The thread that drives every transfer of one `HTTPClient` through a libcurl
/// multi handle: any number of requests in flight on one thread, and one
/// connection cache so keep-alive connections are reused.
///
/// Other threads talk to it only through `submit`, `cancel` and `shutdown`, which
/// queue a command under a lock and wake the thread with `curl_multi_wakeup`.
///
/// It is also a `TaskExecutor`: tasks that prefer it (`HTTPClient.executor`) run on the
/// loop's thread between transfers, so a finished transfer resumes its task, and the task's
/// next request starts, without waking any other thread.
final class CurlLoop: TaskExecutor, @unchecked Sendable {
    private enum Command {
        case add(CurlTransfer, CheckedContinuation<CurlTransfer.Outcome, Never>)
        case cancel(CurlTransfer)
    }

    private struct Inbox {
        var commands: [Command] = []
        /// Jobs of tasks that prefer this thread as their executor.
        var jobs: [UnownedJob] = []
        var shuttingDown = false
    }

    private let multi: UnsafeMutableRawPointer
    private let inbox = Locked(Inbox())
    /// The loop's thread, once it runs.
    private let loopThread = Atomic<pthread_t>(0)
    /// The transfers in the multi handle. Loop thread only; keeps them alive while
    /// libcurl holds their unretained pointers.
    private var active: [ObjectIdentifier: CurlTransfer] = [:]

    init() {
        precondition(curlGlobalSetup == CURLE_OK, "curl_global_init failed")
        guard let multi = curl_multi_init() else { fatalError("curl_multi_init failed") }
        self.multi = multi
        let thread = Thread { [self] in run() }
        thread.name = "pipe-http"
        thread.start()
    }

    deinit {
        curl_multi_cleanup(multi)
    }

    /// Starts `transfer`; its outcome resumes `continuation`.
    func submit(_ transfer: CurlTransfer, continuation: CheckedContinuation<CurlTransfer.Outcome, Never>) {
        send(.add(transfer, continuation))
    }

    /// Abandons `transfer` as soon as the loop wakes; its outcome is `.cancelled`.
    func cancel(_ transfer: CurlTransfer) {
        transfer.cancelRequested.store(true, ordering: .relaxed)
        send(.cancel(transfer))
    }

    /// Cancels whatever is in flight and ends the thread.
    func shutdown() {
        inbox.withLock { $0.shuttingDown = true }
        curl_multi_wakeup(multi)
    }

    /// Runs `job` on the loop's thread, between transfers (`TaskExecutor`). After a
    /// shutdown, jobs go to the global executor instead.
    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let accepted = inbox.withLock { inbox in
            if !inbox.shuttingDown { inbox.jobs.append(job) }
            return !inbox.shuttingDown
        }
        guard accepted else {
            globalConcurrentExecutor.enqueue(job)
            return
        }
        wake()
    }

    private func send(_ command: Command) {
        inbox.withLock { $0.commands.append(command) }
        wake()
    }

    /// Interrupts `curl_multi_poll`, unless this is the loop's thread, which reads its
    /// inbox before it polls again.
    private func wake() {
        if pthread_self() != loopThread.load(ordering: .relaxed) { curl_multi_wakeup(multi) }
    }

    // MARK: - Loop thread

    private func run() {
        loopThread.store(pthread_self(), ordering: .relaxed)
        while true {
            let (commands, jobs, shuttingDown) = inbox.withLock { inbox in
                defer {
                    inbox.commands = []
                    inbox.jobs = []
                }
                return (inbox.commands, inbox.jobs, inbox.shuttingDown)
            }
            if shuttingDown {
                for job in jobs { globalConcurrentExecutor.enqueue(job) }
            } else {
                for job in jobs { job.runSynchronously(on: asUnownedTaskExecutor()) }
            }
            for command in commands {
                switch command {
                case .add(let transfer, let continuation):
                    start(transfer, continuation: continuation)
                case .cancel(let transfer):
                    // Ignored when the transfer already finished, or has not been added yet
                    // (then `start` sees `cancelRequested`).
                    if isActive(transfer) { finish(transfer, .failure(.cancelled)) }
                }
            }
            if shuttingDown {
                for transfer in Array(active.values) { finish(transfer, .failure(.cancelled)) }
                return
            }
            var running: Int32 = 0
            _ = curl_multi_perform(multi, &running)
            collectFinished()
            // Jobs that the transfers just finished resumed run before the loop waits.
            if inbox.withLock({ !$0.jobs.isEmpty || !$0.commands.isEmpty }) { continue }
            // Returns early on socket activity, libcurl's own timers, or a wakeup.
            _ = curl_multi_poll(multi, nil, 0, 1000, nil)
        }
    }

    private func start(_ transfer: CurlTransfer, continuation: CheckedContinuation<CurlTransfer.Outcome, Never>) {
        transfer.continuation = continuation
        if transfer.cancelRequested.load(ordering: .relaxed) {
            finish(transfer, .failure(.cancelled))
            return
        }
        guard let easy = transfer.easy else {
            finish(transfer, .failure(.client("the transfer has no handle")))
            return
        }
        let code = curl_multi_add_handle(multi, easy)
        guard code == CURLM_OK else {
            finish(transfer, .failure(.client("curl_multi_add_handle: \(String(cString: curl_multi_strerror(code)))")))
            return
        }
        active[ObjectIdentifier(transfer)] = transfer
    }

    private func isActive(_ transfer: CurlTransfer) -> Bool {
        active[ObjectIdentifier(transfer)] != nil
    }

    private func collectFinished() {
        var remaining: Int32 = 0
        while let message = curl_multi_info_read(multi, &remaining) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
            let code = message.pointee.data.result
            var context: UnsafeMutableRawPointer? = nil
            _ = pipe_curl_easy_getinfo_pointer(easy, CURLINFO_PRIVATE, &context)
            guard let context else { continue }
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
            finish(transfer, transfer.outcome(of: code))
        }
    }

    private func finish(_ transfer: CurlTransfer, _ outcome: CurlTransfer.Outcome) {
        if isActive(transfer), let easy = transfer.easy {
            curl_multi_remove_handle(multi, easy)
            active[ObjectIdentifier(transfer)] = nil
        }
        // The connection stays in the multi's cache; the handle itself is done.
        transfer.releaseHandle()
        transfer.complete(outcome)
    }
}
