/// The instant a delivery event names, read from a webhook with bounds: a time the host can store
/// (PostgreSQL, ClickHouse) and the ABI can carry, or a `.malformed` naming the field. An event at
/// year 292,277,026 would be refused by the database and hold back its whole round of events.
public enum EventTimestamp {
    /// 1970-01-01T00:00:00Z (event.h: 0 and below read as "no timestamp") to 9999-12-31T23:59:59.999Z.
    public static let range: ClosedRange<Int64> = 0...253_402_300_799_999

    /// `milliseconds` when it is in `range`; `.malformed` naming `field` otherwise.
    public static func checked(milliseconds: Int64, field: String) throws(PluginFailure) -> Int64 {
        guard range.contains(milliseconds) else {
            throw PluginFailure(.malformed, field: field, "the time \(milliseconds) ms is not between 1970 and 9999")
        }
        return milliseconds
    }

    /// The ISO 8601 time `text` in Unix milliseconds; nil when absent, `.malformed` naming `field`
    /// when present but not a time between 1970 and 9999.
    public static func iso8601(_ text: String?, field: String) throws(PluginFailure) -> Int64? {
        guard let text else { return nil }
        guard let milliseconds = ISO8601.milliseconds(text) else {
            throw PluginFailure(.malformed, field: field, "not an ISO 8601 time: \(text.prefix(40))")
        }
        return try checked(milliseconds: milliseconds, field: field)
    }

    /// The ISO 8601 string member `key` of `object`; nil when absent or null, `.malformed` when it is
    /// another type or not a time in range.
    public static func iso8601(member key: String, of object: JSONValue, field: String) throws(PluginFailure) -> Int64? {
        switch object[key] {
        case nil, .null?: return nil
        case .string(let text)?: return try iso8601(text, field: field)
        default: throw PluginFailure(.malformed, field: field, "must be an ISO 8601 time in a string")
        }
    }
}
