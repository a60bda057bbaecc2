import Foundation

/// Validating JSON files against a schema file: the library side of `pipe check-json`.
public enum JSONDocumentCheck {
    /// Why a check could not run (exit code 2 in `pipe check-json`).
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case unreadable(file: String, reason: String)
        case notJSON(file: String, error: JSONParseError)
        case unusableSchema(file: String, error: SchemaError)
        case invalidSchema(file: String, errors: [ValidationError])

        /// One or more lines naming the file and, where known, the line and column.
        public var description: String {
            switch self {
            case let .unreadable(file, reason):
                return "\(file): cannot read: \(reason)"
            case let .notJSON(file, error):
                return "\(file):\(error.line):\(error.column): not valid JSON: \(error.message)"
            case let .unusableSchema(file, error):
                return "\(file): unusable schema: \(error)"
            case let .invalidSchema(file, errors):
                return errors.map { "\(file): not a valid JSON Schema: \($0)" }.joined(separator: "\n")
            }
        }
    }

    /// One validation error in one document, as `--format json` prints it.
    public struct Finding: Sendable, Hashable {
        public var file: String
        public var error: ValidationError

        /// `{"file", "instanceLocation", "keywordLocation", "message"}`.
        public var json: JSONValue {
            [
                "file": .string(file),
                "instanceLocation": .string(error.instanceLocation),
                "keywordLocation": .string(error.keywordLocation),
                "message": .string(error.message),
            ]
        }

        /// `FILE: INSTANCE: MESSAGE`.
        public var line: String { "\(file): \(error)" }
    }

    /// Reads, parses and compiles a schema file, and checks it against its meta-schema.
    /// Relative `$ref`s to other schema files in the same directory tree are loaded too
    /// (`"$ref": "common.schema.json#/$defs/source"`); nothing outside it, and no URL, is read.
    public static func loadSchema(path: String, assertFormat: Bool) throws(Failure) -> JSONSchema {
        let document = try parse(try read(path, limit: ReadLimits.schemaFile), name: path)
        let metaErrors = JSONSchema.metaSchemaErrors(for: document)
        if !metaErrors.isEmpty { throw .invalidSchema(file: path, errors: metaErrors) }
        let url = URL(fileURLWithPath: path).standardizedFileURL
        let remotes = try localReferences(of: document, at: url)
        do {
            let options = JSONSchemaOptions(assertFormat: assertFormat, remotes: remotes, baseURI: url.absoluteString)
            return try JSONSchema(compiling: document, options: options)
        } catch {
            throw .unusableSchema(file: path, error: error)
        }
    }

    /// The schema files that `document` (at `url`) refers to with `file:` or relative `$ref`s,
    /// transitively, limited to `url`'s directory tree; keyed by their file URL.
    static func localReferences(of document: JSONValue, at url: URL) throws(Failure) -> [String: JSONValue] {
        let root = url.deletingLastPathComponent().path + "/"
        var loaded: [String: JSONValue] = [url.absoluteString: document]
        var pending: [(JSONValue, String)] = [(document, url.absoluteString)]
        while let (value, base) = pending.popLast() {
            for reference in references(in: value) {
                let target = URIReference.split(URIReference.resolve(reference, against: base)).base
                guard target.hasPrefix("file://"), loaded[target] == nil,
                      let fileURL = URL(string: target), fileURL.standardizedFileURL.path.hasPrefix(root),
                      FileManager.default.fileExists(atPath: fileURL.path) else { continue }
                let referenced = try parse(try read(fileURL.path, limit: ReadLimits.schemaFile), name: fileURL.path)
                loaded[target] = referenced
                pending.append((referenced, target))
            }
        }
        loaded[url.absoluteString] = nil
        return loaded
    }

    /// Every `$ref` / `$dynamicRef` string in `value`.
    private static func references(in value: JSONValue) -> [String] {
        switch value {
        case .object(let object):
            var found: [String] = []
            for (key, member) in object {
                if key == "$ref" || key == "$dynamicRef", let text = member.stringValue {
                    found.append(text)
                } else {
                    found += references(in: member)
                }
            }
            return found
        case .array(let array):
            return array.flatMap(references(in:))
        default:
            return []
        }
    }

    /// The bytes of `path` (a file, a FIFO such as `<(cmd)`, a device), or of standard input
    /// for `-`: at most `limit` bytes (`ReadLimits.document` for a document,
    /// `ReadLimits.schemaFile` for a schema).
    public static func read(_ path: String, limit: Int = ReadLimits.document) throws(Failure) -> [UInt8] {
        do {
            return try BoundedRead.fileOrStandardInput(path, limit: limit)
        } catch {
            throw .unreadable(file: path == "-" ? "<stdin>" : path, reason: error.description)
        }
    }

    /// Parses `bytes` as JSON, naming `name` in the error.
    public static func parse(_ bytes: [UInt8], name: String) throws(Failure) -> JSONValue {
        do {
            return try JSONParser.parse(bytes)
        } catch {
            throw .notJSON(file: name, error: error)
        }
    }

    /// Validates one document's bytes; the findings are empty when it is valid.
    public static func check(_ bytes: [UInt8], name: String, against schema: JSONSchema, maxErrors: Int = 100) throws(Failure) -> [Finding] {
        let value = try parse(bytes, name: name)
        return schema.validate(value, maxErrors: maxErrors).map { Finding(file: name, error: $0) }
    }
}
