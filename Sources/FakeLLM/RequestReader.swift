/// Reads HTTP/1.1 requests off one connection: the head, then a body framed by
/// `Content-Length` or `Transfer-Encoding: chunked`.
struct RequestReader {
    struct Message {
        var method: String
        var target: String
        var version: String
        var headers: [(name: String, value: String)]
        var body: [UInt8]

        func header(_ name: String) -> String? {
            let key = name.lowercased()
            return headers.first { $0.name.lowercased() == key }?.value
        }

        /// Whether the client wants the connection kept open after this exchange.
        var keepAlive: Bool {
            let connection = header("connection")?.lowercased() ?? ""
            return version == "HTTP/1.0" ? connection.contains("keep-alive") : !connection.contains("close")
        }
    }

    enum Failure: Error {
        case closed
        case malformed(String)
    }

    let fd: Int32
    private var buffer: [UInt8] = []
    /// What each read receives, kept for the connection's life.
    private var scratch = [UInt8](repeating: 0, count: 65_536)
    private static let maxHead = 256 * 1024

    init(fd: Int32) {
        self.fd = fd
    }

    /// The next request; `.closed` when the peer closed between requests.
    mutating func next() throws(Failure) -> Message {
        let headEnd = try readUntil([13, 10, 13, 10], limit: Self.maxHead)
        // The head's lines are read off the bytes, not split as a `String` (`Character` by
        // `Character`): the fake server reads a head for every request it answers.
        let lines = Self.lines(buffer[..<headEnd])
        buffer.removeFirst(headEnd + 4)
        let requestLine = lines.first.map { $0.split(separator: UInt8(ascii: " ")).map { String(decoding: $0, as: UTF8.self) } } ?? []
        guard requestLine.count == 3 else { throw .malformed("bad request line") }
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() where !line.isEmpty {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { throw .malformed("bad header line") }
            headers.append((Self.trimmed(line[..<colon]), Self.trimmed(line[(colon + 1)...])))
        }
        var message = Message(method: requestLine[0], target: requestLine[1], version: requestLine[2], headers: headers, body: [])
        if message.header("transfer-encoding")?.lowercased().contains("chunked") == true {
            message.body = try readChunkedBody()
        } else if let length = message.header("content-length") {
            guard let count = Int(length), count >= 0 else { throw .malformed("bad Content-Length") }
            try fill(count)
            message.body = Array(buffer[..<count])
            buffer.removeFirst(count)
        }
        return message
    }

    private mutating func readChunkedBody() throws(Failure) -> [UInt8] {
        var body: [UInt8] = []
        while true {
            let lineEnd = try readUntil([13, 10], limit: 1024)
            let sizeText = Self.trimmed(buffer[..<lineEnd].split(separator: UInt8(ascii: ";"), omittingEmptySubsequences: false).first ?? [])
            buffer.removeFirst(lineEnd + 2)
            guard let size = Int(sizeText, radix: 16) else { throw .malformed("bad chunk size") }
            if size == 0 {
                // Trailers until an empty line.
                while true {
                    let end = try readUntil([13, 10], limit: 8192)
                    buffer.removeFirst(end + 2)
                    if end == 0 { return body }
                }
            }
            try fill(size + 2)
            body.append(contentsOf: buffer[..<size])
            buffer.removeFirst(size + 2)
        }
    }

    /// The index where `marker` starts in the buffer, reading more as needed.
    private mutating func readUntil(_ marker: [UInt8], limit: Int) throws(Failure) -> Int {
        var searchFrom = 0
        while true {
            if buffer.count >= marker.count {
                var i = searchFrom
                while i + marker.count <= buffer.count {
                    if buffer[i] == marker[0], buffer[i..<(i + marker.count)].elementsEqual(marker) { return i }
                    i += 1
                }
                searchFrom = max(0, buffer.count - marker.count + 1)
            }
            guard buffer.count <= limit else { throw .malformed("line or head too long") }
            guard Socket.read(fd, appendingTo: &buffer, scratch: &scratch) else { throw .closed }
        }
    }

    private mutating func fill(_ count: Int) throws(Failure) {
        while buffer.count < count {
            guard Socket.read(fd, appendingTo: &buffer, scratch: &scratch) else { throw .closed }
        }
    }
}

extension RequestReader {
    /// The lines of a head, split at CRLF.
    fileprivate static func lines(_ head: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var start = head.startIndex
        var index = start
        while index < head.endIndex {
            if head[index] == 13, index + 1 < head.endIndex, head[index + 1] == 10 {
                lines.append(head[start..<index])
                index += 2
                start = index
            } else {
                index += 1
            }
        }
        lines.append(head[start..<head.endIndex])
        return lines
    }

    /// The text of `bytes` without the spaces and tabs around it.
    fileprivate static func trimmed(_ bytes: ArraySlice<UInt8>) -> String {
        var slice = bytes
        while let first = slice.first, first == 0x20 || first == 0x09 { slice = slice.dropFirst() }
        while let last = slice.last, last == 0x20 || last == 0x09 { slice = slice.dropLast() }
        return String(decoding: slice, as: UTF8.self)
    }
}
