import Foundation

/// Which process is running a run right now. A process holds a run from the moment it starts
/// (or resumes, or approves) it until it records its end, or until the process ends: a run
/// killed with `kill -9` is free again at once. `pipe run --resume` and `pipe approve` refuse
/// a run another process holds, and `pipe logs` shows a `running` run that nobody holds as
/// interrupted. A protocol, so that a store on a server can lease runs its own way.
public protocol RunLeases: Sendable {
    /// Holds `runID` for this process. Throws `StoreError.runInUse`, naming the holder, when
    /// a process (this one included) holds it.
    func acquire(_ runID: String) throws(StoreError)
    /// Lets go of `runID`, if this process holds it.
    func release(_ runID: String)
    /// The process that holds `runID`, or nil when none does.
    func holder(of runID: String) -> RunHolder?
}

/// The process holding a run.
public struct RunHolder: Sendable, Equatable, CustomStringConvertible {
    /// Nil when the holder has not said yet (it has only just taken the run).
    public var pid: Int32?
    public var host: String?
    public var since: Date?

    /// This process, now.
    static var current: RunHolder { RunHolder(pid: getpid(), host: hostName(), since: Date()) }

    /// `process 4242 on build-7 since 2026-11-21T06:15:02.311Z`.
    public var description: String {
        guard let pid else { return "another process" }
        return "process \(pid)" + (host.map { " on \($0)" } ?? "") + (since.map { " since \(StoreTime.text($0))" } ?? "")
    }

    public static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `pid\nhost\nsince\n`, as the lock file holds it.
    var text: String {
        "\(pid.map(String.init) ?? "")\n\(host ?? "")\n\(since.map(StoreTime.text) ?? "")\n"
    }

    init(pid: Int32?, host: String?, since: Date?) {
        self.pid = pid
        self.host = host
        self.since = since
    }

    init(text: String) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        pid = lines.first.flatMap { Int32($0) }
        host = lines.count > 1 && !lines[1].isEmpty ? lines[1] : nil
        since = lines.count > 2 ? StoreTime.date(lines[2]) : nil
    }
}

/// Runs held with an exclusive `flock` on a file per run (`<store>.locks/<run-id>.lock`),
/// which the kernel releases when the process ends, however it ends. The holder writes its
/// pid, host and start time into the file for the messages of the processes it turns away.
/// A released run's file is removed; one left by a killed process is taken over.
public final class FileRunLeases: RunLeases {
    public let directory: String
    /// The lock files this process holds, by run id.
    private let held = Locked<[String: Int32]>([:])

    public init(directory: String) {
        self.directory = directory
    }

    func path(_ runID: String) -> String {
        (directory as NSString).appendingPathComponent(runID + ".lock")
    }

    public func acquire(_ runID: String) throws(StoreError) {
        let path = path(runID)
        if mkdir(directory, 0o700) != 0, errno != EEXIST { throw Self.failure(path, errno) }
        // A few rounds: the file may be removed by its holder between our `open` and `flock`,
        // or a `holder(of:)` may be looking at it for an instant.
        for _ in 0..<100 {
            let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            guard descriptor >= 0 else { throw Self.failure(path, errno) }
            if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
                let code = errno
                guard code == EWOULDBLOCK else {
                    close(descriptor)
                    throw Self.failure(path, code)
                }
                // Shared holds are only lookers; an exclusive one is a live process.
                if flock(descriptor, LOCK_SH | LOCK_NB) == 0 {
                    close(descriptor)
                    usleep(1000)
                    continue
                }
                let holder = Self.holder(descriptor)
                close(descriptor)
                throw .runInUse(runID: runID, holder: holder)
            }
            guard Self.isLinked(descriptor, at: path) else {
                close(descriptor)
                continue
            }
            let text = Array(RunHolder.current.text.utf8)
            // Written over what a killed holder left, then cut to its length, never truncated
            // to nothing first: on ext4 a file truncated to 0 and then written is flushed to
            // disk when it is closed ("auto_da_alloc"), and `release` closes it on the run's
            // critical path, which cost 4–7 ms (up to 30 ms) a run on a busy disk
            // (BENCHMARKS.md, "The run store's last milliseconds").
            guard pwrite(descriptor, text, text.count, 0) == text.count, Self.cut(descriptor, to: text.count) else {
                let code = errno
                close(descriptor)
                throw Self.failure(path, code)
            }
            held.withLock { $0[runID] = descriptor }
            return
        }
        throw .lease(path: path, reason: "it keeps changing hands; try again")
    }

    public func release(_ runID: String) {
        guard let descriptor = held.withLock({ $0.removeValue(forKey: runID) }) else { return }
        // Removed before it is unlocked, so that nobody takes a file that is going away.
        unlink(path(runID))
        close(descriptor)
    }

    public func holder(of runID: String) -> RunHolder? {
        let descriptor = open(path(runID), O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        guard flock(descriptor, LOCK_SH | LOCK_NB) != 0 else { return nil }
        return Self.holder(descriptor)
    }

    /// What the holder wrote in the file.
    private static func holder(_ descriptor: Int32) -> RunHolder {
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = pread(descriptor, &buffer, buffer.count, 0)
        return RunHolder(text: String(decoding: buffer.prefix(max(0, count)), as: UTF8.self))
    }

    /// Cuts the file to `length` bytes if it is longer (a killed holder's longer text).
    private static func cut(_ descriptor: Int32, to length: Int) -> Bool {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return false }
        return status.st_size <= length || ftruncate(descriptor, off_t(length)) == 0
    }

    /// Whether `path` still names the open file (its last holder may have removed it).
    private static func isLinked(_ descriptor: Int32, at path: String) -> Bool {
        var opened = stat(), named = stat()
        return fstat(descriptor, &opened) == 0 && stat(path, &named) == 0
            && opened.st_dev == named.st_dev && opened.st_ino == named.st_ino
    }

    private static func failure(_ path: String, _ code: Int32) -> StoreError {
        .lease(path: path, reason: String(cString: strerror(code)))
    }
}
