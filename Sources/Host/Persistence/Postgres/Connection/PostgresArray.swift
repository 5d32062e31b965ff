import Domain
/// PostgreSQL's text form of a one-dimensional array (`{"a","b",NULL}`), so
/// that thousands of rows travel as a few `$n::type[]` parameters of one
/// statement and `unnest` turns them back into rows.
public enum PostgresArray {
    public static func literal(_ values: [String?]) -> String {
        // Built as bytes: appending to a String a scalar at a time was a sizeable part of a round's record.
        var bytes: [UInt8] = [UInt8(ascii: "{")]
        bytes.reserveCapacity(values.count * 40 + 2)
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            guard var value else { bytes += "NULL".utf8; continue }
            bytes.append(UInt8(ascii: "\""))
            value.withUTF8 { utf8 in
                for byte in utf8 {
                    if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { bytes.append(UInt8(ascii: "\\")) }
                    bytes.append(byte)
                }
            }
            bytes.append(UInt8(ascii: "\""))
        }
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// One column of a multi-array `unnest(…)`: a column of nothing but NULLs goes as an empty array, since unnest
    /// pads a shorter array with NULLs, and PostgreSQL then parses nothing for it (a round's record: every send
    /// accepted, no error, no fallback). Only for unnest: elsewhere `{}` is no array of NULLs.
    public static func unnestColumn(_ values: [String?]) -> String {
        values.contains { $0 != nil } ? literal(values) : "{}"
    }

    public static func literal(_ values: [Int]) -> String {
        "{" + values.map(String.init).joined(separator: ",") + "}"
    }
}
