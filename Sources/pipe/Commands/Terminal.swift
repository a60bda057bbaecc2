import Foundation
import PipeKit

/// Writing to stdout and stderr, and whether they are terminals. Every write goes through
/// `OutputFile` and throws `WriteError`; `Pipe.main` turns one into the exit status.
enum Terminal {
    static func write(_ text: String) throws(WriteError) {
        try OutputFile.standardOutput.write(text)
    }

    static func writeError(_ text: String) throws(WriteError) {
        try OutputFile.standardError.write(text)
    }

    static func isTerminal(_ fileDescriptor: Int32) -> Bool {
        isatty(fileDescriptor) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
    }

    /// The columns of the terminal `fileDescriptor` is, if it says.
    static func columns(_ fileDescriptor: Int32) -> Int? {
        var size = winsize()
        guard ioctl(fileDescriptor, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }

    /// Colors only on a terminal, and never when `NO_COLOR` is set (no-color.org).
    static func isColorEnabled(fileDescriptor: Int32) -> Bool {
        isTerminal(fileDescriptor) && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
    }

    /// The exit status of a command whose output could not be written. A closed pipe
    /// (`pipe lint ... | head -1`) ends it quietly with 141, what a shell reports for a tool
    /// that SIGPIPE stopped; anything else (a full disk, an I/O error) is said on stderr, if
    /// stderr still takes it, with `note` after it, and is 74 (EX_IOERR).
    static func exitStatus(for failure: WriteError, note: String? = nil) -> Int32 {
        if failure.isBrokenPipe { return PipeExit.brokenPipe }
        try? writeError("pipe: \(failure)\n" + (note.map { $0 + "\n" } ?? ""))
        return PipeExit.writeFailed
    }
}

/// A write that failed during a run, with what to tell about the run (it is recorded).
struct RunOutputFailure: Error {
    var failure: WriteError
    var note: String?
}
