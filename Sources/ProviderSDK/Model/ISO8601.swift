/// Reads the timestamps providers put in webhooks (`2023-10-02T18:11:26.101Z`,
/// `2024-01-01T00:00:00+01:00`) as Unix milliseconds, without Foundation's
/// formatters: a webhook parse should not pay for locale machinery.
public enum ISO8601 {
    public static func milliseconds(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        func number(_ start: Int, _ count: Int) -> Int64? {
            guard start + count <= bytes.count else { return nil }
            var value: Int64 = 0
            for byte in bytes[start..<start + count] {
                guard (48...57).contains(byte) else { return nil }
                value = value * 10 + Int64(byte - 48)
            }
            return value
        }
        guard bytes.count >= 19, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
              bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: " "),
              bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
              let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
              let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2),
              (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day), hour < 24, minute < 60,
              second < 60 else { return nil }
        var index = 19
        var millis: Int64 = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var digits = 0
            while index < bytes.count, (48...57).contains(bytes[index]) {
                if digits < 3 { millis = millis * 10 + Int64(bytes[index] - 48) }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            var scale = digits
            while scale < 3 {
                millis *= 10
                scale += 1
            }
        }
        var offsetSeconds: Int64 = 0
        if index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "Z"), UInt8(ascii: "z"):
                index += 1
            case UInt8(ascii: "+"), UInt8(ascii: "-"):
                let sign: Int64 = bytes[index] == UInt8(ascii: "+") ? 1 : -1
                guard let hours = number(index + 1, 2) else { return nil }
                var minutesAt = index + 3
                if minutesAt < bytes.count, bytes[minutesAt] == UInt8(ascii: ":") { minutesAt += 1 }
                guard let minutes = number(minutesAt, 2), hours < 24, minutes < 60 else { return nil }
                offsetSeconds = sign * (hours * 3600 + minutes * 60)
                index = minutesAt + 2
            default:
                return nil
            }
        }
        guard index == bytes.count else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        return seconds * 1000 + millis
    }

    /// The days of a month: a date past them (2030-02-30) is refused, not rolled into the next month.
    static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
    static func civilFromDays(_ days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// UTC date and time fields of Unix milliseconds.
    struct Fields {
        var year, month, day, hour, minute, second, millisecond: Int64
    }

    static func fields(milliseconds: Int64) -> Fields {
        let (seconds, millis) = milliseconds.quotientAndRemainder(dividingBy: 1000)
        let (wholeSeconds, ms) = millis < 0 ? (seconds - 1, millis + 1000) : (seconds, millis)
        let days = wholeSeconds >= 0 ? wholeSeconds / 86_400 : (wholeSeconds - 86_399) / 86_400
        let secondOfDay = wholeSeconds - days * 86_400
        let (year, month, day) = civilFromDays(days)
        return Fields(year: year, month: month, day: day, hour: secondOfDay / 3600, minute: secondOfDay / 60 % 60,
                      second: secondOfDay % 60, millisecond: ms)
    }

    /// At least `count` digits; a negative value (a year before 1 BC) gets a `-`, a longer one all its
    /// digits. Total for every Int64: formatting a time never traps. Written in place (nothing allocated):
    /// the webhook processor formats two times per event.
    private static func digits(_ value: Int64, _ count: Int, into out: inout [UInt8]) {
        if value < 0 { out.append(UInt8(ascii: "-")) }
        let magnitude = value.magnitude
        var width = 1, rest = magnitude / 10
        while rest > 0 {
            width += 1
            rest /= 10
        }
        width = max(width, count)
        let start = out.count
        out.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: width))
        rest = magnitude
        var index = start + width - 1
        while rest > 0 {
            out[index] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
            index -= 1
        }
    }

    /// Unix seconds of a basic-format UTC time (`20240115T120000Z`); nil for anything else.
    public static func parseBasicUTC(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count == 16, bytes[8] == UInt8(ascii: "T"), bytes[15] == UInt8(ascii: "Z") else { return nil }
        let s = { (range: Range<Int>) in String(decoding: bytes[range], as: UTF8.self) }
        let extended = "\(s(0..<4))-\(s(4..<6))-\(s(6..<8))T\(s(9..<11)):\(s(11..<13)):\(s(13..<15))Z"
        return milliseconds(extended).map { $0 / 1000 }
    }

    /// `20240115T120000Z`: the basic format AWS signatures use (X-Amz-Date).
    public static func basicUTC(milliseconds: Int64) -> String {
        format(milliseconds: milliseconds, extended: false)
    }

    /// `2024-01-15T12:00:00.000Z`: the extended format with milliseconds, UTC.
    public static func extendedUTC(milliseconds: Int64) -> String {
        format(milliseconds: milliseconds, extended: true)
    }

    /// Extended adds `-` and `:` separators and the milliseconds.
    private static func format(milliseconds: Int64, extended: Bool) -> String {
        let f = fields(milliseconds: milliseconds)
        var out: [UInt8] = []
        out.reserveCapacity(24)
        func separator(_ character: Unicode.Scalar) {
            if extended { out.append(UInt8(ascii: character)) }
        }
        digits(f.year, 4, into: &out)
        separator("-")
        digits(f.month, 2, into: &out)
        separator("-")
        digits(f.day, 2, into: &out)
        out.append(UInt8(ascii: "T"))
        digits(f.hour, 2, into: &out)
        separator(":")
        digits(f.minute, 2, into: &out)
        separator(":")
        digits(f.second, 2, into: &out)
        if extended {
            out.append(UInt8(ascii: "."))
            digits(f.millisecond, 3, into: &out)
        }
        out.append(UInt8(ascii: "Z"))
        return String(decoding: out, as: UTF8.self)
    }
}
