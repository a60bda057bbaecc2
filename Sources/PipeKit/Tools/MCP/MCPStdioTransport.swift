import Foundation
import Subprocess

#if canImport(Glibc)
import Glibc
#endif

/// An MCP server spawned as a child process, speaking newline-delimited JSON-RPC on its stdin
/// and stdout (swift-subprocess: the pipes are read by its I/O thread, never by a cooperative
/// thread or the HTTP thread).
///
/// The process gets exactly the configured environment, plus `PATH` (pipe's own) when the
/// configuration names none, so that `python3` or `git` are found; never pipe's other
/// variables, API keys among them. It runs in the configured working directory, in a process
/// group of its own, which `close` ends: stdin closed, a moment to exit, SIGTERM to the group,
/// then SIGKILL. A stdout line that is not JSON, or longer than 16 MiB, breaks the connection
/// (`protocolViolation`); an exit is `crashed`, with its status and the last 4 KiB of stderr.
final class MCPStdioTransport: MCPTransport {
    static let maxLineBytes = 16 << 20
    static let stderrTailBytes = 4096
    /// How long a server has to exit after its stdin closes, and again after SIGTERM.
    static let exitGrace: Duration = .seconds(2)

    private let server: String
    private let writer: StandardInputWriter
    private let writes = MCPTurnstile()
    /// The process's id, which is also its process group's.
    let processGroup: pid_t
    private let process: ProcessState
    private let running: Task<Void, Never>

    private init(server: String, writer: StandardInputWriter, processGroup: pid_t, process: ProcessState, running: Task<Void, Never>) {
        self.server = server
        self.writer = writer
        self.processGroup = processGroup
        self.process = process
        self.running = running
    }

    deinit {
        // Never left behind, even by an owner that did not shut it down.
        if !process.hasExited { kill(-processGroup, SIGKILL) }
    }

    static func start(_ config: ToolServerConfig, command: [String], inbox: MCPInbox) async throws(ToolFailure) -> MCPStdioTransport {
        let server = config.name
        guard let program = command.first, !program.isEmpty else {
            throw .couldNotStart(server: server, reason: "its command is empty")
        }
        var environment = config.environment
        if environment["PATH"] == nil, let path = ProcessInfo.processInfo.environment["PATH"] { environment["PATH"] = path }
        // A group of its own, whose id is the process's.
        let configuration = ChildProcess.configuration(
            program: program, arguments: Array(command.dropFirst()), environment: environment,
            workingDirectory: config.workingDirectory)
        let process = ProcessState()
        let launched = MCPOneShot<Result<(StandardInputWriter, pid_t), ToolFailure>>()
        // The process lives as long as `run`'s body: this task, which `close` awaits.
        let running = Task {
            do {
                let result = try await Subprocess.run(
                    configuration, input: .inputWriter, output: .sequence, error: .sequence
                ) { execution in
                    launched.set(.success((execution.standardInputWriter, execution.processIdentifier.value)))
                    await withTaskGroup(of: Void.self) { group in
                        group.addTask { await process.drainErrors(execution.standardError) }
                        group.addTask { await readMessages(execution.standardOutput, server: server, inbox: inbox) }
                    }
                }
                process.ended(with: result.terminationStatus, server: server, inbox: inbox)
            } catch {
                process.ended(with: nil, server: server, inbox: inbox)
                launched.set(.failure(.couldNotStart(server: server, reason: "\(error)")))
            }
        }
        let (writer, pid) = try await launched.value.get()
        return MCPStdioTransport(server: server, writer: writer, processGroup: pid, process: process, running: running)
    }

    func send(_ message: JSONValue) async throws(ToolFailure) {
        let bytes = Array(message.serialized().utf8) + [UInt8(ascii: "\n")]
        // One message at a time: a long one is written in several pieces.
        await writes.enter()
        defer { writes.leave() }
        do {
            _ = try await writer.write(bytes)
        } catch {
            throw .crashed(server: server, detail: process.endDetail ?? "its stdin is closed")
        }
    }

    func close() async {
        process.closing()
        try? await writer.finish()
        if !(await process.waitForExit(within: Self.exitGrace)) {
            kill(-processGroup, SIGTERM)
            if !(await process.waitForExit(within: Self.exitGrace)) { kill(-processGroup, SIGKILL) }
        }
        await running.value
        // Whatever it started in its group and left running.
        kill(-processGroup, SIGKILL)
    }
}

