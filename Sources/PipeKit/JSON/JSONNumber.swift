import Foundation  // links the C math library (Double rounding) on Linux

/// An exact decimal number, as written in JSON.
///
/// The value is `±significand × 10^exponent`, kept normalized (no trailing zeros in the
/// significand, zero is `+0 × 10^0`), so equal values have one representation:
/// `1.0 == 1`, `1e2 == 100`, `-0 == 0`. A significand of up to 19 digits is held in a
/// `UInt64`; longer ones (bignums) as a decimal digit array, so they still compare exactly.
public struct JSONNumber: Sendable {
    /// True for values below zero (never for zero).
    public let isNegative: Bool
    /// The significand when it has at most 19 digits; 0 when `bigDigits` is set.
    let small: UInt64
    /// The significand's decimal digits (most significant first) when it has more than 19.
    let bigDigits: [UInt8]?
    /// The power of ten the significand is scaled by.
    public let exponent: Int

    static let maxSmall: UInt64 = 9_999_999_999_999_999_999

    private init(raw negative: Bool, small: UInt64, bigDigits: [UInt8]?, exponent: Int) {
        isNegative = negative
        self.small = small
        self.bigDigits = bigDigits
        self.exponent = exponent
    }

    /// Builds a normalized number from a digit array (values 0...9, most significant first).
    init(negative: Bool, digits: [UInt8], exponent: Int) {
        var end = digits.count
        var exp = exponent
        while end > 0 && digits[end - 1] == 0 { end -= 1; exp += 1 }
        var start = 0
        while start < end && digits[start] == 0 { start += 1 }
        if start == end {
            self.init(negative: false, small: 0, exponent: 0)
            return
        }
        if end - start <= 19 {
            var value: UInt64 = 0
            for i in start..<end { value = value * 10 + UInt64(digits[i]) }
            self.init(negative: negative, small: value, exponent: exp)
        } else {
            self.init(raw: negative, small: 0, bigDigits: Array(digits[start..<end]), exponent: exp)
        }
    }

    /// Builds a normalized number from a small significand.
    init(negative: Bool, small: UInt64, exponent: Int) {
        var value = small
        var exp = exponent
        if value == 0 {
            self.init(raw: false, small: 0, bigDigits: nil, exponent: 0)
            return
        }
        while value % 10 == 0 { value /= 10; exp += 1 }
        if value > Self.maxSmall {
            // 20 digits: keep as a digit array.
            self.init(raw: negative, small: 0, bigDigits: Self.digits(of: value), exponent: exp)
            return
        }
        self.init(raw: negative, small: value, bigDigits: nil, exponent: exp)
    }

    public init(_ value: Int) {
        self.init(negative: value < 0, small: value.magnitude.toUInt64, exponent: 0)
    }

    /// The shortest decimal that round-trips to `value`. NaN becomes 0 and infinities become
    /// `±Double.greatestFiniteMagnitude`, since JSON has no such numbers.
    public init(_ value: Double) {
        var d = value
        if d.isNaN { d = 0 }
        if d.isInfinite { d = d < 0 ? -Double.greatestFiniteMagnitude : Double.greatestFiniteMagnitude }
        if abs(d) < 9e15, let i = Int(exactly: d) {
            self.init(i)
            return
        }
        self = JSONNumber("\(d)")!
    }

    /// Parses JSON number text (RFC 8259 grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`).
    public init?(_ literal: String) {
        var text = literal
        guard let number = text.withUTF8({ JSONNumber.parse($0) }) else { return nil }
        self = number
    }

