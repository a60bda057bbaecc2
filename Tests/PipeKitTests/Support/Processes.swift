import Foundation
@testable import PipeKit

/// A `pipe` process a test talks to while it runs: it waits for what the process prints on
/// stderr (a stage starting), sends it signals, then collects its exit status and output.
final class LivePipe: Sendable {
    private let process: Process
    private let output = Pipe()
    private let errors = Locked(Data())
    private let stderrClosed = DispatchSemaphore(value: 0)

    /// Starts `pipe arguments`, with `stdin` written and closed.
    init(_ arguments: [String], stdin: String = "", environment: [String: String]) throws {
        let process = Process()
        process.executableURL = Paths.pipeExecutable
        process.arguments = arguments
        process.environment = environment
        let input = Pipe(), errorPipe = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errorPipe
        try process.runUnblocked()
        self.process = process
        input.fileHandleForWriting.write(Data(stdin.utf8))
        try input.fileHandleForWriting.close()
        // stderr is read as it comes, on a thread of its own.
        Thread { [errors, stderrClosed] in
            while case let data = errorPipe.fileHandleForReading.availableData, !data.isEmpty {
                errors.withLock { $0.append(data) }
            }
            stderrClosed.signal()
        }.start()
    }

    var pid: Int32 { process.processIdentifier }

    /// What it has printed on stderr so far.
    var stderr: String { errors.withLock { String(decoding: $0, as: UTF8.self) } }

    /// Waits until stderr contains `text`; false if the process ended first, or after a
    /// generous minute (a hang is then the failure).
    func waitForStderr(_ text: String) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if stderr.contains(text) { return true }
            if !process.isRunning { return stderr.contains(text) }
            try await Task.sleep(for: .milliseconds(10))
        }
        return false
    }

    func send(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// Waits for the process to end, and returns what it printed.
    func finish() async -> CommandResult {
        await onOwnThread { [self] in
            let stdout = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            stderrClosed.wait()
            return CommandResult(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: stderr)
        }
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// Runs `pipe` with its standard input read from a file (`/dev/zero`, a FIFO) instead of a pipe.
func runPipe(_ arguments: [String], stdinFile: String) async throws -> CommandResult {
    try await onOwnThread {
        let process = Process()
        process.executableURL = Paths.pipeExecutable
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardInput = FileHandle(forReadingAtPath: stdinFile)
        process.standardOutput = out
        process.standardError = err
        try process.runUnblocked()
        return collect(process, out: out, err: err)
    }
}

/// Runs a bash command line (for `yes | pipe lint -` and `<(cmd)`), with `$PIPE` naming the
/// built `pipe`.
func runShell(_ script: String) async throws -> CommandResult {
    try await onOwnThread {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", script]
        process.environment = ["PATH": "/usr/bin:/bin", "PIPE": Paths.pipeExecutable.path]
        let out = Pipe(), err = Pipe()
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = out
        process.standardError = err
        try process.runUnblocked()
        return collect(process, out: out, err: err)
    }
}

/// A sparse file of `size` bytes (nothing is written), for limits checked by size.
func sparseFile(_ path: String, size: Int) throws -> Int {
    guard FileManager.default.createFile(atPath: path, contents: nil), truncate(path, off_t(size)) == 0 else {
        throw CocoaError(.fileWriteUnknown)
    }
    let attributes = try FileManager.default.attributesOfItem(atPath: path)
    return (attributes[.size] as? Int) ?? -1
}

extension Process {
    /// Starts the process with no signal blocked, as a shell starts a command. A child keeps the
    /// signal mask of the thread that starts it across `exec`, Foundation's `Process` passes it on
    /// as it is, and the threads of Swift concurrency and Dispatch (where tests run) block
    /// SIGINT, SIGTERM, SIGHUP and most other signals: a child started from a test with `run()`
    /// began with them blocked, so a program that does not read its signals through `signalfd`
    /// never saw the Ctrl-C or SIGTERM a test sent it (the OTLP test receiver), and `pipe` itself
    /// ran with a mask no user gives it (`SpawnedProcessTests`).
    func runUnblocked() throws {
        var none = sigset_t(), previous = sigset_t()
        sigemptyset(&none)
        pthread_sigmask(SIG_SETMASK, &none, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        try run()
    }
}
