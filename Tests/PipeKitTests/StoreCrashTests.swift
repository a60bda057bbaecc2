import Foundation
import Testing
@testable import PipeKit

/// `kill -9` in the middle of writing: the store opens, keeps every record written before
/// the kill, and shows the runs that were under way as interrupted.
@Suite struct StoreCrashTests {
    @Test func aWriterKilledMidRunLeavesAConsistentStore() async throws {
        let folder = try TemporaryFolder()
        let process = Process()
        process.executableURL = Paths.pipeExecutable.deletingLastPathComponent().appendingPathComponent("pipe-bench")
        process.arguments = ["store", "--store", folder.storePath, "--runs", "100000", "--stages", "3", "--concurrency", "2"]
        process.standardOutput = FileHandle.nullDevice
        try process.runUnblocked()
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

        // Wait until it has finished a few runs, then kill it without warning.
        let deadline = ContinuousClock.now + .seconds(30)
        var store: RunStore?
        while ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            guard FileManager.default.fileExists(atPath: folder.storePath) else { continue }
            if store == nil { store = try? RunStore(path: folder.storePath) }
            if let store, (try? await store.runs(limit: 10).filter { $0.status == .succeeded }.count) ?? 0 >= 5 { break }
        }
        kill(process.processIdentifier, SIGKILL)
        await onOwnThread { process.waitUntilExit() }
        #expect(process.terminationReason == .uncaughtSignal)

        let reopened = try RunStore(path: folder.storePath)
        let integrity = try await reopened.database.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
        #expect(integrity == ["ok"])
        let rows = try await reopened.runs(limit: 1_000_000)
        #expect(rows.count >= 5)
        #expect(rows.allSatisfy { $0.status == .succeeded || $0.status == .running })
        for row in rows {
            let detail = try #require(try await reopened.run(row.id))
            if row.status == .succeeded {
                #expect(detail.calls.count == 3 && detail.stages.count == 3)
            } else {
                // Under way when it was killed: what it recorded is there, and it shows as interrupted.
                #expect(row.displayStatus == .interrupted)
                #expect(detail.stages.count <= 3 && detail.calls.count >= detail.stages.count)
            }
        }
        // The store goes on being used.
        let id = try await reopened.startRun(StoreSamples.newRun())
        #expect(try await reopened.run(id)?.row.status == .running)
    }
}