    /// Parses a complete JSON number from UTF-8 bytes; nil when the bytes are not exactly one number.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> JSONNumber? {
        var i = 0
        let n = bytes.count
        var negative = false
        if i < n && bytes[i] == UInt8(ascii: "-") { negative = true; i += 1 }
        guard i < n, isDigit(bytes[i]) else { return nil }
        let intStart = i
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
        } else {
            while i < n && isDigit(bytes[i]) { i += 1 }
        }
        let intEnd = i
        var fracStart = i, fracEnd = i
        if i < n && bytes[i] == UInt8(ascii: ".") {
            i += 1
            fracStart = i
            while i < n && isDigit(bytes[i]) { i += 1 }
            fracEnd = i
            guard fracEnd > fracStart else { return nil }
        }
        var exp = 0
        if i < n && (bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E")) {
            i += 1
            var expNegative = false
            if i < n && (bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-")) {
                expNegative = bytes[i] == UInt8(ascii: "-")
                i += 1
            }
            let expStart = i
            while i < n && isDigit(bytes[i]) {
                if exp < 100_000_000 { exp = exp * 10 + Int(bytes[i] &- 48) }
                i += 1
            }
            guard i > expStart else { return nil }
            if expNegative { exp = -exp }
        }
        guard i == n else { return nil }
        return make(negative: negative, bytes: bytes, intRange: intStart..<intEnd, fracRange: fracStart..<fracEnd, exponent: exp)
    }

    /// Builds a number from already-validated digit ranges of `bytes`.
    static func make(negative: Bool, bytes: UnsafeBufferPointer<UInt8>, intRange: Range<Int>, fracRange: Range<Int>, exponent: Int) -> JSONNumber {
        let digitCount = intRange.count + fracRange.count
        let exp = exponent - fracRange.count
        if digitCount <= 19 {
            var value: UInt64 = 0
            for i in intRange { value = value &* 10 &+ UInt64(bytes[i] &- 48) }
            for i in fracRange { value = value &* 10 &+ UInt64(bytes[i] &- 48) }
            return JSONNumber(negative: negative, small: value, exponent: exp)
        }
        var digits: [UInt8] = []
        digits.reserveCapacity(digitCount)
        for i in intRange { digits.append(bytes[i] &- 48) }
        for i in fracRange { digits.append(bytes[i] &- 48) }
        return JSONNumber(negative: negative, digits: digits, exponent: exp)
    }

    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }

    static func digits(of value: UInt64) -> [UInt8] {
        if value == 0 { return [0] }
        var result: [UInt8] = []
        var v = value
        while v > 0 { result.append(UInt8(v % 10)); v /= 10 }
        return result.reversed()
    }

    /// The significand's decimal digits, most significant first (`[0]` for zero).
    var significandDigits: [UInt8] { bigDigits ?? Self.digits(of: small) }

    /// Number of digits in the significand.
    var digitCount: Int {
        if let bigDigits { return bigDigits.count }
        var count = 1
        var v = small
        while v >= 10 { v /= 10; count += 1 }
        return count
    }

    public var isZero: Bool { bigDigits == nil && small == 0 }

    /// True when the value is a mathematical integer (so `1.0` is an integer).
    public var isInteger: Bool { exponent >= 0 }

    /// The value as an `Int` when it is an integer that fits.
    public var intValue: Int? {
        guard bigDigits == nil, exponent >= 0, exponent < 19 else { return isZero ? 0 : nil }
        var value = small
        for _ in 0..<exponent {
            let (m, overflow) = value.multipliedReportingOverflow(by: 10)
            if overflow { return nil }
            value = m
        }
        if isNegative {
            if value <= UInt64(Int.max) { return -Int(value) }
            if value == UInt64(Int.max) + 1 { return Int.min }
            return nil
        }
        return value <= UInt64(Int.max) ? Int(value) : nil
    }

    /// The nearest `Double` (±infinity beyond its range).
    public var doubleValue: Double {
        if bigDigits == nil {
            if exponent == 0 { return isNegative ? -Double(small) : Double(small) }
            if small < (1 << 53), exponent > -23, exponent < 23 {
                // Exact significand and an exactly representable power of ten: one correctly rounded operation.
                let scale = Self.powersOfTen[abs(exponent)]
                let magnitude = exponent > 0 ? Double(small) * scale : Double(small) / scale
                return isNegative ? -magnitude : magnitude
            }
        }
        return Double(description) ?? (isNegative ? -.infinity : .infinity)
    }

    private static let powersOfTen: [Double] = (0...22).map { p in
        var v = 1.0
        for _ in 0..<p { v *= 10 }
        return v
    }
}

extension UInt {
    fileprivate var toUInt64: UInt64 { UInt64(self) }
}

extension JSONNumber: Hashable {
    public static func == (lhs: JSONNumber, rhs: JSONNumber) -> Bool {
        lhs.isNegative == rhs.isNegative && lhs.exponent == rhs.exponent && lhs.small == rhs.small && lhs.bigDigits == rhs.bigDigits
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(isNegative)
        hasher.combine(exponent)
        hasher.combine(small)
        hasher.combine(bigDigits)
    }
}

extension JSONNumber: Comparable {
    public static func < (lhs: JSONNumber, rhs: JSONNumber) -> Bool {
        if lhs.isNegative != rhs.isNegative { return lhs.isNegative }
        let magnitudeOrder = compareMagnitude(lhs, rhs)
        return lhs.isNegative ? magnitudeOrder > 0 : magnitudeOrder < 0
    }

    /// -1, 0 or 1 as |lhs| is below, equal to or above |rhs|.
    static func compareMagnitude(_ lhs: JSONNumber, _ rhs: JSONNumber) -> Int {
        if lhs.isZero || rhs.isZero {
            return lhs.isZero ? (rhs.isZero ? 0 : -1) : 1
        }
        if lhs.bigDigits == nil && rhs.bigDigits == nil && lhs.exponent == rhs.exponent {
            return lhs.small == rhs.small ? 0 : (lhs.small < rhs.small ? -1 : 1)
        }
        // Compare the position of the leading digit, then the digits themselves.
        let lhsDigits = lhs.significandDigits, rhsDigits = rhs.significandDigits
        let lhsTop = lhsDigits.count + lhs.exponent, rhsTop = rhsDigits.count + rhs.exponent
        if lhsTop != rhsTop { return lhsTop < rhsTop ? -1 : 1 }
        let length = max(lhsDigits.count, rhsDigits.count)
        for i in 0..<length {
            let a = i < lhsDigits.count ? lhsDigits[i] : 0
            let b = i < rhsDigits.count ? rhsDigits[i] : 0
            if a != b { return a < b ? -1 : 1 }
        }
        return 0
    }
}

