import ProviderCrypto
import ProviderModel
import Testing

/// Numbers, dates and lengths as an attacker sends them, at each SDK site that reads one. Before the
/// fixes several of these trapped (`Int64` overflow), which stops the test process: that is the failure.
@Suite("Hostile numbers in the SDK")
struct HostileNumberTests {
    static let nowSeconds: Int64 = 1_700_000_000
    static let hostileIntegers = ["-9223372036854775808", "9223372036854775807", "-9223372036854775809", "9223372036854775808",
                                  "123456789012345678901234567890", "-123456789012345678901234567890", "-1", "0"]
    static let notIntegers = ["", "-", "+1700000000", " 1700000000", "1700000000 ", "1700000000.5", "1.7e9", "0x10", "１７",
                              "1700000000\u{0}", "\u{0}", String(repeating: "9", count: 1 << 20) + "x"]

    // MARK: the shared helper

    @Test("BoundedInteger.parse reads every Int64, refuses the rest by kind, and never traps")
    func boundedParse() throws {
        let all = Int64.min...Int64.max
        #expect(try BoundedInteger.parse("-9223372036854775808", in: all) == .min)
        #expect(try BoundedInteger.parse("9223372036854775807", in: all) == .max)
        #expect(try BoundedInteger.parse("-0", in: all) == 0)
        #expect(try BoundedInteger.parse("007", in: all) == 7)
        for text in ["9223372036854775808", "-9223372036854775809", "123456789012345678901234567890", String(repeating: "9", count: 1 << 20)] {
            #expect(throws: BoundedInteger.Refusal.outOfRange(all), "\(text.prefix(30))") { try BoundedInteger.parse(text, in: all) }
        }
        for text in Self.notIntegers {
            #expect(throws: BoundedInteger.Refusal.notAnInteger, "\(text.prefix(30))") { try BoundedInteger.parse(text, in: all) }
        }
        #expect(throws: BoundedInteger.Refusal.outOfRange(1...31)) { try BoundedInteger.parse("32", in: 1...31) }
        #expect(throws: BoundedInteger.Refusal.notAnInteger) { try BoundedInteger.parse(utf8: [0xFF, 0x31], in: all) }
    }

    @Test("distance, tolerance, product and Double conversion are total over Int64 and Double")
    func boundedArithmetic() {
        #expect(BoundedInteger.distance(.max, .min) == .max)
        #expect(BoundedInteger.distance(.min, .max) == .max)
        #expect(BoundedInteger.distance(-5, 5) == 10)
        #expect(!BoundedInteger.isWithin(.min, 300, of: Self.nowSeconds))
        #expect(!BoundedInteger.isWithin(.max, .max, of: .min))
        #expect(BoundedInteger.isWithin(Self.nowSeconds - 300, 300, of: Self.nowSeconds))
        #expect(BoundedInteger.isWithin(.max, .min, of: 0), "a negative tolerance counts by its size, Int64.min's too")
        #expect(BoundedInteger.product(.max, 1000, clampedTo: 0...86_400_000) == 86_400_000)
        #expect(BoundedInteger.product(.min, 1000, clampedTo: 0...86_400_000) == 0)
        #expect(BoundedInteger.product(.min, -1, clampedTo: .min ... .max) == .max)
        #expect(BoundedInteger.product(7, 1000, clampedTo: 0...86_400_000) == 7000)
        for value in [Double.nan, .infinity, -.infinity, 1e30, -1e30, 0.5, 9.3e18, -9.3e18] {
            #expect(BoundedInteger.exactly(value, in: .min ... .max) == nil, "\(value)")
        }
        #expect(BoundedInteger.exactly(-9.223372036854775808e18, in: .min ... .max) == .min)
        #expect(BoundedInteger.exactly(42, in: 0...41) == nil)
    }

    // MARK: SignedWebhookHeaders.checkTimestamp (every timestamped scheme: Standard Webhooks, Svix, Telnyx, Echo)

