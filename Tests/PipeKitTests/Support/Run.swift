import Foundation

/// Runs the `pipe` executable the way a user does, and collects what it printed.
struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

func runPipe(_ arguments: [String], stdin: String? = nil, directory: URL? = nil, environment: [String: String]? = nil)
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
    // Read both pipes while the process runs, so a large output cannot block it.
    let group = DispatchGroup()
    nonisolated(unsafe) var stdoutData = Data(), stderrData = Data()
    DispatchQueue.global().async(group: group) { stdoutData = out.fileHandleForReading.readDataToEndOfFile() }
    DispatchQueue.global().async(group: group) { stderrData = err.fileHandleForReading.readDataToEndOfFile() }
    process.waitUntilExit()
    group.wait()
    return CommandResult(
        status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self),
        stderr: String(decoding: stderrData, as: UTF8.self))
}
