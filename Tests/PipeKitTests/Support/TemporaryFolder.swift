import Foundation

/// A folder of its own for one test, removed when the test is done.
struct TemporaryFolder: ~Copyable {
    let url: URL

    init(_ prefix: String = "pipe-test") throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// A store in the folder, where `pipe run` would put it beside a spec here.
    var storePath: String { url.appendingPathComponent(".pipe/pipe.db").path }

    deinit { try? FileManager.default.removeItem(at: url) }
}
