import Foundation
import PipeKit

/// Reading a spec named on the command line (`-` is standard input).
enum SpecFile {
    struct Unreadable: Error, CustomStringConvertible {
        var path: String
        var reason: String
        var description: String { "pipe: cannot read \(path): \(reason)" }
    }

    /// The file's text and the directory its relative schema paths start from. A FIFO
    /// (`<(cat spec)`) is read too; no more than `ReadLimits.spec` bytes are.
    static func read(_ path: String) throws(Unreadable) -> (source: SourceFile, directory: String) {
        let name = path == "-" ? "<stdin>" : path
        let bytes: [UInt8]
        do {
            bytes = try BoundedRead.fileOrStandardInput(path, limit: ReadLimits.spec)
        } catch {
            let hint = switch error {
            case .isDirectory: "; name the spec files"
            case .tooLarge: " for a spec"
            case .system: ""
            }
            throw Unreadable(path: name, reason: error.description + hint)
        }
        if path == "-" { return (SourceFile(path: name, bytes: bytes), FileManager.default.currentDirectoryPath) }
        let directory = (path as NSString).deletingLastPathComponent
        return (SourceFile(path: name, bytes: bytes), directory.isEmpty ? "." : directory)
    }

    /// A spec read and compiled.
    struct Compiled: Sendable {
        var source: SourceFile
        var result: Compiler.Result
    }

    static func compile(_ path: String) throws(Unreadable) -> Compiled {
        let (source, directory) = try read(path)
        return Compiled(source: source, result: Compiler.compile(source, directory: directory))
    }

    /// `compileOrExit`, taking the spec compiled since the process started
    /// (`EarlyStart.compile`) when it is the one `path` names.
    static func earlyCompiledOrExit(_ path: String, quiet: Bool) async throws -> CompiledPipeline {
        guard let early = EarlyStart.compile, early.path == path else { return try compileOrExit(path, quiet: quiet) }
        return try reportOrExit(await early.compiled.value, quiet: quiet)
    }

    /// Compiles a spec; on errors prints the diagnostics on stderr and exits 2.
    static func compileOrExit(_ path: String, quiet: Bool = false) throws -> CompiledPipeline {
        try reportOrExit(Result { () throws(Unreadable) in try compile(path) }, quiet: quiet)
    }

    /// The pipeline, printing its warnings unless `quiet`; or its errors (or why the spec
    /// cannot be read) printed, and exit 2.
    private static func reportOrExit(_ compiled: Result<Compiled, Unreadable>, quiet: Bool) throws -> CompiledPipeline {
        let source: SourceFile, result: Compiler.Result
        switch compiled {
        case .success(let compiled): (source, result) = (compiled.source, compiled.result)
        case .failure(let error):
            try Terminal.writeError("\(error)\n")
            throw ExitCodeError(code: 2)
        }
        let color = Terminal.isColorEnabled(fileDescriptor: 2)
        if let pipeline = result.pipeline {
            var warnings = result
            warnings.diagnostics = result.diagnostics.filter { $0.severity != .error }
            if !warnings.diagnostics.isEmpty, !quiet {
                try TextFormat(color: color).write(warnings.lintedFiles(source).filter { !$0.diagnostics.isEmpty }, to: Terminal.writeError)
            }
            return pipeline
        }
        try TextFormat(color: color).write(result.lintedFiles(source), to: Terminal.writeError)
        throw ExitCodeError(code: 2)
    }
}

/// Ends the command with an exit code (ArgumentParser's `ExitCode`, kept out of PipeKit).
struct ExitCodeError: Error {
    var code: Int32
}
