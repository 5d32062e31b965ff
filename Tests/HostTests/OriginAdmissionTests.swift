@testable import HostCore
import Testing

/// Which requests the curl multi handle is given: never more per origin than can run, the rest in order.
@Suite("Origin admission")
struct OriginAdmissionTests {
    struct Request: OriginBound, Equatable {
        var origin: String
        var id: Int
    }

    @Test("per origin at most its connections run; each finish lets in the next of that origin, first come first served")
    func perOriginLimit() {
        var admission = OriginAdmission<Request>(connectionsPerOrigin: 2)
        let a = (0..<5).map { Request(origin: "https://a", id: $0) }
        let b = Request(origin: "https://b", id: 9)
        var admitted = a.compactMap { admission.admit($0) }
        #expect(admitted.map(\.id) == [0, 1])
        // Another origin is not held behind the first's line.
        #expect(admission.admit(b) == b)
        #expect(!admission.isEmpty)
        admitted = admission.finished("https://a", http2: false)
        #expect(admitted.map(\.id) == [2])
        #expect(admission.finished("https://b", http2: false).isEmpty)
        #expect(admission.finished("https://a", http2: false).map(\.id) == [3])
        #expect(admission.finished("https://a", http2: false).map(\.id) == [4])
        #expect(admission.isEmpty)
        // One finish makes room for exactly one: a newcomer after it waits.
        var busy = OriginAdmission<Request>(connectionsPerOrigin: 1)
        #expect(busy.admit(a[0]) == a[0])
        #expect(busy.admit(a[1]) == nil)
        #expect(busy.finished("https://a", http2: false).map(\.id) == [1])
        #expect(busy.admit(a[2]) == nil)
    }

    @Test("an origin that answered over HTTP/2 runs many streams per connection")
    func multiplexed() {
        var admission = OriginAdmission<Request>(connectionsPerOrigin: 1)
        let requests = (0..<40).map { Request(origin: "https://h2", id: $0) }
        #expect(requests.compactMap { admission.admit($0) }.count == 1)
        let next = admission.finished("https://h2", http2: true)
        #expect(next.count == OriginAdmission<Request>.streamsPerConnection)
        #expect(next.map(\.id) == Array(1...OriginAdmission<Request>.streamsPerConnection))
    }

    @Test("the origin of a URL: scheme, host and port, lower-cased, without userinfo, path, query or fragment")
    func origins() {
        #expect(CurlTransfer.origin(of: "HTTPS://Email.US-East-1.amazonaws.com:443/v2/email?x=1") == "https://email.us-east-1.amazonaws.com:443")
        #expect(CurlTransfer.origin(of: "http://127.0.0.1:6190?q") == "http://127.0.0.1:6190")
        #expect(CurlTransfer.origin(of: "http://h#frag") == "http://h")
        #expect(CurlTransfer.origin(of: "https://user:p@ss@Host:8443/x") == "https://host:8443")
        #expect(CurlTransfer.origin(of: "not a url") == "not a url")
    }
}
