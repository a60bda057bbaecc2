import Foundation
import PipeKit

/// Runs the `pipe` executable the way a user does, and collects what it printed.
struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Where the command's standard output goes.
enum StandardOutput: Sendable {
    /// Read into `CommandResult.stdout`.
    case captured
    /// A file opened for writing, such as `/dev/full` (every write fails with ENOSPC).
    case file(String)
    /// A pipe whose reader has gone: every write fails with EPIPE.
    case closedPipe
}

/// The process is waited for on a thread of its own, never on the pool Swift concurrency and
/// Dispatch share (2 threads on a 2-core machine), so tests that run at the same time are not starved.
func runPipe(
    _ arguments: [String], stdin: String? = nil, directory: URL? = nil, environment: [String: String]? = nil,
    stdout: StandardOutput = .captured
) async throws -> CommandResult {
    try await onOwnThread {
        try runPipeBlocking(arguments, stdin: stdin, directory: directory, environment: environment, stdout: stdout)
    }
}

private func runPipeBlocking(
    _ arguments: [String], stdin: String?, directory: URL?, environment: [String: String]?, stdout: StandardOutput
) throws -> CommandResult {
    let process = Process()
    process.executableURL = Paths.pipeExecutable
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = directory }
    if let environment { process.environment = environment }
    let out = Pipe(), err = Pipe(), input = Pipe()
    switch stdout {
    case .captured:
        process.standardOutput = out
    case .file(let path):
        guard let file = FileHandle(forWritingAtPath: path) else { throw CocoaError(.fileWriteNoPermission) }
        process.standardOutput = file
    case .closedPipe:
        process.standardOutput = out
        try out.fileHandleForReading.close()
    }
    process.standardError = err
    process.standardInput = input
    try process.runUnblocked()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try input.fileHandleForWriting.close()
    if case .captured = stdout { return collect(process, out: out, err: err) }
    return collect(process, out: nil, err: err)
}

/// Waits for a started process and returns what it printed on `out` (nil: not read) and `err`.
func collect(_ process: Process, out: Pipe?, err: Pipe) -> CommandResult {
    // Read stderr on a second thread while this one reads stdout, so a large output on
    // either cannot block the process.
    let done = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var stderrData = Data()
    Thread {
        stderrData = err.fileHandleForReading.readDataToEndOfFile()
        done.signal()
    }.start()
    var stdoutData = Data()
    if let out { stdoutData = out.fileHandleForReading.readDataToEndOfFile() }
    done.wait()
    process.waitUntilExit()
    return CommandResult(
        status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
        stderr: String(decoding: stderrData, as: UTF8.self))
}
