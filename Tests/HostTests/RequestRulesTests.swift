@testable import HostCore
import ProviderModel
import Testing

@Suite("What the host demands of a plugin's request")
struct RequestRulesTests {
    static let good = PreparedRequest(
        method: "POST", url: "https://api.example.org/emails",
        headers: [KeyValue("content-type", "application/json"), KeyValue("Idempotency-Key", "msg_1")],
        body: Array("{}".utf8), messageIndices: [0, 1])

    static func broken(_ change: (inout PreparedRequest) -> Void) -> PreparedRequest {
        var request = good
        change(&request)
        return request
    }

    @Test("a well-formed request passes, in either case of scheme")
    func passes() {
        #expect(RequestRules.problem(in: Self.good, messageCount: 2) == nil)
        var upper = Self.good
        upper.url = "HTTP://127.0.0.1:8080/x"
        #expect(RequestRules.problem(in: upper, messageCount: 2) == nil)
        // A multi-byte UTF-8 header value is not a control character.
        var unicode = Self.good
        unicode.headers = [KeyValue("x-subject", "Grüße")]
        #expect(RequestRules.problem(in: unicode, messageCount: 2) == nil)
    }

    @Test("each broken rule is refused, naming what is wrong", arguments: [
        ("method", broken { $0.method = "post" }, "upper-case HTTP method"),
        ("empty method", broken { $0.method = "" }, "upper-case HTTP method"),
        ("ftp URL", broken { $0.url = "ftp://example.org/x" }, "absolute http(s) URL"),
        ("relative URL", broken { $0.url = "/emails" }, "absolute http(s) URL"),
        ("scheme alone", broken { $0.url = "https://" }, "absolute http(s) URL"),
        ("space in URL", broken { $0.url = "https://example.org/a b" }, "absolute http(s) URL"),
        ("DEL in URL", broken { $0.url = "https://example.org/\u{7f}" }, "absolute http(s) URL"),
        ("header name with a space", broken { $0.headers.append(KeyValue("x bad", "1")) }, "not an HTTP token"),
        ("empty header name", broken { $0.headers.append(KeyValue("", "1")) }, "not an HTTP token"),
        ("CR LF in a value", broken { $0.headers.append(KeyValue("x-a", "1\r\nBcc: evil")) }, "CR, LF or NUL"),
        ("NUL in a value", broken { $0.headers.append(KeyValue("x-a", "1\u{0}")) }, "CR, LF or NUL"),
        ("no message", broken { $0.messageIndices = [] }, "carries no message"),
        ("index out of range", broken { $0.messageIndices = [0, 2] }, "message index 2 is out of range"),
        ("negative index", broken { $0.messageIndices = [-1] }, "message index -1 is out of range"),
    ])
    func refuses(_ name: String, _ request: PreparedRequest, _ expected: String) {
        let problem = RequestRules.problem(in: request, messageCount: 2)
        #expect(problem?.contains(expected) == true, "\(name): \(problem ?? "accepted")")
    }
}
