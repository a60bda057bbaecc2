/// The text of one spec file, with what is needed to turn positions into lines.
///
/// Lines and columns are 1-based; columns count Unicode scalars, as libyaml does.
public struct SourceFile: Sendable {
    /// The path as the user gave it (`-` and `<stdin>` for standard input).
    public let path: String
    public let bytes: [UInt8]
    /// Byte offset of the first byte of each line.
    public let lineStarts: [Int]
    /// The scalars before every `checkpointStride`-th byte, so that a column is found
    /// without walking a long line from its start (a spec may be one line of 10 MB).
    private let scalarCheckpoints: [Int]
    private static let checkpointStride = 256
    /// No byte is part of a multi-byte scalar: a byte offset is then its scalar count, and a
    /// column is found without counting (most specs; the compiler asks for thousands).
    private let isASCII: Bool

    public init(path: String, bytes: [UInt8]) {
        self.path = path
        self.bytes = bytes
        var starts = [0]
        var checkpoints: [Int] = []
        checkpoints.reserveCapacity(bytes.count / Self.checkpointStride + 1)
        var scalars = 0
        var high: UInt8 = 0
        for (i, b) in bytes.enumerated() {
            if i % Self.checkpointStride == 0 { checkpoints.append(scalars) }
            if b & 0xC0 != 0x80 { scalars += 1 }
            high |= b
            if b == UInt8(ascii: "\n") { starts.append(i + 1) }
        }
        if bytes.count % Self.checkpointStride == 0 { checkpoints.append(scalars) }
        self.lineStarts = starts
        self.scalarCheckpoints = checkpoints
        self.isASCII = high < 0x80
    }

    public init(path: String, text: String) {
        self.init(path: path, bytes: Array(text.utf8))
    }

    public var lineCount: Int { lineStarts.count }

    /// The text of a 1-based line, without its line break.
    public func line(_ number: Int) -> String {
        guard number >= 1, number <= lineStarts.count else { return "" }
        let start = lineStarts[number - 1]
        var end = number < lineStarts.count ? lineStarts[number] : bytes.count
        while end > start, bytes[end - 1] == UInt8(ascii: "\n") || bytes[end - 1] == UInt8(ascii: "\r") {
            end -= 1
        }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    /// The byte offset of a 1-based line and column, clamped to the line.
    public func offset(line: Int, column: Int) -> Int {
        guard line >= 1, line <= lineStarts.count else { return bytes.count }
        let start = lineStarts[line - 1]
        // The line's `\n`, or the end of the file.
        let end = line < lineStarts.count ? lineStarts[line] - 1 : bytes.count
        if isASCII { return min(start + max(0, column - 1), end) }
        let target = scalars(before: start) + max(0, column - 1)
        guard target < scalars(before: end) else { return end }
        // From the last checkpoint at or before the target scalar, byte by byte.
        var low = start / Self.checkpointStride, high = end / Self.checkpointStride
        while low < high {
            let mid = (low + high + 1) / 2
            if scalarCheckpoints[mid] <= target { low = mid } else { high = mid - 1 }
        }
        var offset = max(start, low * Self.checkpointStride)
        var count = scalars(before: offset)
        while offset < end {
            if bytes[offset] & 0xC0 != 0x80 {
                if count == target { return offset }
                count += 1
            }
            offset += 1
        }
        return end
    }

    /// The 1-based line and column of a byte offset.
    public func position(ofOffset offset: Int) -> SourcePosition {
        var low = 0, high = lineStarts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if lineStarts[mid] <= offset { low = mid } else { high = mid - 1 }
        }
        // A continuation byte at `offset` itself belongs to the previous scalar.
        return SourcePosition(line: low + 1, column: scalars(before: offset) - scalars(before: lineStarts[low]) + 1)
    }

    /// How many scalars (UTF-8 lead bytes) come before a byte offset.
    private func scalars(before offset: Int) -> Int {
        let offset = min(max(0, offset), bytes.count)
        if isASCII { return offset }
        let checkpoint = offset / Self.checkpointStride
        var count = scalarCheckpoints[checkpoint]
        for i in checkpoint * Self.checkpointStride..<offset where bytes[i] & 0xC0 != 0x80 { count += 1 }
        return count
    }
}
