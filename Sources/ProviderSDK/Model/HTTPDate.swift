/// HTTP dates (RFC 9110 §5.6.7), as `Retry-After` may carry them: the
/// preferred IMF-fixdate, and the obsolete RFC 850 and asctime forms a
/// recipient must still accept. Parsed by hand: no locale, no formatter state.
public enum HTTPDate {
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    static let days = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]

    /// Seconds since the Unix epoch, or nil when `text` is no HTTP date. Every field is read with
    /// bounds (a day of 10^30, a year of -1 or 10000, `08:+1:00` are no date), so nothing after overflows.
    public static func parse(_ text: String) -> Int64? {
        let fields = text.split(separator: " ", omittingEmptySubsequences: true)
        func number(_ text: Substring, _ range: ClosedRange<Int64>) -> Int64? {
            try? BoundedInteger.parse(text, in: range)
        }
        func monthNumber(_ name: Substring) -> Int64? { months.firstIndex(of: String(name)).map { Int64($0) + 1 } }
        var day: Int64, month: Int64, year: Int64, clock: Substring
        switch fields.count {
        case 6 where fields[5] == "GMT":
            // Sun, 06 Nov 1994 08:49:37 GMT
            guard let d = number(fields[1], 1...31), let m = monthNumber(fields[2]), fields[3].utf8.count == 4,
                  let y = number(fields[3], 1...9999) else { return nil }
            (day, month, year, clock) = (d, m, y, fields[4])
        case 4 where fields[3] == "GMT":
            // Sunday, 06-Nov-94 08:49:37 GMT: a two-digit year more than 50 years ahead is in the past century.
            let parts = fields[1].split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count == 3, let d = number(parts[0], 1...31), let m = monthNumber(parts[1]),
                  let y = number(parts[2], 0...9999), parts[2].utf8.count == 2 || parts[2].utf8.count == 4 else { return nil }
            (day, month, year, clock) = (d, m, parts[2].utf8.count == 2 ? (y < 70 ? 2000 + y : 1900 + y) : y, fields[2])
        case 5:
            // Sun Nov  6 08:49:37 1994
            guard let m = monthNumber(fields[1]), let d = number(fields[2], 1...31), fields[4].utf8.count == 4,
                  let y = number(fields[4], 1...9999) else { return nil }
            (day, month, year, clock) = (d, m, y, fields[3])
        default:
            return nil
        }
        let time = clock.split(separator: ":", omittingEmptySubsequences: false)
        guard year >= 1, day <= ISO8601.daysIn(month: month, year: year), time.count == 3, time.allSatisfy({ $0.utf8.count == 2 }),
              let hour = number(time[0], 0...23), let minute = number(time[1], 0...59), let second = number(time[2], 0...60) else { return nil }
        return ISO8601.daysFromCivil(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second
    }

    /// The IMF-fixdate of `seconds` since the epoch, e.g. `Tue, 14 Nov 2023 22:13:27 GMT`.
    public static func format(seconds: Int64) -> String {
        // Floor division without `seconds - 86_399`, which overflows for the earliest Int64 values.
        let (quotient, remainder) = seconds.quotientAndRemainder(dividingBy: 86_400)
        let (days, rest) = remainder < 0 ? (quotient - 1, remainder + 86_400) : (quotient, remainder)
        let (year, month, day) = ISO8601.civilFromDays(days)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let weekday = Self.days[Int(((days % 7) + 7) % 7)]
        return "\(weekday), \(two(day)) \(months[Int(month) - 1]) \(year) \(two(rest / 3600)):\(two(rest % 3600 / 60)):\(two(rest % 60)) GMT"
    }
}
