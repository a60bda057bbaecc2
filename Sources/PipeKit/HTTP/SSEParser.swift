/// One server-sent event.
public struct SSEEvent: Sendable, Equatable {
    /// The `event:` field, `"message"` when the event had none.
    public var event: String
    /// The `data:` lines joined with `\n`.
    public var data: String
    /// The last `id:` seen on the stream so far, nil if none.
    public var id: String?

    public init(event: String = "message", data: String, id: String? = nil) {
        self.event = event
        self.data = data
        self.id = id
    }
}

/// An incremental parser of a `text/event-stream` body, following the WHATWG
/// HTML "event stream interpretation": feed it byte chunks split anywhere (even
/// inside a line ending or a UTF-8 sequence) and take the complete events.
///
/// Lines end in `\r\n`, `\n` or `\r`; a line starting with `:` is a comment;
/// an event is dispatched at a blank line and only if it has data. An unfinished
/// event at the end of the stream is dropped, as the standard says.
///
/// A line, or the data of one event, longer than `maxEventBytes` makes the parser
/// `overflowed`: it keeps nothing more and dispatches no further event.
public struct SSEParser: Sendable {
    /// The most bytes one unfinished line, or the data lines of one event, may hold.
    public let maxEventBytes: Int
    /// A line or an event passed `maxEventBytes`.
    public private(set) var overflowed = false
    /// The start of a line whose end has not arrived yet.
    private var line: [UInt8] = []
    private var skipLineFeed = false
    private var atStreamStart = true
    private var eventType = ""
    private var data: [UInt8] = []
    private var hasData = false
    private var lastEventID: String?
    /// The reconnection delay from the last valid `retry:` field, in milliseconds.
    public private(set) var retry: Int?

    public init(maxEventBytes: Int = .max) {
        self.maxEventBytes = maxEventBytes
    }

    /// Whether part of an event has been read but not dispatched yet.
    public var hasPendingEvent: Bool { hasData || !line.isEmpty }

    /// Parses `chunk` and returns the events it completes, in order.
    public mutating func feed(_ chunk: some Sequence<UInt8>) -> [SSEEvent] {
        var events: [SSEEvent] = []
        let fed: Void? = chunk.withContiguousStorageIfAvailable { feed($0, into: &events) }
        if fed == nil { Array(chunk).withUnsafeBufferPointer { feed($0, into: &events) } }
        return events
    }

    /// Scans for line ends and hands each whole line to `endLine` without copying it,
    /// unless it began in an earlier chunk.
    private mutating func feed(_ bytes: UnsafeBufferPointer<UInt8>, into events: inout [SSEEvent]) {
        guard !overflowed else { return }
        var index = 0
        if skipLineFeed, !bytes.isEmpty {
            skipLineFeed = false
            if bytes[0] == 0x0A { index = 1 }
        }
        var lineStart = index
        while index < bytes.count {
            let byte = bytes[index]
            guard byte == 0x0A || byte == 0x0D else {
                index += 1
                continue
            }
            let rest = UnsafeBufferPointer(rebasing: bytes[lineStart..<index])
            if line.isEmpty {
                endLine(rest, into: &events)
            } else {
                var whole = line
                line = []
                whole.append(contentsOf: rest)
                whole.withUnsafeBufferPointer { endLine($0, into: &events) }
                whole.removeAll(keepingCapacity: true)
                line = whole
            }
            if overflowed { return }
            index += 1
            if byte == 0x0D {
                // `\r\n` is one line end, even when the `\n` comes in the next chunk.
                if index == bytes.count {
                    skipLineFeed = true
                } else if bytes[index] == 0x0A {
                    index += 1
                }
            }
            lineStart = index
        }
        guard line.count + (bytes.count - lineStart) <= maxEventBytes else { return overflow() }
        line.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[lineStart...]))
    }

    private mutating func overflow() {
        overflowed = true
        line = []
        data = []
        hasData = false
    }

    private mutating func endLine(_ whole: UnsafeBufferPointer<UInt8>, into events: inout [SSEEvent]) {
        var bytes = whole[...]
        if atStreamStart {
            atStreamStart = false
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }  // a byte order mark
        }
        if bytes.isEmpty {
            dispatch(into: &events)
            return
        }
        if bytes.first == UInt8(ascii: ":") { return }
        let field: Slice<UnsafeBufferPointer<UInt8>>
        var value: Slice<UnsafeBufferPointer<UInt8>>
        if let colon = bytes.firstIndex(of: UInt8(ascii: ":")) {
            field = bytes[..<colon]
            value = bytes[(colon + 1)...]
            if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
        } else {
            field = bytes
            value = bytes[bytes.endIndex...]
        }
        if Self.field(field, is: "data") {
            guard data.count + 1 + value.count <= maxEventBytes else { return overflow() }
            if hasData { data.append(0x0A) }
            data.append(contentsOf: value)
            hasData = true
        } else if Self.field(field, is: "event") {
            eventType = String(decoding: value, as: UTF8.self)
        } else if Self.field(field, is: "id") {
            if !value.contains(0) { lastEventID = String(decoding: value, as: UTF8.self) }
        } else if Self.field(field, is: "retry") {
            if !value.isEmpty, value.allSatisfy({ (0x30...0x39).contains($0) }) { retry = Int(String(decoding: value, as: UTF8.self)) }
        }
        // Unknown fields are ignored.
    }

    /// Whether a line's field name is `name`: a byte comparison (`elementsEqual` with a
    /// string's UTF-8 view went through the generic sequence path, 200 instructions a line).
    private static func field(_ field: Slice<UnsafeBufferPointer<UInt8>>, is name: StaticString) -> Bool {
        guard field.count == name.utf8CodeUnitCount else { return false }
        let bytes = name.utf8Start
        var offset = 0
        for byte in field {
            if bytes[offset] != byte { return false }
            offset += 1
        }
        return true
    }

    private mutating func dispatch(into events: inout [SSEEvent]) {
        defer {
            eventType = ""
            data.removeAll(keepingCapacity: true)
            hasData = false
        }
        guard hasData else { return }
        events.append(SSEEvent(event: eventType.isEmpty ? "message" : eventType, data: String(decoding: data, as: UTF8.self), id: lastEventID))
    }
}
