import Foundation

/// Where the repository's files are, for tests that read examples and golden files.
enum Paths {
    /// The repository root: three levels up from this file (Tests/PipeKitTests/Support).
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let testdata = root.appendingPathComponent("Tests/testdata")
    static let pipelines = root.appendingPathComponent("pipelines")

    /// `shared/` sits beside the repository, on developer machines and in CI.
    static let shared = root.deletingLastPathComponent().appendingPathComponent("shared")

    /// The files of a directory with this extension, test files (`NAME.test.yaml`) aside:
    /// `pipelines/*.yaml` are the example specs.
    static func files(in directory: URL, withExtension ext: String) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix("." + ext) && !$0.hasSuffix(".test." + ext) }.sorted().map { directory.appendingPathComponent($0) }
    }

    /// The test files (`NAME.test.yaml`) of a directory.
    static func testFiles(in directory: URL) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".test.yaml") }.sorted().map { directory.appendingPathComponent($0) }
    }

    /// The built `pipe` executable, beside the test bundle in the build folder.
    static var pipeExecutable: URL {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        var directory = exe.deletingLastPathComponent()
        while directory.path != "/" {
            let candidate = directory.appendingPathComponent("pipe")
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue {
                return candidate
            }
            directory = directory.deletingLastPathComponent()
        }
        return root.appendingPathComponent(".build/debug/pipe")
    }
}
