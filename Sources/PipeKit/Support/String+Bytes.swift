import Foundation

extension String {
    /// Whether `other`'s UTF-8 bytes occur in this string's, compared byte by byte: no
    /// bridging to `NSString` as Foundation's `contains` does (thousands of instructions a
    /// look, and a spec's every template and a batch's every reply are looked at).
    func containsBytes(of other: String) -> Bool {
        var (text, other) = (self, other)
        return text.withUTF8 { text in
            other.withUTF8 { other in
                guard let first = other.first else { return true }
                guard other.count <= text.count else { return false }
                var start = 0
                while start + other.count <= text.count {
                    guard let found = text[start...(text.count - other.count)].firstIndex(of: first) else { return false }
                    if memcmp(text.baseAddress! + found, other.baseAddress!, other.count) == 0 { return true }
                    start = found + 1
                }
                return false
            }
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
                guard let first = other.first, other.count <= text.count else { return self }
                var result: [UInt8] = []
                var (copied, start) = (0, 0)
                while start + other.count <= text.count,
                    let found = text[start...(text.count - other.count)].firstIndex(of: first)
                {
                    guard memcmp(text.baseAddress! + found, other.baseAddress!, other.count) == 0 else {
                        start = found + 1
                        continue
                    }
                    result += text[copied..<found]
                    result += replacement.utf8
                    (copied, start) = (found + other.count, found + other.count)
                }
                guard copied > 0 else { return self }
                result += text[copied...]
                return String(decoding: result, as: UTF8.self)
            }
        }
    }
}
