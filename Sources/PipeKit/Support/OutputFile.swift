import Foundation

/// A write that failed: what was written to, and the system's reason.
public struct WriteError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was written to: "standard output", "the trace file run.jsonl".
    public var output: String
    /// The `errno` of the failed call (`ENOSPC`, `EPIPE`, `EIO`...).
    public var code: Int32

    /// The reader of a pipe has gone (`pipe lint | head -1`): not a fault to report.
    public var isBrokenPipe: Bool { code == EPIPE }

    public var description: String { "cannot write \(output): \(String(cString: strerror(code)))" }
}

/// Where pipe writes: standard output, standard error, a trace file. Every write is whole
/// or throws a `WriteError` (a full disk, a closed pipe, an I/O error); nothing is buffered.
///
/// Once a write has failed, every later one throws the same error without trying again, and
/// `failure` keeps it: a full disk is reported once, and a writer that cannot throw (a run's
/// event callback) leaves the error for whoever looks after the run. A broken pipe is an error
/// value only if SIGPIPE is ignored, which the `pipe` command does first thing.
public final class OutputFile: @unchecked Sendable {
    public let name: String
    private let descriptor: Int32
    private let owned: Bool
    private let lock = NSLock()
    /// Under `lock`.
    private var firstFailure: WriteError?
    private var closed = false

    public static let standardOutput = OutputFile(name: "standard output", descriptor: STDOUT_FILENO, owned: false)
    public static let standardError = OutputFile(name: "standard error", descriptor: STDERR_FILENO, owned: false)

    private init(name: String, descriptor: Int32, owned: Bool) {
        self.name = name
        self.descriptor = descriptor
        self.owned = owned
    }

    /// Creates the file at `path`, or empties it; `name` says what it is in errors.
    public convenience init(creating path: String, name: String) throws(WriteError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
        guard descriptor >= 0 else { throw WriteError(output: name, code: errno) }
        self.init(name: name, descriptor: descriptor, owned: true)
    }

    deinit {
        if owned, !closed { _ = systemClose(descriptor) }
    }

    /// The first write that failed, if one did.
    public var failure: WriteError? {
        lock.withLock { firstFailure }
    }

    public func write(_ text: String) throws(WriteError) {
        lock.lock()
        defer { lock.unlock() }
        if let firstFailure { throw firstFailure }
        var text = text
        let code = text.withUTF8 { writeAll($0) }
        guard code != 0 else { return }
        let error = WriteError(output: name, code: code)
        firstFailure = error
        throw error
    }

    /// Closes a file this opened; throws the first failure, or the close's own.
    public func close() throws(WriteError) {
        lock.lock()
        defer { lock.unlock() }
        if owned, !closed {
            closed = true
            if systemClose(descriptor) != 0, errno != EINTR, firstFailure == nil {
                firstFailure = WriteError(output: name, code: errno)
            }
        }
        if let firstFailure { throw firstFailure }
    }

    /// Writes every byte: 0, or the errno of the call that failed.
    private func writeAll(_ bytes: UnsafeBufferPointer<UInt8>) -> Int32 {
        guard let base = bytes.baseAddress else { return 0 }
        var offset = 0
        while offset < bytes.count {
            let written = systemWrite(descriptor, base + offset, bytes.count - offset)
            if written > 0 {
                offset += written
            } else if written < 0, errno == EINTR {
                continue
            } else if written < 0, errno == EAGAIN {
                // A descriptor left non-blocking by whoever started pipe: wait until it takes more.
                var ready = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
                _ = poll(&ready, 1, -1)
            } else {
                return written < 0 ? errno : EIO
            }
        }
        return 0
    }
}

// The C calls, named apart from `OutputFile`'s own `write` and `close`.
private func systemWrite(_ descriptor: Int32, _ bytes: UnsafePointer<UInt8>, _ count: Int) -> Int {
    write(descriptor, bytes, count)
}

private func systemClose(_ descriptor: Int32) -> Int32 {
    close(descriptor)
}
