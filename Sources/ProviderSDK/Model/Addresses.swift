/// Address checks at the level the providers apply them (the sandbox's
/// provider APIs and the host's recipient uploads share them): `user@domain.tld`,
/// optionally as `Name <user@domain.tld>`; E.164 and short codes for SMS.
public enum EmailAddress {
    /// The bare address of `text` when it is well formed, else nil.
    public static func bare(_ text: String) -> String? {
        var text = text
        let range: Range<Int>? = text.withUTF8 { bytes in
            var range = 0..<bytes.count
            if let open = bytes.lastIndex(of: UInt8(ascii: "<")) {
                guard bytes.last == UInt8(ascii: ">") else { return nil }
                range = (open + 1)..<(bytes.count - 1)
            }
            return isValid(bytes[range]) ? range : nil
        }
        guard let range else { return nil }
        // The common case, a bare address, is returned without a copy.
        if range.count == text.utf8.count { return text }
        return text.withUTF8 { String(decoding: UnsafeBufferPointer(rebasing: $0[range]), as: UTF8.self) }
    }

    private static func isValid(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> Bool {
        guard bytes.count <= 254, let at = bytes.lastIndex(of: UInt8(ascii: "@")), at > bytes.startIndex, at < bytes.endIndex - 1,
              at - bytes.startIndex <= 64 else { return false }
        let local = bytes[..<at], domain = bytes[(at + 1)...]
        for byte in local where byte <= 0x20 || byte == 0x7F || byte == UInt8(ascii: "@") || byte == UInt8(ascii: "<")
            || byte == UInt8(ascii: ">") || byte == UInt8(ascii: ",") || byte == UInt8(ascii: ";") {
            return false
        }
        guard local.first != UInt8(ascii: "."), local.last != UInt8(ascii: ".") else { return false }
        let labels = domain.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return false }
        for label in labels {
            guard !label.isEmpty, label.count <= 63, label.first != UInt8(ascii: "-"), label.last != UInt8(ascii: "-") else { return false }
            for byte in label where !(byte >= 0x80 || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                                       || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                                       || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-")) {
                return false
            }
        }
        return true
    }
}

public enum PhoneNumber {
    /// `+` and 2–15 digits, the first not 0 (ITU-T E.164).
    public static func isE164(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count >= 3, bytes.count <= 16, bytes[0] == UInt8(ascii: "+"), bytes[1] != UInt8(ascii: "0") else { return false }
        return bytes.dropFirst().allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    /// A short code: 5 or 6 digits.
    public static func isShortCode(_ text: String) -> Bool {
        (5...6).contains(text.utf8.count) && text.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    /// An alphanumeric sender id: 1–11 letters, digits or spaces, at least one letter.
    public static func isAlphanumericSender(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (1...11).contains(bytes.count) else { return false }
        let allowed = bytes.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 32 }
        return allowed && bytes.contains { ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) }
    }
}