/// Reads newline-delimited messages from a server's stdout until it closes.
private func readMessages(_ output: SubprocessOutputSequence, server: String, inbox: MCPInbox) async {
    var pending: [UInt8] = []
    var skippingLongLine = false
    do {
        for try await buffer in output {
            pending += buffer.withUnsafeBytes { Array($0) }
            var start = 0
            while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                let line = pending[start..<newline]
                start = newline + 1
                if skippingLongLine {
                    skippingLongLine = false
                } else {
                    await deliver(line, server: server, inbox: inbox)
                }
            }
            pending.removeFirst(start)
            if pending.count > MCPStdioTransport.maxLineBytes {
                if !skippingLongLine {
                    inbox.fail(.protocolViolation(server: server, detail: "a line on stdout longer than \(MCPStdioTransport.maxLineBytes) bytes"))
                }
                skippingLongLine = true
                pending = []
            }
        }
    } catch {
        // The pipe broke: the exit reports it.
    }
}

private func deliver(_ line: ArraySlice<UInt8>, server: String, inbox: MCPInbox) async {
    let trimmed = line.last == UInt8(ascii: "\r") ? line.dropLast() : line
    guard !trimmed.isEmpty else { return }
    do {
        await inbox.receive(try JSONParser.parse(Array(trimmed)))
    } catch {
        let text = String(decoding: trimmed.prefix(400), as: UTF8.self)
        inbox.fail(.protocolViolation(server: server, detail: "it wrote to stdout something that is not a JSON-RPC message: \(MCPText.excerpt(text))"))
    }
}

/// What is known of a spawned server's process: the tail of its stderr, whether it has ended.
private final class ProcessState: Sendable {
    private struct State {
        var stderrTail: [UInt8] = []
        var exited = false
        var closing = false
        var endDetail: String?
    }
    private let state = Locked(State())

    var hasExited: Bool { state.withLock { $0.exited } }
    var endDetail: String? { state.withLock { $0.endDetail } }

    func closing() { state.withLock { $0.closing = true } }

    func drainErrors(_ errors: SubprocessOutputSequence) async {
        do {
            for try await buffer in errors {
                let bytes = buffer.withUnsafeBytes { Array($0) }
                state.withLock { state in
                    state.stderrTail += bytes
                    if state.stderrTail.count > MCPStdioTransport.stderrTailBytes {
                        state.stderrTail.removeFirst(state.stderrTail.count - MCPStdioTransport.stderrTailBytes)
                    }
                }
            }
        } catch {}
    }

    /// The process was reaped (`status`), or never started (nil): calls in flight fail, unless
    /// pipe was closing it.
    func ended(with status: TerminationStatus?, server: String, inbox: MCPInbox) {
        let (detail, closing): (String, Bool) = state.withLock { state in
            state.exited = true
            let how: String
            switch status {
            case .exited(let code): how = "it exited with status \(code)"
            case .signaled(let signal): how = "it was killed by signal \(signal)"
            case nil: how = "it could not be run"
            }
            let tail = String(decoding: state.stderrTail, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            state.endDetail = tail.isEmpty ? how : "\(how); the end of its stderr: \(tail)"
            return (state.endDetail ?? how, state.closing)
        }
        if !closing { inbox.fail(.crashed(server: server, detail: detail)) }
    }

    /// Whether the process has been reaped within `grace` (checked every 20 ms).
    func waitForExit(within grace: Duration) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + grace
        while !hasExited, clock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return hasExited
    }
}

/// Lets one task at a time through (in order of arrival), across suspension points.
final class MCPTurnstile: Sendable {
    private struct State {
        var busy = false
        var waiting: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Locked(State())

    func enter() async {
        await withCheckedContinuation { continuation in
            let admitted = state.withLock { state in
                if state.busy {
                    state.waiting.append(continuation)
                    return false
                }
                state.busy = true
                return true
            }
            if admitted { continuation.resume() }
        }
    }

    func leave() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiting.isEmpty {
                state.busy = false
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.resume()
    }
}

/// A value set once by one task and awaited by another, whichever comes first.
final class MCPOneShot<Value: Sendable>: Sendable {
    private enum State {
        case empty
        case waiting(CheckedContinuation<Value, Never>)
        case set(Value)
        case taken
    }
    private let state = Locked(State.empty)

    /// Sets the value; later calls are ignored.
    func set(_ value: Value) {
        let waiter: CheckedContinuation<Value, Never>? = state.withLock { state in
            switch state {
            case .empty:
                state = .set(value)
                return nil
            case .waiting(let continuation):
                state = .taken
                return continuation
            case .set, .taken:
                return nil
            }
        }
        waiter?.resume(returning: value)
    }

    /// The value, once set (awaited once).
    var value: Value {
        get async {
            await withCheckedContinuation { continuation in
                let ready: Value? = state.withLock { state in
                    if case .set(let value) = state {
                        state = .taken
                        return value
                    }
                    state = .waiting(continuation)
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        }
    }
}
