import Foundation
import PipeKit

/// Runs the `pipe` executable the way a user does, and collects what it printed.
struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// The process is waited for on a thread of its own, never on the pool Swift concurrency and
/// Dispatch share (2 threads on a 2-core machine), so tests that run at the same time are not starved.
func runPipe(_ arguments: [String], stdin: String? = nil, directory: URL? = nil, environment: [String: String]? = nil)
    async throws -> CommandResult
{
    try await onOwnThread { try runPipeBlocking(arguments, stdin: stdin, directory: directory, environment: environment) }
}

private func runPipeBlocking(_ arguments: [String], stdin: String?, directory: URL?, environment: [String: String]?)
    throws -> CommandResult
{
    let process = Process()
    process.executableURL = Paths.pipeExecutable
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = directory }
    if let environment { process.environment = environment }
    let out = Pipe(), err = Pipe(), input = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try input.fileHandleForWriting.close()
    return collect(process, out: out, err: err)
}

/// Waits for a started process and returns what it printed on `out` and `err`.
func collect(_ process: Process, out: Pipe, err: Pipe) -> CommandResult {
    // Read stderr on a second thread while this one reads stdout, so a large output on
    // either cannot block the process.
    let done = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var stderrData = Data()
    Thread {
        stderrData = err.fileHandleForReading.readDataToEndOfFile()
        done.signal()
    }.start()
    let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
    done.wait()
    process.waitUntilExit()
    return CommandResult(
        status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
        stderr: String(decoding: stderrData, as: UTF8.self))
}
