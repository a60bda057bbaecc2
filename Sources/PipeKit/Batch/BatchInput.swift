import Foundation

/// Reads a batch's inputs one at a time from a file or standard input, never the whole
/// file: `.jsonl` (one input per line) or `.csv` (RFC 4180: a header row, then one object per
/// row keyed by the header, every value a string). Each input is validated against the
/// spec's input schema as `pipe run` validates its input; one that fails, or is not JSON, or
/// is over `itemLimit` bytes, becomes an invalid item naming its line, and reading goes on.
///
/// Blank lines are skipped: they count for line numbers, not as items. For a spec whose
/// input is text (a `type: string` schema, or none), a line that is a JSON string is that
/// string and any other line is its text as it stands.
public struct BatchInput {
    public enum Format: String, Sendable, CaseIterable {
        case jsonl
        case csv

        /// The format a file's name says (`.csv`, otherwise JSON Lines).
        public static func of(path: String) -> Format {
            path.lowercased().hasSuffix(".csv") ? .csv : .jsonl
        }
    }

    /// Why the input cannot be read on (an I/O error, too many items): the batch stops.
    public enum Problem: Error, Sendable, CustomStringConvertible {
        case unreadable(BoundedRead.Problem)
        case tooManyItems(limit: Int)
        case noHeader

        public var description: String {
            switch self {
            case .unreadable(let problem): problem.description
            case .tooManyItems(let limit): "it has more than \(limit) items, the most one batch takes"
            case .noHeader: "a CSV input needs a header row naming its columns"
            }
        }
    }

    /// The most items one batch takes.
    public static let maxItems = 10_000_000

    /// The most items one batch takes here: `maxItems`, or less where `PIPE_BATCH_MAX_ITEMS`
    /// says (so that the limit can be reached by a test, or lowered on a small machine).
    public static func maxItems(environment: [String: String]) -> Int {
        min(maxItems, environment["PIPE_BATCH_MAX_ITEMS"].flatMap { Int($0) }.map { max(0, $0) } ?? maxItems)
    }

    let format: Format
    let isText: Bool
    let validator: JSONSchema?
    let itemLimit: Int
    let maxItems: Int
    private var lines: LineReader
    private var header: [String]?
    private var nextIndex = 0

    /// Reads from `descriptor` (left open); `schema` is the spec's input schema.
    public init(
        descriptor: Int32, format: Format, schema: JSONValue?, validator: JSONSchema?, itemLimit: Int = ReadLimits.input,
        maxItems: Int = BatchInput.maxItems
    ) {
        self.format = format
        self.isText = RunInput.isText(schema)
        self.validator = validator
        self.itemLimit = itemLimit
        self.maxItems = maxItems
        self.lines = LineReader(descriptor: descriptor, limit: itemLimit, quoted: format == .csv)
    }

    /// The next item; nil at the end of the input.
    public mutating func next() throws(Problem) -> QueuedItem? {
        try readHeader()
        while true {
            guard let record = try lines.next() else { return nil }
            if record.isBlank { continue }
            guard nextIndex < maxItems else { throw .tooManyItems(limit: maxItems) }
            defer { nextIndex += 1 }
            var json: String?
            let input = item(record, json: &json).mapError { problem in InvalidInput("line \(record.line): \(problem)") }
            return QueuedItem(index: nextIndex, line: record.line, input: input, json: json)
        }
    }

    /// Reads a CSV input's header row (its first record that is not blank), if not read yet:
    /// `next` does it first; called alone, it finds `.noHeader` before any item is read.
    public mutating func readHeader() throws(Problem) {
        guard format == .csv, header == nil else { return }
        while true {
            guard let record = try lines.next() else { throw .noHeader }
            if record.isBlank { continue }
            guard let bytes = record.bytes, let fields = CSVRecord.fields(bytes) else { throw .noHeader }
            header = fields
            return
        }
    }

