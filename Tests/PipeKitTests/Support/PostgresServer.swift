import Foundation
@testable import PipeKit

/// A PostgreSQL server of Debian's `postgresql` package, started once per test process in a
/// temporary folder: it listens on a unix socket in that folder and on 127.0.0.1 at a free
/// port, trusts local connections, and is stopped (its folder removed) when the test
/// process exits, or dies: a watchdog shell stops it then. PostgreSQL refuses to run as
/// root, so as root (CI) it runs as the system user `pipe-test`, created when missing.
/// Each test takes a database of its own (`database()`).
final class PostgresServer: Sendable {
    let folder: String
    let port: Int
    let user = "postgres"

    /// The server, started by the first test that asks (on a thread of its own: initdb and
    /// the start take a second or two).
    static func shared() async throws -> PostgresServer {
        try await onOwnThread { try started.get() }
    }

    private static let started = Result { try PostgresServer() }
    private static let databases = Locked(0)

    /// A new empty database, as a URL over the unix socket.
    func database() async throws -> String {
        url(database: try await createDatabase())
    }

    /// A new empty database; returns its name.
    func createDatabase() async throws -> String {
        let name = "test_\(getpid())_\(Self.databases.withLock { $0 += 1; return $0 })"
        let admin = try PostgresClient(url: url(database: "postgres"), connections: 1)
        try await admin.withConnection { connection throws(PostgresError) in
            try connection.execute("CREATE DATABASE \(name)")
        }
        return name
    }

    /// `postgres://postgres@/DB?host=FOLDER`: over the unix socket.
    func url(database: String) -> String {
        "postgres://\(user)@:\(port)/\(database)?host=\(folder)"
    }

    /// `postgres://postgres@127.0.0.1:PORT/DB`: over TCP.
    func tcpURL(database: String) -> String {
        "postgres://\(user)@127.0.0.1:\(port)/\(database)"
    }

    private init() throws {
        let binaries = try Self.binaries()
        let asRoot = getuid() == 0
        if asRoot { try Self.ensureUser() }
        folder = "/tmp/pipe-pg-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        let log = folder + "/setup.log"
        if asRoot { try Self.run(["/bin/chown", Self.systemUser, folder], log: log) }
        port = try Self.freePort()
        let data = folder + "/data"
        let asUser = asRoot ? ["/usr/sbin/runuser", "-u", Self.systemUser, "--"] : []
        try Self.run(
            asUser + [binaries + "/initdb", "-D", data, "-U", user, "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"],
            log: log)
        let options = "-k \(folder) -p \(port) -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off"
            + " -c full_page_writes=off -c max_connections=200"
        try Self.run(asUser + [binaries + "/pg_ctl", "-D", data, "-o", options, "-l", folder + "/server.log", "-w", "start"], log: log)
        // The watchdog outlives a test process that dies without running `atexit`: it stops the server then.
        let stop = (asUser + [binaries + "/pg_ctl", "-D", data, "stop", "-m", "immediate"]).joined(separator: " ")
            + " >/dev/null 2>&1; rm -rf " + folder
        _ = try Self.spawn(["/bin/sh", "-c", "while [ -d /proc/\(getpid()) ]; do sleep 0.5; done; " + stop], output: "/dev/null")
        Self.stopAtExit.withLock { $0 = stop }
        atexit { if let stop = PostgresServer.stopAtExit.withLock({ $0 }) { _ = system(stop) } }
    }

    private static let stopAtExit = Locked<String?>(nil)

    static let systemUser = "pipe-test"

    /// The newest installed version's `bin` folder.
    private static func binaries() throws -> String {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        guard let newest = versions.compactMap(Int.init).max() else {
            throw SetupError("PostgreSQL is not installed: run scripts/test-deps.sh")
        }
        return "/usr/lib/postgresql/\(newest)/bin"
    }

    /// Creates the unprivileged user the server runs as (another test process may be doing the same).
    private static func ensureUser() throws {
        if getpwnam(systemUser) != nil { return }
        _ = try? run(["/usr/sbin/useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", systemUser], log: "/dev/null")
        guard getpwnam(systemUser) != nil else { throw SetupError("could not create the user \(systemUser)") }
    }

    /// A TCP port nothing listens on now.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else { throw SetupError("no free port: \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Runs a command to its end, its output appended to `log`; fails with the log when it fails.
    /// (posix_spawn and waitpid, not `Process`: its exit can go unnoticed when the command
    /// leaves a daemon behind, as `pg_ctl start` does.)
    private static func run(_ arguments: [String], log: String) throws {
        let pid = try spawn(arguments, output: log)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1, errno == EINTR {}
        guard status == 0 else {
            let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw SetupError("\(arguments.joined(separator: " ")) failed (wait status \(status)): \(output)")
        }
    }

    /// Starts a command with stdin from /dev/null and stdout and stderr appended to `output`.
    private static func spawn(_ arguments: [String], output: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        // No signal blocked, and SIGINT, SIGTERM, SIGHUP as by default, as a shell starts it:
        // the test's thread blocks most signals, which a child would keep (`runUnblocked`).
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), defaults = sigset_t()
        sigemptyset(&none)
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGPIPE] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid = pid_t()
        let result = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, environ)
        guard result == 0 else { throw SetupError("cannot run \(arguments[0]): \(String(cString: strerror(result)))") }
        return pid
    }

    struct SetupError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
