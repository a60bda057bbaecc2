import Foundation

extension String {
    /// Whether `other`'s UTF-8 bytes occur in this string's, compared byte by byte: no
    /// bridging to `NSString` as Foundation's `contains` does (thousands of instructions a
    /// look, and a spec's every template and a batch's every reply are looked at).
    func containsBytes(of other: String) -> Bool {
        var (text, other) = (self, other)
        return text.withUTF8 { text in
            other.withUTF8 { other in other.isEmpty || text.offset(of: other, from: 0) != nil }
        }
    }

    /// This string with each occurrence of `other`'s UTF-8 bytes (left to right, not
    /// overlapping) replaced by `replacement`, compared byte by byte like `containsBytes(of:)`;
    /// itself when there is none. (`replacing(_:with:)` compares characters, generically, and
    /// cost a wide fan-out 2 % of its HTTP thread redacting the key from each reply's model name.)
    func replacingBytes(of other: String, with replacement: String) -> String {
        var (text, other) = (self, other)
        return text.withUTF8 { text in
            other.withUTF8 { other -> String in
                guard !other.isEmpty else { return self }
                var result: [UInt8] = []
                var copied = 0
                while let found = text.offset(of: other, from: copied) {
                    result += text[copied..<found]
                    result += replacement.utf8
                    copied = found + other.count
                }
                guard copied > 0 else { return self }
                result += text[copied...]
                return String(decoding: result, as: UTF8.self)
            }
        }
    }
}

extension UnsafeBufferPointer<UInt8> {
    /// Where `other` (not empty) first occurs at or after `start`, compared byte by byte.
    fileprivate func offset(of other: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard let first = other.first else { return nil }
        var start = start
        while start + other.count <= count {
            guard let found = self[start...(count - other.count)].firstIndex(of: first) else { return nil }
            if memcmp(baseAddress! + found, other.baseAddress!, other.count) == 0 { return found }
            start = found + 1
        }
        return nil
    }
}
