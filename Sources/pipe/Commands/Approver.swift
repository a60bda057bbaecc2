import Foundation
import PipeKit

/// Exit codes with a name (README, "Exit codes").
enum PipeExit {
    /// A stage with `approve: true` waits for `pipe approve`.
    static let waitingForApproval: Int32 = 5
    /// stdout, stderr or the trace file could not be written (EX_IOERR).
    static let writeFailed: Int32 = 74
    /// stdout's reader has gone: 128 + SIGPIPE, as the shell reports for a tool that SIGPIPE stopped.
    static let brokenPipe: Int32 = 141
}

/// Asks a person at the terminal whether a stage with `approve: true` may run.
enum Approver {
    /// Questions one at a time, even when several stages wait at once.
    private static let lock = NSLock()

    /// nil when there is no terminal to ask on: the run then waits for `pipe approve`.
    static func askOnTerminal() -> (@Sendable (PendingApproval) async -> ApprovalPolicy.Decision)? {
        guard isatty(2) == 1, FileManager.default.isReadableFile(atPath: "/dev/tty") else { return nil }
        return { pending in
            // Waiting for a person must not hold one of the few threads the run's tasks share.
            await onOwnThread { lock.withLock { ask(pending) } }
        }
    }

    /// One line typed at the terminal, decoded once whole (a reason may be any language).
    private static func readLine(_ tty: FileHandle) -> String {
        var bytes: [UInt8] = []
        while let byte = tty.readData(ofLength: 1).first, byte != UInt8(ascii: "\n") { bytes.append(byte) }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func ask(_ pending: PendingApproval) -> ApprovalPolicy.Decision {
        guard let tty = FileHandle(forReadingAtPath: "/dev/tty") else { return .wait }
        defer { try? tty.close() }
        // A question that cannot be shown is not asked: the run waits for `pipe approve`.
        do {
            try Terminal.writeError("\npipe: stage `\(pending.stage)` needs approval. It would receive:\n")
            if let system = pending.system { try Terminal.writeError(RunSession.indent("system: " + system)) }
            try Terminal.writeError(RunSession.indent(pending.prompt))
            try Terminal.writeError("Run it? [y]es / [n]o (reject) / [l]ater (stop and approve with `pipe approve`): ")
            switch readLine(tty).trimmingSpaces.lowercased() {
            case "y", "yes": return .approve
            case "n", "no", "reject":
                try Terminal.writeError("Reason: ")
                let reason = readLine(tty)
                return .reject(reason: reason.isEmpty ? "rejected at the terminal" : reason)
            default: return .wait
            }
        } catch {
            return .wait
        }
    }
}
