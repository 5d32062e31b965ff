/// HTTP dates (RFC 9110 §5.6.7), as `Retry-After` may carry them: the
/// preferred IMF-fixdate, and the obsolete RFC 850 and asctime forms a
/// recipient must still accept. Parsed by hand: no locale, no formatter state.
public enum HTTPDate {
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    static let days = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]

    /// Seconds since the Unix epoch, or nil when `text` is no HTTP date.
    public static func parse(_ text: String) -> Int64? {
        let fields = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        var day: Int64, month: Int64, year: Int64, clock: String
        switch fields.count {
        case 6 where fields[5] == "GMT":
            // Sun, 06 Nov 1994 08:49:37 GMT
            guard let d = Int64(fields[1]), let m = months.firstIndex(of: fields[2]), let y = Int64(fields[3]) else { return nil }
            (day, month, year, clock) = (d, Int64(m) + 1, y, fields[4])
        case 4 where fields[3] == "GMT":
            // Sunday, 06-Nov-94 08:49:37 GMT: a two-digit year more than 50 years ahead is in the past century.
            let parts = fields[1].split(separator: "-").map(String.init)
            guard parts.count == 3, let d = Int64(parts[0]), let m = months.firstIndex(of: parts[1]), let y = Int64(parts[2]) else { return nil }
            (day, month, year, clock) = (d, Int64(m) + 1, parts[2].count == 2 ? (y < 70 ? 2000 + y : 1900 + y) : y, fields[2])
        case 5:
            // Sun Nov  6 08:49:37 1994
            guard let m = months.firstIndex(of: fields[1]), let d = Int64(fields[2]), let y = Int64(fields[4]) else { return nil }
            (day, month, year, clock) = (d, Int64(m) + 1, y, fields[3])
        default:
            return nil
        }
        let time = clock.split(separator: ":").compactMap { Int64($0) }
        guard time.count == 3, (1...31).contains(day), (0...23).contains(time[0]), (0...59).contains(time[1]),
              (0...60).contains(time[2]), (1...9999).contains(year) else { return nil }
        return ISO8601.daysFromCivil(year: year, month: month, day: day) * 86_400 + time[0] * 3600 + time[1] * 60 + time[2]
    }

    /// The IMF-fixdate of `seconds` since the epoch, e.g. `Tue, 14 Nov 2023 22:13:27 GMT`.
    public static func format(seconds: Int64) -> String {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let rest = seconds - days * 86_400
        let (year, month, day) = ISO8601.civilFromDays(days)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let weekday = Self.days[Int(((days % 7) + 7) % 7)]
        return "\(weekday), \(two(day)) \(months[Int(month) - 1]) \(year) \(two(rest / 3600)):\(two(rest % 3600 / 60)):\(two(rest % 60)) GMT"
    }
}
