import Foundation
@testable import PipeKit

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
        try process.run()
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
        try process.run()
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
