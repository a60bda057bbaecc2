import Foundation
import Subprocess

/// The one way pipe runs a program (a command stage's `run:`): in a process group of its own,
/// with exactly the environment it is given, its stdout and stderr read with limits, and the
/// whole group ended when it is over its time, when the task that waits for it is cancelled
/// (Ctrl-C), and when it exits (a background process it left behind does not outlive it).
/// Spawning and waiting go through swift-subprocess, whose own thread watches the child: no
/// thread of Swift's pool or the HTTP thread waits for it.
struct ChildProcess: Sendable {
    /// The program: a name looked up in the `PATH` of `environment` (else pipe's own), or a
    /// path (with a `/`), relative to `workingDirectory`.
    var program: String
    var arguments: [String]
    /// The whole environment the program sees.
    var environment: [String: String]
    var workingDirectory: String
    var stdin: String?
    var timeout: Duration
    /// stdout past this many bytes ends the program: its output is not read further.
    var stdoutLimit: Int
    /// The end of stderr kept for messages, in bytes.
    var stderrTail: Int = 4096
    /// Between SIGTERM and SIGKILL when the program is over its time.
    var grace: Duration = .seconds(2)

    /// How the program ended.
    struct Ended: Sendable {
        enum Status: Sendable, Equatable {
            case exited(Int32)
            case signalled(Int32)
        }

        var status: Status
        var stdout: [UInt8]
        /// The last `stderrTail` bytes of stderr, as text.
        var stderr: String
        /// It ran past `timeout` and was killed.
        var timedOut: Bool
        /// Its stdout passed `stdoutLimit`, and it was killed.
        var stdoutOverflowed: Bool
    }

    /// Why the program could not be started.
    struct SpawnError: Error, Sendable, CustomStringConvertible {
        var program: String
        var reason: String

        var description: String { "cannot run `\(program)`: \(reason)" }
    }

    /// Runs the program to its end; a cancelled task kills its process group at once.
    func run() async throws(SpawnError) -> Ended {
        let result: Result<Ended, SpawnError> = await withTaskExecutorPreference(globalConcurrentExecutor) {
            do {
                return .success(try await spawn())
            } catch let error as SpawnError {
                return .failure(error)
            } catch {
                return .failure(SpawnError(program: program, reason: Self.reason(error)))
            }
        }
        return try result.get()
    }

    /// How pipe starts any program (a command stage's, a stdio tool server's): a `program`
    /// named without a `/` is looked up on the `PATH` (of `environment`, else pipe's own), one
    /// with a `/` is a path from `workingDirectory`; exactly `environment`, passed keyed
    /// (swift-subprocess 1.0.2 strdup()s raw "NAME=value" bytes, which would need a terminating
    /// NUL); in a process group of its own, so that the whole group can be signalled (and
    /// Ctrl-C on the terminal reaches pipe, which ends the group itself).
    static func configuration(
        program: String, arguments: [String], environment: [String: String], workingDirectory: String
    ) -> Configuration {
        let executable: Executable = program.contains("/") ? .path(.init(path(of: program, in: workingDirectory))) : .name(program)
        var options = PlatformOptions()
        options.processGroupID = 0
        let keys = Dictionary(uniqueKeysWithValues: environment.compactMap { name, value in
            Environment.Key(rawValue: name).map { ($0, value) }
        })
        return Configuration(
            executable: executable, arguments: Arguments(arguments), environment: .custom(keys),
            workingDirectory: .init(workingDirectory), platformOptions: options)
    }

    /// A program written with a `/`: absolute, or relative to `workingDirectory`.
    private static func path(of program: String, in workingDirectory: String) -> String {
        program.hasPrefix("/") ? program : workingDirectory + "/" + program
    }