    /// How many lines a regular file holds from the descriptor's offset to its end (a bound
    /// on its items: a blank line is none, a CSV row may span lines), read with `pread` so the
    /// offset stays; nil for a pipe, a terminal or any other stream, which can be read only
    /// once. Throws `.unreadable` when the file cannot be read to its end.
    public static func lineCount(descriptor: Int32) throws(Problem) -> Int? {
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { return nil }
        var offset = lseek(descriptor, 0, SEEK_CUR)
        guard offset >= 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 256 * 1024)
        var lines = 0
        var last: UInt8 = 0x0A
        while true {
            let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, offset) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .unreadable(.failure(errno))
            }
            if count == 0 { break }
            lines += buffer.withUnsafeBytes { bytes -> Int in
                guard let base = bytes.baseAddress else { return 0 }
                var found = 0
                var position = 0
                while position < count, let next = memchr(base + position, 0x0A, count - position) {
                    found += 1
                    position = base.distance(to: UnsafeRawPointer(next)) + 1
                }
                return found
            }
            last = buffer[count - 1]
            offset += off_t(count)
        }
        return lines + (last == 0x0A ? 0 : 1)
    }

    /// The item of a record; `json`: the record's own text when it is the item's JSON (what a
    /// queue stores, instead of serialising the value again).
    private func item(_ record: LineReader.Record, json: inout String?) -> Result<JSONValue, ItemProblem> {
        guard let bytes = record.bytes else { return .failure(.tooLarge(limit: itemLimit)) }
        let value: JSONValue
        switch format {
        case .jsonl:
            if isText {
                if case .string(let text)? = try? JSONParser.parse(bytes) {
                    value = .string(text)
                    json = String(decoding: bytes, as: UTF8.self)
                } else {
                    guard let text = String(validating: bytes, as: UTF8.self) else { return .failure(.notText) }
                    value = .string(text)
                }
            } else {
                do {
                    value = try JSONParser.parse(bytes)
                    json = String(decoding: bytes, as: UTF8.self)
                } catch {
                    return .failure(.notJSON(error))
                }
            }
        case .csv:
            guard let fields = CSVRecord.fields(bytes) else { return .failure(.notText) }
            let header = header ?? []
            guard fields.count == header.count else { return .failure(.fieldCount(fields.count, header: header.count)) }
            value = .object(JSONObject(zip(header, fields).map { ($0, .string($1)) }))
        }
        if let validator {
            let errors = validator.validate(value, maxErrors: 20)
            if !errors.isEmpty { return .failure(.invalid(RunInput.Problem.invalid(errors))) }
        }
        return .success(value)
    }

    private enum ItemProblem: Error, CustomStringConvertible {
        case tooLarge(limit: Int)
        case notText
        case notJSON(JSONParseError)
        case fieldCount(Int, header: Int)
        case invalid(RunInput.Problem)

        var description: String {
            switch self {
            case .tooLarge(let limit): "the item is over the \(ByteSize.text(limit)) limit"
            case .notText: "the item is not UTF-8 text"
            case .notJSON(let error): "not JSON: column \(error.column): \(error.message)"
            case .fieldCount(let count, let header): "the row has \(count) field\(count == 1 ? "" : "s"), the header \(header)"
            case .invalid(let problem): problem.description
            }
        }
    }
}

/// Splits a stream into records: lines, or for CSV rows, whose quoted fields may hold line
/// ends. A record over `limit` bytes is skipped to its end and given without its bytes.
struct LineReader {
    struct Record {
        /// 1-based line where the record starts.
        var line: Int
        /// Nil when the record was over the limit.
        var bytes: [UInt8]?

        var isBlank: Bool {
            bytes?.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D } ?? false
        }
    }

    let descriptor: Int32
    let limit: Int
    /// Whether a `"` opens a field in which line ends do not end the record (CSV).
    let quoted: Bool
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    private var start = 0
    private var end = 0
    private var finished = false
    private var line = 1

    init(descriptor: Int32, limit: Int, quoted: Bool) {
        self.descriptor = descriptor
        self.limit = limit
        self.quoted = quoted
    }

    mutating func next() throws(BatchInput.Problem) -> Record? {
        var record: [UInt8] = []
        var tooLarge = false
        var inQuotes = false
        var newlines = 0
        let first = line
        while true {
            if start == end {
                if finished { break }
                try fill()
                continue
            }
            // Up to the record's end in what is buffered.
            var index = start
            var ended = false
            while index < end {
                let byte = buffer[index]
                if byte == 0x0A {
                    newlines += 1
                    if !inQuotes {
                        ended = true
                        break
                    }
                } else if quoted, byte == 0x22 {
                    inQuotes.toggle()
                }
                index += 1
            }
            if !tooLarge {
                if record.count + (index - start) > limit {
                    tooLarge = true
                    record = []
                } else {
                    record.append(contentsOf: buffer[start..<index])
                }
            }
            start = ended ? index + 1 : index
            if ended { break }
        }
        if start == end, finished, newlines == 0, record.isEmpty, !tooLarge { return nil }
        line = first + newlines
        if record.last == 0x0D { record.removeLast() }
        return Record(line: first, bytes: tooLarge ? nil : record)
    }

    private mutating func fill() throws(BatchInput.Problem) {
        start = 0
        end = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .unreadable(.failure(errno))
            }
            if count == 0 { finished = true }
            end = count
            return
        }
    }
}

/// The fields of one CSV record (RFC 4180): separated by commas, each plain or in double
/// quotes, where `""` is a quote and commas and line ends are text. Nil when not UTF-8.
enum CSVRecord {
    static func fields(_ bytes: [UInt8]) -> [String]? {
        var fields: [String] = []
        var field: [UInt8] = []
        var inQuotes = false
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if inQuotes {
                if byte == 0x22 {
                    if index + 1 < bytes.count, bytes[index + 1] == 0x22 {
                        field.append(0x22)
                        index += 1
                    } else {
                        inQuotes = false
                    }
                } else {
                    field.append(byte)
                }
            } else if byte == 0x22 {
                inQuotes = true
            } else if byte == 0x2C {
                guard let text = String(validating: field, as: UTF8.self) else { return nil }
                fields.append(text)
                field = []
            } else {
                field.append(byte)
            }
            index += 1
        }
        guard let text = String(validating: field, as: UTF8.self) else { return nil }
        fields.append(text)
        return fields
    }
}