    @Test("a hostile timestamp header is expired or badly encoded, never a trap (the issue's request)")
    func timestampHeader() {
        for text in Self.hostileIntegers where text != "0" && text != "-1" {
            #expect(throws: PluginFailure.self) {
                try InboundWebhook.checkTimestamp(text, header: "webhook-timestamp", nowSeconds: Self.nowSeconds, tolerance: 300)
            }
            do {
                _ = try InboundWebhook.checkTimestamp(text, header: "webhook-timestamp", nowSeconds: Self.nowSeconds, tolerance: 300)
            } catch {
                #expect(error.status == .signatureExpired, "\(text)")
                #expect(error.field == "header:webhook-timestamp")
            }
        }
        for text in Self.notIntegers {
            #expect(throws: PluginFailure(.signatureEncoding, field: "header:svix-timestamp", "not a whole number of seconds")) {
                try InboundWebhook.checkTimestamp(text, header: "svix-timestamp", nowSeconds: Self.nowSeconds, tolerance: 300)
            }
        }
        // The clock itself at either end of Int64 (a host's pinned --now) is no trap either.
        for now in [Int64.min, Int64.max] {
            #expect(throws: PluginFailure.self) {
                try InboundWebhook.checkTimestamp(now == .min ? "9223372036854775807" : "-9223372036854775808",
                                                  header: "x", nowSeconds: now, tolerance: 300)
            }
        }
        #expect((try? InboundWebhook.checkTimestamp("1699999700", header: "x", nowSeconds: Self.nowSeconds, tolerance: 300)) == 1_699_999_700)
    }

    @Test("StandardWebhookSignature.verify answers INT64_MIN in webhook-timestamp with signature_expired")
    func standardWebhookTimestamp() {
        let signer = StandardWebhookSignature(key: Array("0123456789abcdef0123456789abcdef".utf8))
        let body = Array(#"{"type":"delivered"}"#.utf8)
        for timestamp in ["-9223372036854775808", "9223372036854775807", "123456789012345678901234567890"] {
            let request = InboundWebhook(headers: [KeyValue("webhook-id", "msg_1"), KeyValue("webhook-timestamp", timestamp),
                                                   KeyValue("webhook-signature", signer.sign(id: "msg_1", timestamp: 0, body: body))],
                                         body: body)
            #expect(throws: PluginFailure.self) { try signer.verify(request, headers: .standard, nowSeconds: Self.nowSeconds) }
            do { try signer.verify(request, headers: .standard, nowSeconds: Self.nowSeconds) } catch {
                #expect(error.status == .signatureExpired && error.field == "header:webhook-timestamp", "\(timestamp)")
            }
        }
    }

    // MARK: HTTPResult.retryAfterMs

    @Test("Retry-After of INT64_MAX, 30 digits, negatives and far dates is 0 to a day, never a trap")
    func retryAfter() {
        func after(_ value: String, now: Int64 = Self.nowSeconds * 1000) -> Int64? {
            HTTPResult(status: 429, headers: [KeyValue("retry-after", value)]).retryAfterMs(nowMs: now)
        }
        let day = SendOutcome.maximumRetryAfterMs
        #expect(after("9223372036854775807") == day)
        #expect(after("9223372036854") == day)
        #expect(after("123456789012345678901234567890") == day)
        #expect(after("-9223372036854775808") == 0)
        #expect(after("-123456789012345678901234567890") == 0)
        #expect(after("7") == 7000)
        #expect(after("86401") == day)
        #expect(after("Fri, 31 Dec 9999 23:59:59 GMT") == day)
        #expect(after("Fri, 31 Dec 9999 23:59:59 GMT", now: .min) == day)
        #expect(after("Mon, 01 Jan 0001 00:00:00 GMT", now: .max) == 0)
        #expect(after("Sat, 01 Jan 10000 00:00:00 GMT") == nil)
        #expect(after("1.5") == nil)
        #expect(after("") == nil)
    }

    // MARK: HTTPDate

    @Test("HTTP dates with out-of-range or non-digit fields are no date; formatting is total")
    func httpDate() {
        #expect(HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT") == 784_111_777)
        #expect(HTTPDate.parse("Sunday, 06-Nov-94 08:49:37 GMT") == 784_111_777)
        #expect(HTTPDate.parse("Sun Nov  6 08:49:37 1994") == 784_111_777)
        for text in ["Sun, 06 Nov 0000 08:49:37 GMT", "Sun, 06 Nov 10000 08:49:37 GMT", "Sun, 06 Nov -001 08:49:37 GMT",
                     "Sun, 06 Nov +994 08:49:37 GMT", "Sun, 99999999999999999999 Nov 1994 08:49:37 GMT",
                     "Sun, -9223372036854775808 Nov 1994 08:49:37 GMT", "Sun, 31 Feb 1994 08:49:37 GMT",
                     "Sun, 06 Nov 1994 08:+9:37 GMT", "Sun, 06 Nov 1994 08:x:49:37 GMT", "Sun, 06 Nov 1994 8:49:37 GMT",
                     "Sunday, 06-Nov--9 08:49:37 GMT", "Sunday, 06-Nov-123456789012345678901234567890 08:49:37 GMT",
                     "Sun Nov  6 08:49:37 99999999999999999999", "Sun Nov 9223372036854775807 08:49:37 1994"] {
            #expect(HTTPDate.parse(text) == nil, "\(text)")
        }
        for seconds in [Int64.min, Int64.min + 1, -1, Int64.max] {
            #expect(HTTPDate.format(seconds: seconds).hasSuffix(" GMT"))
        }
    }

    // MARK: ISO 8601 and event times

    @Test("ISO 8601 years 0, 10000 and negative, and a megabyte of fraction, parse without a trap; events refuse them")
    func eventTimes() throws {
        #expect(ISO8601.milliseconds("10000-01-01T00:00:00Z") == nil)
        #expect(ISO8601.milliseconds("-0001-01-01T00:00:00Z") == nil)
        #expect(ISO8601.milliseconds("2024-01-01T00:00:00." + String(repeating: "9", count: 1 << 20) + "Z") != nil)
        for text in ["0000-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "10000-01-01T00:00:00Z", "-0001-01-01T00:00:00Z",
                     "9223372036854775807", "", "2024-13-01T00:00:00Z"] {
            #expect(throws: PluginFailure.self, "\(text)") { try EventTimestamp.iso8601(text, field: "body.created_at") }
            do { _ = try EventTimestamp.iso8601(text, field: "body.created_at") } catch {
                #expect(error.status == .malformed && error.field == "body.created_at")
            }
        }
        #expect(try EventTimestamp.iso8601("9999-12-31T23:59:59.999Z", field: "f") == EventTimestamp.range.upperBound)
        #expect(try EventTimestamp.iso8601(nil, field: "f") == nil)
        let object: JSONValue = .object(["n": .number(1e30), "z": .null, "s": .string("2024-01-01T00:00:00Z")])
        #expect(throws: PluginFailure.self) { try EventTimestamp.iso8601(member: "n", of: object, field: "body.n") }
        #expect(try EventTimestamp.iso8601(member: "z", of: object, field: "body.z") == nil)
        #expect(try EventTimestamp.iso8601(member: "s", of: object, field: "body.s") == 1_704_067_200_000)
        for milliseconds in [Int64.min, -1, EventTimestamp.range.upperBound + 1, .max] {
            #expect(throws: PluginFailure.self) { try EventTimestamp.checked(milliseconds: milliseconds, field: "f") }
        }
    }

    // MARK: SigV4 and JSON numbers (already bounded: kept so by these)

    @Test("an X-Amz-Date in year 0, 9999 or with a 30-digit tail is refused, not a trap")
    func sigV4Dates() {
        let verifier = SigV4Verifier(service: "ses", credentials: [AWSCredentials(accessKeyId: "AKID", secretAccessKey: "s")])
        for date in ["00000101T000000Z", "99991231T235959Z", "20240101T000000Z123456789012345678901234567890", "-0010101T000000Z"] {
            let request = SigV4Verifier.Received(
                method: "POST", path: "/", query: "",
                headers: [KeyValue("authorization", "AWS4-HMAC-SHA256 Credential=AKID/\(date.prefix(8))/us-east-1/ses/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"),
                          KeyValue("x-amz-date", date), KeyValue("host", "h")], body: [])
            #expect((try? verifier.verify(request, nowMilliseconds: Self.nowSeconds * 1000).get()) == nil, "\(date)")
            #expect(verifier.verify(request, nowMilliseconds: .min).failure != nil)
        }
    }

    @Test("30-digit, 19-digit and overflowing JSON numbers parse to finite doubles or a parse error, never a trap")
    func jsonNumbers() throws {
        #expect(try JSONParser.parse(Array("123456789012345678901234567890".utf8)) == .number(1.2345678901234568e29))
        #expect(try JSONParser.parse(Array("-9223372036854775809".utf8)) == .number(-9.223372036854775808e18))
        #expect(try JSONParser.parse(Array("999999999999999999".utf8)) == .number(1e18))  // 18 nines are not a Double: the nearest is 1e18
        #expect(throws: JSONParseError.self) { try JSONParser.parse(Array("1e400".utf8)) }
        #expect(throws: JSONParseError.self) { try JSONParser.parse(Array("-1e400".utf8)) }
        // Writing them back is total too.
        #expect(JSONValue.number(1e30).compactText == "1e+30")
        #expect(!JSONValue.number(-9.3e18).compactText.isEmpty)
    }
}

