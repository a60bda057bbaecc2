import Foundation

/// A test file read, decoded, its spec compiled and the file checked against it: what
/// `pipe test` runs and `pipe lint` reports.
public struct LoadedTestFile: Sendable {
    public var source: SourceFile
    public var file: TestFile?
    /// The spec, as the test file names it (relative to the current directory).
    public var specPath: String
    public var pipeline: CompiledPipeline?
    /// The test file's diagnostics (its shape, then its fit to the spec).
    public var diagnostics: [Diagnostic]
    /// The spec's own diagnostics, when it did not compile.
    public var spec: (source: SourceFile, diagnostics: [Diagnostic])?
    /// The test file's directory.
    public var directory: String

    public var hasErrors: Bool {
        diagnostics.contains { $0.severity == .error } || (spec?.diagnostics.contains { $0.severity == .error } ?? false)
    }
}

/// Why a test file or its spec cannot be read at all.
public struct TestFileUnreadable: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "cannot read \(path): \(reason)" }
}

public enum TestSuiteLoader {
    /// Reads the test file at `path`, and its spec (`spec:`, else `NAME.yaml` beside it).
    public static func load(_ path: String) throws(TestFileUnreadable) -> LoadedTestFile {
        let bytes: [UInt8]
        do {
            bytes = try BoundedRead.file(path, limit: ReadLimits.spec)
        } catch {
            throw TestFileUnreadable(path: path, reason: error.description)
        }
        let source = SourceFile(path: path, bytes: bytes)
        let directory = (path as NSString).deletingLastPathComponent
        var (file, diagnostics) = TestFileDecoder.decode(source)
        let written = file?.spec
        let specName = written?.value ?? defaultSpec(for: (path as NSString).lastPathComponent)
        let specPath = TestCaseRunner.resolve(specName, in: directory)
        var loaded = LoadedTestFile(
            source: source, file: file, specPath: specPath, pipeline: nil, diagnostics: diagnostics, spec: nil,
            directory: directory.isEmpty ? "." : directory)
        guard let file else { return loaded }
        let specBytes: [UInt8]
        do {
            specBytes = try BoundedRead.file(specPath, limit: ReadLimits.spec)
        } catch {
            diagnostics.append(Diagnostic(
                .invalidValue, at: written?.span ?? .fileStart(path), "the spec \(specPath) cannot be read: \(error)",
                hint: written == nil ? "name it with `spec: FILE.yaml` (relative to the test file)" : "the path is relative to the test file"))
            loaded.diagnostics = diagnostics
            return loaded
        }
        let specSource = SourceFile(path: specPath, bytes: specBytes)
        let specDirectory = (specPath as NSString).deletingLastPathComponent
        let compiled = Compiler.compile(specSource, directory: specDirectory.isEmpty ? "." : specDirectory)
        guard let pipeline = compiled.pipeline else {
            loaded.spec = (specSource, compiled.diagnostics)
            return loaded
        }
        loaded.pipeline = pipeline
        if !diagnostics.contains(where: { $0.severity == .error }) {
            let checked = diagnostics + TestFileChecker.check(file, pipeline: pipeline, directory: loaded.directory)
            // The `evals:` section (`pipe eval`'s): what its decoder reports that the cases'
            // decoder has not already (both read `spec:`), and its fit to the spec.
            loaded.diagnostics = checked + EvalLint.lint(source, pipeline: pipeline).filter { !checked.contains($0) }
        }
        return loaded
    }

    /// `NAME.yaml` for `NAME.test.yaml`.
    static func defaultSpec(for name: String) -> String {
        for suffix in [".test.yaml", ".test.yml"] where name.hasSuffix(suffix) {
            return String(name.dropLast(suffix.count)) + ".yaml"
        }
        return name
    }
}

extension LoadedTestFile {
    /// What lint prints: the spec's diagnostics when it did not compile, then the test file's.
    public var linted: [LintedFile] {
        (spec.map { [LintedFile(source: $0.source, diagnostics: $0.diagnostics)] } ?? [])
            + [LintedFile(source: source, diagnostics: diagnostics)]
    }
}
