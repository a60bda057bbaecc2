import Foundation
import PipeKit

/// Reading a spec named on the command line (`-` is standard input).
enum SpecFile {
    struct Unreadable: Error, CustomStringConvertible {
        var path: String
        var reason: String
        var description: String { "pipe: cannot read \(path): \(reason)" }
    }

    /// The file's text and the directory its relative schema paths start from.
    static func read(_ path: String) throws(Unreadable) -> (source: SourceFile, directory: String) {
        if path == "-" {
            let data = FileHandle.standardInput.readDataToEndOfFile()
            return (SourceFile(path: "<stdin>", bytes: [UInt8](data)), FileManager.default.currentDirectoryPath)
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw Unreadable(path: path, reason: "no such file")
        }
        guard !isDirectory.boolValue else { throw Unreadable(path: path, reason: "it is a directory; name the spec files") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Unreadable(path: path, reason: "permission denied or not a regular file")
        }
        let directory = (path as NSString).deletingLastPathComponent
        return (SourceFile(path: path, bytes: [UInt8](data)), directory.isEmpty ? "." : directory)
    }

    /// Compiles a spec; on errors prints the diagnostics on stderr and exits 2.
    static func compileOrExit(_ path: String, quiet: Bool = false) throws -> CompiledPipeline {
        let (source, directory) = try readOrExit(path)
        let result = Compiler.compile(source, directory: directory)
        let color = Terminal.isColorEnabled(fileDescriptor: 2)
        let warnings = result.diagnostics.filter { $0.severity != .error }
        if let pipeline = result.pipeline {
            if !warnings.isEmpty, !quiet {
                try TextFormat(color: color).write([LintedFile(source: source, diagnostics: warnings)], to: Terminal.writeError)
            }
            return pipeline
        }
        try TextFormat(color: color).write([LintedFile(source: source, diagnostics: result.diagnostics)], to: Terminal.writeError)
        throw ExitCodeError(code: 2)
    }

    static func readOrExit(_ path: String) throws -> (source: SourceFile, directory: String) {
        do {
            return try read(path)
        } catch {
            try Terminal.writeError("\(error)\n")
            throw ExitCodeError(code: 2)
        }
    }
}

/// Ends the command with an exit code (ArgumentParser's `ExitCode`, kept out of PipeKit).
struct ExitCodeError: Error {
    var code: Int32
}
