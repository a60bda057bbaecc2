import CLibraries
import Foundation
import Synchronization

/// libcurl's one-time load and global setup, run before the first multi handle exists. A
/// missing libcurl ends the process as a missing linked library did (exit 127), but only once a
/// model is called, and naming the library and its package.
private let curlGlobalSetup: CURLcode = {
    exitUnlessLoaded(pipe_curl_load())
    _ = OpenSSL.started
    return pipe_curl_global_init(Int(CURL_GLOBAL_ALL))
}()

/// The thread that drives every transfer of one `HTTPClient` through a libcurl
/// multi handle: any number of requests in flight on one thread, and one
/// connection cache so keep-alive connections are reused.
///
/// libcurl is driven by its sockets (`curl_multi_socket_action`): it says which sockets to
/// watch (`CURLMOPT_SOCKETFUNCTION`) and when its next timeout is due
/// (`CURLMOPT_TIMERFUNCTION`), the thread waits on them (`SocketWatch`: epoll), and each
/// wake-up hands libcurl only the sockets that are ready, so a wake-up costs what happened,
/// not the number of transfers in flight.
///
/// Other threads talk to it only through `submit`, `cancel` and `shutdown`, which
/// queue a command under a lock and wake the thread (`SocketWatch.wake`).
///
/// It is also a `TaskExecutor`: tasks that prefer it (`HTTPClient.executor`) run on the
/// loop's thread between transfers, so a finished transfer resumes its task, and the task's
/// next request starts, without waking any other thread. The requests a task makes start
/// before the next task runs, and a new connection's first request goes out as soon as
/// the connection is made, not once every transfer started with it has begun connecting
/// (BENCHMARKS.md, session 23).
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
        /// A wake-up is on its way since the loop last emptied the inbox.
        var woken = false
    }

    /// Easy handles of finished transfers, for the next ones: configuring a used handle
    /// (`curl_easy_reset`) costs less than making one.
    private struct SpareHandles: @unchecked Sendable {
        var handles: [UnsafeMutableRawPointer] = []
    }

    private let multi: UnsafeMutableRawPointer
    private let inbox = Locked(Inbox())
    private let spares = Locked(SpareHandles())
    private static let maxSpareHandles = 256
    /// The loop's thread, once it runs.
    private let loopThread = Atomic<pthread_t>(0)

    // Loop thread only.
    private let sockets = SocketWatch()
    /// The transfers in the multi handle; keeps them alive while libcurl holds their
    /// unretained pointers.
    private var active: [ObjectIdentifier: CurlTransfer] = [:]
    /// When libcurl wants `curl_multi_socket_action(CURL_SOCKET_TIMEOUT)`, in
    /// `DispatchTime` nanoseconds; nil: no timeout pending.
    private var timerDue: UInt64?
    /// libcurl acted since the finished transfers were last read.
    private var acted = false
    /// Sockets libcurl began connecting since it last acted on them (`actOnConnecting`).
    private var connecting: [Int32] = []

    init() {
        precondition(curlGlobalSetup == CURLE_OK, "curl_global_init failed")
        guard let multi = pipe_curl_multi_init() else { fatalError("curl_multi_init failed") }
        self.multi = multi
        let context = Unmanaged.passUnretained(self).toOpaque()
        _ = pipe_curl_multi_setopt_pointer(multi, CURLMOPT_SOCKETDATA, context)
        _ = pipe_curl_multi_setopt_socket_callback(multi) { _, socket, what, context, _ in
            guard let context else { return -1 }
            let loop = Unmanaged<CurlLoop>.fromOpaque(context).takeUnretainedValue()
            if what == Int32(CURL_POLL_REMOVE) {
                loop.sockets.unwatch(socket)
            } else {
                // A new socket to watch for writing is a connection being made.
                if what & Int32(CURL_POLL_OUT) != 0, !loop.sockets.isWatched(socket) { loop.connecting.append(socket) }
                loop.sockets.watch(socket, for: what)
            }
            return 0
        }
        _ = pipe_curl_multi_setopt_pointer(multi, CURLMOPT_TIMERDATA, context)
        _ = pipe_curl_multi_setopt_timer_callback(multi) { _, milliseconds, context in
            guard let context else { return -1 }
            let loop = Unmanaged<CurlLoop>.fromOpaque(context).takeUnretainedValue()
            loop.timerDue = milliseconds < 0 ? nil : DispatchTime.now().uptimeNanoseconds + UInt64(milliseconds) * 1_000_000
            return 0
        }
        let thread = Thread { [self] in run() }
        thread.name = "pipe-http"
        thread.start()
    }

    deinit {
        // No callback into a loop that is going away.
        _ = pipe_curl_multi_setopt_socket_callback(multi, nil)
        _ = pipe_curl_multi_setopt_timer_callback(multi, nil)
        pipe_curl_multi_cleanup(multi)
        spares.withLock { spares in
            for easy in spares.handles { pipe_curl_easy_cleanup(easy) }
        }
    }

    /// An easy handle with default options, for a new transfer (any thread).
    func makeHandle() -> UnsafeMutableRawPointer? {
        if let easy = spares.withLock({ $0.handles.popLast() }) {
            pipe_curl_easy_reset(easy)
            return easy
        }
        return pipe_curl_easy_init()
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
        let wake = inbox.withLock { inbox in
            inbox.shuttingDown = true
            return wakeNeeded(&inbox)
        }
        if wake { sockets.wake() }
    }

    /// Runs `job` on the loop's thread, between transfers (`TaskExecutor`). After a
    /// shutdown, jobs go to the global executor instead.
    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let (accepted, wake) = inbox.withLock { inbox in
            guard !inbox.shuttingDown else { return (false, false) }
            inbox.jobs.append(job)
            return (true, wakeNeeded(&inbox))
        }
        guard accepted else {
            globalConcurrentExecutor.enqueue(job)
            return
        }
        if wake { sockets.wake() }
    }

    private func send(_ command: Command) {
        if inbox.withLock({ inbox in
            inbox.commands.append(command)
            return wakeNeeded(&inbox)
        }) {
            sockets.wake()
        }
    }

    /// Whether what was just queued needs a wake-up: not on the loop's thread, which reads its
    /// inbox before it waits again, and not when one is already on its way.
    private func wakeNeeded(_ inbox: inout Inbox) -> Bool {
        guard pthread_self() != loopThread.load(ordering: .relaxed), !inbox.woken else { return false }
        inbox.woken = true
        return true
    }

    // MARK: - Loop thread

    private func run() {
        loopThread.store(pthread_self(), ordering: .relaxed)
        while true {
            let (commands, jobs, shuttingDown) = inbox.withLock { inbox in
                defer {
                    inbox.commands = []
                    inbox.jobs = []
                    inbox.woken = false
                }
                return (inbox.commands, inbox.jobs, inbox.shuttingDown)
            }
            if shuttingDown {
                for job in jobs { globalConcurrentExecutor.enqueue(job) }
                perform(commands)
                for transfer in Array(active.values) { finish(transfer, .failure(.cancelled)) }
                return
            }
            perform(commands)
            runDueTimer()
            // Each job's requests are sent before the next job runs: when a wave of replies
            // resumes many tasks at once, the first next request does not wait for the last
            // task, and the next wave's replies come back spread as the work was, not bunched.
            for job in jobs {
                job.runSynchronously(on: asUnownedTaskExecutor())
                perform(takeCommands())
                runDueTimer()
            }
            collectFinished()
            // Jobs that the transfers just finished resumed run before the loop waits.
            if inbox.withLock({ !$0.jobs.isEmpty || !$0.commands.isEmpty }) { continue }
            // Returns on a ready socket, libcurl's next timeout, or a wake-up.
            var running: Int32 = 0
            sockets.wait(timeout: timerWait()) { socket, flags in
                _ = pipe_curl_multi_socket_action(multi, socket, flags, &running)
                acted = true
            }
            runDueTimer()
            collectFinished()
        }
    }

    /// The commands queued since the inbox was last read, leaving its jobs.
    private func takeCommands() -> [Command] {
        inbox.withLock { inbox in
            defer { inbox.commands = [] }
            return inbox.commands
        }
    }

    private func perform(_ commands: [Command]) {
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
    }

    /// Milliseconds until libcurl's timeout is due, rounded up; -1 when none is pending.
    private func timerWait() -> Int32 {
        guard let timerDue else { return -1 }
        let now = DispatchTime.now().uptimeNanoseconds
        guard timerDue > now else { return 0 }
        return Int32(clamping: (timerDue - now + 999_999) / 1_000_000)
    }

    private func runDueTimer() {
        guard let due = timerDue, due <= DispatchTime.now().uptimeNanoseconds else { return }
        timerDue = nil  // the timer callback sets the next one
        var running: Int32 = 0
        _ = pipe_curl_multi_socket_action(multi, pipe_curl_socket_timeout, 0, &running)
        acted = true
        actOnConnecting()
    }

    /// Lets libcurl look at once at the connections it began (mask 0: it tests the socket
    /// itself), not after the next wait: a connection to a nearby server is often made by
    /// then, and its request goes out now, before the next transfer connects, not once all
    /// of them have.
    private func actOnConnecting() {
        while !connecting.isEmpty {
            let sockets = connecting
            connecting = []
            var running: Int32 = 0
            for socket in sockets { _ = pipe_curl_multi_socket_action(multi, socket, 0, &running) }
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
        // Sets libcurl's timer to "now": the next `runDueTimer` starts the transfer.
        let code = pipe_curl_multi_add_handle(multi, easy)
        guard code == CURLM_OK else {
            finish(transfer, .failure(.client("curl_multi_add_handle: \(String(cString: pipe_curl_multi_strerror(code)))")))
            return
        }
        active[ObjectIdentifier(transfer)] = transfer
    }

    private func isActive(_ transfer: CurlTransfer) -> Bool {
        active[ObjectIdentifier(transfer)] != nil
    }

    /// Ends the transfers libcurl reports done; only after it acted, when there can be any.
    private func collectFinished() {
        guard acted else { return }
        acted = false
        var remaining: Int32 = 0
        while let message = pipe_curl_multi_info_read(multi, &remaining) {
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
            pipe_curl_multi_remove_handle(multi, easy)
            active[ObjectIdentifier(transfer)] = nil
            // The connection stays in the multi's cache; the handle serves a later transfer.
            if let easy = transfer.detachHandle() {
                let kept = spares.withLock { spares in
                    guard spares.handles.count < Self.maxSpareHandles else { return false }
                    spares.handles.append(easy)
                    return true
                }
                if !kept { pipe_curl_easy_cleanup(easy) }
            }
        }
        transfer.releaseHandle()
        transfer.complete(outcome)
    }
}
