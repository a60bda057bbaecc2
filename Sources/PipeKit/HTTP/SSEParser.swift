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
public struct SSEParser: Sendable {
    private var line: [UInt8] = []
    private var skipLineFeed = false
    private var atStreamStart = true
    private var eventType = ""
    private var data = ""
    private var hasData = false
    private var lastEventID: String?
    /// The reconnection delay from the last valid `retry:` field, in milliseconds.
    public private(set) var retry: Int?

    public init() {}

    /// Whether part of an event has been read but not dispatched yet.
    public var hasPendingEvent: Bool { hasData || !line.isEmpty }

    /// Parses `chunk` and returns the events it completes, in order.
    public mutating func feed(_ chunk: some Sequence<UInt8>) -> [SSEEvent] {
        var events: [SSEEvent] = []
        for byte in chunk {
            if skipLineFeed {
                skipLineFeed = false
                if byte == 0x0A { continue }
            }
            switch byte {
            case 0x0D:
                skipLineFeed = true
                endLine(into: &events)
            case 0x0A:
                endLine(into: &events)
            default:
                line.append(byte)
            }
        }
        return events
    }

    private mutating func endLine(into events: inout [SSEEvent]) {
        var bytes = line[...]
        line.removeAll(keepingCapacity: true)
        if atStreamStart {
            atStreamStart = false
            if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = bytes.dropFirst(3) }  // a byte order mark
        }
        if bytes.isEmpty {
            dispatch(into: &events)
            return
        }
        if bytes.first == UInt8(ascii: ":") { return }
        let field: String
        let value: String
        if let colon = bytes.firstIndex(of: UInt8(ascii: ":")) {
            field = String(decoding: bytes[..<colon], as: UTF8.self)
            var rest = bytes[(colon + 1)...]
            if rest.first == UInt8(ascii: " ") { rest = rest.dropFirst() }
            value = String(decoding: rest, as: UTF8.self)
        } else {
            field = String(decoding: bytes, as: UTF8.self)
            value = ""
        }
        switch field {
        case "event":
            eventType = value
        case "data":
            if hasData { data += "\n" }
            data += value
            hasData = true
        case "id":
            if !value.unicodeScalars.contains("\0") { lastEventID = value }
        case "retry":
            if !value.isEmpty, value.utf8.allSatisfy({ (0x30...0x39).contains($0) }) { retry = Int(value) }
        default:
            break  // unknown fields are ignored
        }
    }

    private mutating func dispatch(into events: inout [SSEEvent]) {
        defer {
            eventType = ""
            data = ""
            hasData = false
        }
        guard hasData else { return }
        events.append(SSEEvent(event: eventType.isEmpty ? "message" : eventType, data: data, id: lastEventID))
    }
}