extension JSONNumber {
    /// True when `self / divisor` is an integer, computed exactly (0.0075 is a multiple of 0.0001).
    /// A zero divisor divides nothing.
    public func isMultiple(of divisor: JSONNumber) -> Bool {
        if divisor.isZero { return false }
        if isZero { return true }
        // self = A·10^a, divisor = B·10^b. self/divisor is an integer iff (A·10^(a−b)) mod B == 0
        // when a ≥ b, or A mod (B·10^(b−a)) == 0 when a < b. B has no trailing zeros, so the
        // second case needs A divisible by 10^(b−a), which normalization already rules out.
        let shift = exponent - divisor.exponent
        if shift < 0 { return false }
        if divisor.bigDigits == nil {
            let b = divisor.small
            var remainder: UInt64 = 0
            func push(_ digit: UInt64) {
                let (high, low) = remainder.multipliedFullWidth(by: 10)
                let (sum, carry) = low.addingReportingOverflow(digit)
                remainder = b.dividingFullWidth((high + (carry ? 1 : 0), sum)).remainder
            }
            if bigDigits == nil && shift == 0 { return small % b == 0 }
            for digit in significandDigits { push(UInt64(digit)) }
            // Zeros beyond the divisor's order repeat with period dividing φ(B) ≤ B; cap the work.
            var zeros = shift
            var seen = Set<UInt64>()
            while zeros > 0 {
                if remainder == 0 { return true }
                if !seen.insert(remainder).inserted { return false }
                push(0)
                zeros -= 1
            }
            return remainder == 0
        }
        // Big divisor: schoolbook long division on digit arrays.
        let b = divisor.significandDigits
        var remainder: [UInt8] = []
        func push(_ digit: UInt8) {
            remainder.append(digit)
            while let first = remainder.first, first == 0, remainder.count > 1 { remainder.removeFirst() }
            while Self.compareDigits(remainder, b) >= 0 { remainder = Self.subtractDigits(remainder, b) }
        }
        for digit in significandDigits { push(digit) }
        var zeros = min(shift, 10_000)
        while zeros > 0 { push(0); zeros -= 1 }
        return remainder.allSatisfy { $0 == 0 }
    }

    static func compareDigits(_ a: [UInt8], _ b: [UInt8]) -> Int {
        var a = a[...], b = b[...]
        while a.count > 1, a.first == 0 { a = a.dropFirst() }
        while b.count > 1, b.first == 0 { b = b.dropFirst() }
        if a.count != b.count { return a.count < b.count ? -1 : 1 }
        for (x, y) in zip(a, b) where x != y { return x < y ? -1 : 1 }
        return 0
    }

    static func subtractDigits(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
        var result = a
        var borrow = 0
        var j = b.count - 1
        for i in stride(from: result.count - 1, through: 0, by: -1) {
            var d = Int(result[i]) - borrow - (j >= 0 ? Int(b[j]) : 0)
            j -= 1
            if d < 0 { d += 10; borrow = 1 } else { borrow = 0 }
            result[i] = UInt8(d)
        }
        while result.count > 1, result.first == 0 { result.removeFirst() }
        return result
    }
}

extension JSONNumber: CustomStringConvertible {
    /// 10^0 ... 10^19, the powers of ten a UInt64 holds.
    private static let integerPowersOfTen: [UInt64] = (0..<20).map { power in (0..<power).reduce(1) { value, _ in value * 10 } }

    /// Canonical JSON text: integers without a fraction (`100`, not `1e2` or `100.0`), plain
    /// decimals for moderate magnitudes (`0.0075`), exponent form otherwise (`1.5e-12`, `1e+300`).
    public var description: String {
        if isZero { return "0" }
        // An integer that fits a UInt64 (token counts, `max_tokens`): its digits at once.
        if bigDigits == nil, exponent >= 0, exponent < 20 {
            let scaled = small.multipliedReportingOverflow(by: Self.integerPowersOfTen[exponent])
            if !scaled.overflow { return isNegative ? "-" + String(scaled.partialValue) : String(scaled.partialValue) }
        }
        let digits = significandDigits
        var out = isNegative ? "-" : ""
        let top = digits.count + exponent  // position of the decimal point from the left of the digits
        let text = String(decoding: digits.map { $0 + 48 }, as: UTF8.self)
        if exponent == 0 || (exponent > 0 && top <= 21) {
            out += text + String(repeating: "0", count: exponent)
        } else if exponent < 0 && top > 0 {
            let split = text.index(text.startIndex, offsetBy: top)
            out += text[..<split] + "." + text[split...]
        } else if exponent < 0 && top > -6 {
            out += "0." + String(repeating: "0", count: -top) + text
        } else {
            let first = text.prefix(1)
            let rest = text.dropFirst()
            let e = top - 1
            out += first + (rest.isEmpty ? "" : "." + rest) + "e" + (e >= 0 ? "+" : "") + String(e)
        }
        return out
    }
}
