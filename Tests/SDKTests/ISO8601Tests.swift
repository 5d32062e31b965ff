import ProviderModel
import Testing

@Suite("ISO 8601 times")
struct ISO8601Tests {
    @Test("impossible dates, times and offsets are refused, not rolled over")
    func strict() {
        for text in ["2030-02-30T00:00:00Z", "2031-02-29T00:00:00Z", "2030-04-31T00:00:00Z", "2030-01-01T23:59:60Z",
                     "2030-01-01T24:00:00Z", "2030-01-01T00:60:00Z", "2030-01-01T00:00:00+99:99", "2030-01-01T00:00:00+24:00",
                     "2030-01-01T00:00:00+01:60", "2030-13-01T00:00:00Z", "2030-00-01T00:00:00Z"] {
            #expect(ISO8601.milliseconds(text) == nil, "\(text)")
        }
        #expect(ISO8601.milliseconds("2032-02-29T00:00:00Z") != nil, "a leap day")
        #expect(ISO8601.milliseconds("2000-02-29T12:00:00+01:00") == 951_822_000_000)
    }

    @Test("formatting is total: year 0, year 10000 and the extremes of Int64 never trap")
    func total() {
        let yearZero = ISO8601.milliseconds("0000-01-01T00:00:00+00:01")!
        #expect(ISO8601.extendedUTC(milliseconds: yearZero) == "-0001-12-31T23:59:00.000Z")
        #expect(ISO8601.extendedUTC(milliseconds: 253_402_300_800_000) == "10000-01-01T00:00:00.000Z")
        for extreme in [Int64.min, Int64.min + 1, Int64.max] {
            #expect(!ISO8601.extendedUTC(milliseconds: extreme).isEmpty)
            #expect(!ISO8601.basicUTC(milliseconds: extreme).isEmpty)
        }
    }
}
