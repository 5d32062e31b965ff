@testable import ProviderSandbox
import Testing

@Suite("The sandbox's one-click unsubscribe check")
struct OneClickUnsubscribeCheckTests {
    typealias Check = OneClickUnsubscribe.Check

    @Test("RFC 8058's pair passes with its https (or loopback http) link; half a pair or a malformed one is refused; none is fine",
          arguments: [
              ([("List-Unsubscribe", "<https://u.example.com/t>"), ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")], Check.valid(url: "https://u.example.com/t")),
              ([("list-unsubscribe", "<mailto:x@example.com>, <http://127.0.0.1:6001/unsubscribe/t>"), ("LIST-UNSUBSCRIBE-POST", "List-Unsubscribe=One-Click")],
               Check.valid(url: "http://127.0.0.1:6001/unsubscribe/t")),
              ([("List-Unsubscribe", "<mailto:x@example.com>")], Check.absent),
              ([], Check.absent),
              ([("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")], Check.invalid("List-Unsubscribe-Post without List-Unsubscribe")),
              ([("List-Unsubscribe", "<https://u.example.com/t>"), ("List-Unsubscribe-Post", "One-Click")],
               Check.invalid("List-Unsubscribe-Post must be exactly List-Unsubscribe=One-Click, not One-Click")),
              ([("List-Unsubscribe", "https://u.example.com/t"), ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")],
               Check.invalid("List-Unsubscribe must be a list of <URI>s")),
              ([("List-Unsubscribe", "<http://u.example.com/t>"), ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")],
               Check.invalid("one-click List-Unsubscribe needs an https URI")),
          ] as [([(String, String)], Check)])
    func check(headers: [(String, String)], expected: Check) {
        #expect(OneClickUnsubscribe.check(headers.map { (name: $0.0, value: $0.1) }) == expected)
    }
}