/// The host's reading of a plugin's outcome: whatever a (C) plugin computed from a hostile response,
/// the delay the host takes is within a day.
@Suite("Hostile numbers across the ABI")
struct HostileOutcomeTests {
    @Test("a retry_after_ms of INT64_MAX from a plugin is read as a day; -1 and below as none")
    func retryAfterAcrossTheABI() {
        for (given, expected) in [(Int64.max, SendOutcome.maximumRetryAfterMs), (SendOutcome.maximumRetryAfterMs + 1, SendOutcome.maximumRetryAfterMs),
                                  (7_000, 7_000), (0, 0), (-1, nil), (Int64.min, nil)] as [(Int64, Int64?)] {
            let outcome = SendOutcome(messageIndex: 0, kind: .retryable, retryAfterMs: given, code: "429")
            let read = outcome.withCOutcome { SendOutcome(reading: $0) }
            #expect(read?.retryAfterMs == expected, "\(given)")
        }
    }
}

extension HostileOutcomeTests {
    @Test("an event's timestamp_ms of INT64_MAX, past 9999 or negative from a plugin reads as not said")
    func eventTimeAcrossTheABI() {
        for (given, expected) in [(Int64.max, nil), (EventTimestamp.range.upperBound + 1, nil), (EventTimestamp.range.upperBound, EventTimestamp.range.upperBound),
                                  (1_700_000_000_000, 1_700_000_000_000), (0, nil), (-1, nil), (Int64.min, nil)] as [(Int64, Int64?)] {
            let event = DeliveryEvent(type: .delivered, timestampMs: given, eventId: "e", providerMessageId: "p", recipient: "r")
            let arena = CArena()
            #expect(DeliveryEvent(reading: event.cEvent(in: arena)).timestampMs == expected, "\(given)")
        }
    }
}
