import Foundation
import PipeKit
import Testing

/// The processes tests start (`pipe`, Python servers, shells) begin as a shell would start
/// them: with no signal blocked, so that the Ctrl-C or SIGTERM a test sends reaches them
/// (`Process.runUnblocked`). Tests run on threads that block most signals, and a child keeps
/// the mask of the thread that started it.
@Suite struct SpawnedProcessTests {
    /// The signal mask a child started from this test's thread begins with.
    @Test func aChildStartsWithNoSignalBlocked() throws {
        let (process, output) = try shell("grep '^SigBlk:' /proc/self/status")
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(text == "SigBlk:\t0000000000000000\n")
    }

    /// A shell that traps SIGINT and SIGTERM runs its trap for each (a blocked signal would
    /// stay pending, and the shell would run until killed).
    @Test(arguments: [(SIGINT, "INT"), (SIGTERM, "TERM")])
    func aChildReceivesTheSignalATestSends(_ signal: Int32, _ name: String) async throws {
        let (process, output) = try shell("trap 'echo trapped \(name); exit 7' \(name); echo ready; while :; do sleep 0.05; done")
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        let lines = try await onOwnThread { () throws -> String in
            var text = ""
            let reader = output.fileHandleForReading
            while !text.contains("ready\n") {
                guard let data = try reader.read(upToCount: 1), !data.isEmpty else { break }
                text += String(decoding: data, as: UTF8.self)
            }
            kill(process.processIdentifier, signal)
            // A signal that never arrives is the failure, not a hang of the suite.
            let deadline = Date().addingTimeInterval(60)
            while process.isRunning, Date() < deadline { usleep(10_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            text += String(decoding: reader.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return text
        }
        #expect(lines == "ready\ntrapped \(name)\n")
        #expect(process.terminationStatus == 7)
    }

    /// `sh -c script` started from this test's thread, its stdout a pipe.
    func shell(_ script: String) throws -> (Process, Pipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        let output = Pipe()
        process.standardOutput = output
        try process.runUnblocked()
        return (process, output)
    }
}