    private func spawn() async throws -> Ended {
        if program.contains("/") {
            let path = Self.path(of: program, in: workingDirectory)
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw SpawnError(program: program, reason: "no executable file at \(path)")
            }
        }
        let configuration = Self.configuration(
            program: program, arguments: arguments, environment: environment, workingDirectory: workingDirectory)
        let limits = (stdout: stdoutLimit, stderr: stderrTail, timeout: timeout, grace: grace)
        let input = try stdinFile()
        let record = try await Subprocess.run(
            configuration, input: .fileDescriptor(.init(rawValue: input), closeAfterSpawningProcess: true),
            output: .sequence, error: .sequence
        ) { execution in
            let group = -execution.processIdentifier.value
            RunningPrograms.groups.withLock { _ = $0.insert(group) }
            defer { RunningPrograms.groups.withLock { _ = $0.remove(group) } }
            return await withTaskCancellationHandler {
                await Self.collect(execution, group: group, limits: limits)
            } onCancel: {
                kill(group, SIGKILL)
            }
        }
        // Whatever of its group is left (a background process) ends with it.
        kill(-record.processIdentifier.value, SIGKILL)
        var ended = record.closureResult
        switch record.terminationStatus {
        case .exited(let code): ended.status = .exited(code)
        case .signaled(let signal): ended.status = .signalled(signal)
        }
        return ended
    }

    /// What the program reads on stdin: a file holding `stdin`, already unlinked (or
    /// /dev/null). A file, not a pipe: a program that exits without reading all of it leaves
    /// no write pending (swift-subprocess 1.0.2 traps on the pipe a child closed early).
    private func stdinFile() throws(SpawnError) -> Int32 {
        guard let stdin, !stdin.isEmpty else {
            let fd = open("/dev/null", O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw SpawnError(program: program, reason: "cannot open /dev/null for stdin") }
            return fd
        }
        let directory = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array((directory + "/pipe-stdin-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0, fcntl(fd, F_SETFD, FD_CLOEXEC) == 0 else {
            throw SpawnError(program: program, reason: "cannot write its stdin to \(directory): \(String(cString: strerror(errno)))")
        }
        unlink(template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
        var bytes = Array(stdin.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else {
                close(fd)
                throw SpawnError(program: program, reason: "cannot write its stdin to \(directory): \(String(cString: strerror(errno)))")
            }
            bytes = bytes.dropFirst(written)
        }
        lseek(fd, 0, SEEK_SET)
        return fd
    }

    /// Reads stdout (up to its limit) and stderr (its tail) to their end, and ends the group
    /// when the time is over or stdout too long: SIGTERM, then SIGKILL once stdout and stderr
    /// are closed or `grace` has passed, whichever comes first.
    private static func collect(
        _ execution: Execution<FileDescriptorInput, SequenceOutput, SequenceOutput>, group: pid_t,
        limits: (stdout: Int, stderr: Int, timeout: Duration, grace: Duration)
    ) async -> Ended {
        enum Part: Sendable {
            case stdout([UInt8], overflowed: Bool)
            case stderr([UInt8])
            case timedOut
            case done
        }
        return await withTaskGroup(of: Part.self) { tasks in
            tasks.addTask {
                var bytes: [UInt8] = []
                do {
                    for try await buffer in execution.standardOutput {
                        buffer.withUnsafeBytes { bytes.append(contentsOf: $0) }
                        if bytes.count > limits.stdout { return .stdout(Array(bytes.prefix(limits.stdout)), overflowed: true) }
                    }
                } catch {}
                return .stdout(bytes, overflowed: false)
            }
            tasks.addTask {
                var tail: [UInt8] = []
                do {
                    for try await buffer in execution.standardError {
                        buffer.withUnsafeBytes { tail.append(contentsOf: $0) }
                        if tail.count > 2 * limits.stderr { tail.removeFirst(tail.count - limits.stderr) }
                    }
                } catch {}
                return .stderr(Array(tail.suffix(limits.stderr)))
            }
            tasks.addTask {
                do { try await Task.sleep(for: limits.timeout) } catch { return .done }
                return .timedOut
            }
            var ended = Ended(status: .exited(0), stdout: [], stderr: "", timedOut: false, stdoutOverflowed: false)
            var open = 2
            var terminating = false
            func terminate() {
                guard !terminating else { return }
                terminating = true
                kill(group, SIGTERM)
                tasks.addTask {
                    // Cancelled once stdout and stderr are closed: what is left is killed then.
                    try? await Task.sleep(for: limits.grace)
                    kill(group, SIGKILL)
                    return .done
                }
            }
            while open > 0, let part = await tasks.next() {
                switch part {
                case .stdout(let bytes, let overflowed):
                    ended.stdout = bytes
                    ended.stdoutOverflowed = overflowed
                    open -= 1
                    if overflowed { terminate() }
                case .stderr(let bytes):
                    ended.stderr = String(decoding: bytes, as: UTF8.self)
                    open -= 1
                case .timedOut:
                    ended.timedOut = true
                    terminate()
                case .done:
                    break
                }
            }
            tasks.cancelAll()
            return ended
        }
    }

    private static func reason(_ error: any Error) -> String {
        if let error = error as? SubprocessError {
            switch error.code {
            case .executableNotFound: return "not found in PATH"
            default: return error.description
            }
        }
        return String(describing: error)
    }
}

/// The process groups of the programs pipe is running (negative pids, as `kill` takes them).
public enum RunningPrograms {
    static let groups = Locked<Set<pid_t>>([])

    /// Kills every program running, with its process group: for a process about to exit
    /// without waiting for its tasks (a second Ctrl-C).
    public static func killAll() {
        for group in groups.withLock({ $0 }) { kill(group, SIGKILL) }
    }
}
