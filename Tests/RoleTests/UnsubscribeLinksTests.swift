import Domain
import HostCore
import Foundation
import ProviderModel
import Testing

@Suite("One-click unsubscribe links")
struct UnsubscribeLinksTests {
    static let key = [UInt8](repeating: 7, count: 32)
    static let links = UnsubscribeLinks(baseURL: "https://mail.example.com/", mailto: nil, masterKey: key)
    static let ann = UnsubscribeLinks.Subscriber(userID: "6f1c2d3e-0000-4000-8000-000000000001",
                                                 sendConfigID: "6f1c2d3e-0000-4000-8000-0000000000c1", address: "ann@example.org")

    @Test("a token reads back as the subscriber it was made for, and its link lives under the base URL")
    func roundTrip() throws {
        let token = try #require(Self.links.token(for: Self.ann))
        #expect(Self.links.subscriber(for: token) == Self.ann)
        #expect(Self.links.url(for: Self.ann) == "https://mail.example.com/unsubscribe/\(token)")
        #expect(token.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }, "URL-safe: \(token)")
    }

    @Test("a changed byte, another sender's id put in, another deployment's key or a truncated token reads as nothing")
    func forgeries() throws {
        let token = try #require(Self.links.token(for: Self.ann))
        var bytes = Array(token.utf8)
        bytes[bytes.count / 2] = bytes[bytes.count / 2] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(Self.links.subscriber(for: String(decoding: bytes, as: UTF8.self)) == nil)
        // Bob's user id in Ann's token, her signature kept: the mac covers the ids, so it no longer matches.
        let bob = UnsubscribeLinks.Subscriber(userID: "6f1c2d3e-0000-4000-8000-000000000002", sendConfigID: Self.ann.sendConfigID,
                                              address: Self.ann.address)
        let bobToken = try #require(Self.links.token(for: bob))
        let spliced = String(bobToken.prefix(22)) + String(token.dropFirst(22))
        #expect(spliced != bobToken && spliced != token)
        #expect(Self.links.subscriber(for: spliced) == nil)
        let elsewhere = UnsubscribeLinks(baseURL: "https://mail.example.com", mailto: nil, masterKey: [UInt8](repeating: 8, count: 32))
        #expect(elsewhere.subscriber(for: token) == nil)
        #expect(Self.links.subscriber(for: String(token.dropLast(3))) == nil)
        #expect(Self.links.subscriber(for: "") == nil && Self.links.subscriber(for: "a+b/c=") == nil)
        #expect(Self.links.subscriber(for: String(repeating: "A", count: 5_000)) == nil)
    }

    @Test("the headers are RFC 8058's pair, with the mailto when the operator gave one")
    func headers() throws {
        let headers = Self.links.headers(for: Self.ann)
        #expect(headers.map { $0.name } == ["List-Unsubscribe", "List-Unsubscribe-Post"])
        #expect(headers[1].value == "List-Unsubscribe=One-Click")
        #expect(headers[0].value == "<\(try #require(Self.links.url(for: Self.ann)))>")
        let withMail = UnsubscribeLinks(baseURL: "https://mail.example.com", mailto: "leave@example.com", masterKey: Self.key)
        #expect(withMail.headers(for: Self.ann)[0].value.hasSuffix(", <mailto:leave@example.com?subject=unsubscribe>"))
    }

    @Test("a job's email gets the headers when it asks for them; SMS, webhooks, a payload with its own List-Unsubscribe and a job that opted out do not")
    func jobMessages() throws {
        func job(_ channel: Channel, headers: [KeyValue] = [], flag: Bool = true) -> ChunkJob {
            var job = ChunkJob(batchID: "b1", userID: Self.ann.userID, sendConfigID: Self.ann.sendConfigID,
                               common: OutboundMessage(id: "-", channel: channel, headers: headers),
                               recipients: [ChunkJob.Recipient(position: 0, address: Self.ann.address)])
            job.listUnsubscribe = flag
            return job
        }
        func names(_ job: ChunkJob) -> [String] {
            job.message(for: job.recipients[0], unsubscribe: Self.links.signer(userID: job.userID, sendConfigID: job.sendConfigID)).headers.map { $0.name }
        }
        #expect(names(job(.email)) == ["List-Unsubscribe", "List-Unsubscribe-Post"])
        #expect(names(job(.email, flag: false)).isEmpty)
        #expect(names(job(.sms)).isEmpty && names(job(.webhook)).isEmpty)
        #expect(names(job(.email, headers: [KeyValue("list-unsubscribe", "<mailto:x@example.com>")])) == ["list-unsubscribe"])
        #expect(job(.email).message(for: job(.email).recipients[0]).headers.isEmpty, "no links configured, no headers")
        // The flag travels with the job through the queue.
        #expect(try ChunkJob(decoding: job(.email).encoded()).listUnsubscribe)
        #expect(try !ChunkJob(decoding: job(.email, flag: false).encoded()).listUnsubscribe)
    }

    @Test("[unsubscribe]: unset, no links; https, or http on loopback only; no user, query, quotes or spaces; a plain mailto; off turns them off",
          arguments: [
              ("", nil as String?, true),
              ("base_url = \"https://api.example.com\"", "https://api.example.com", true),
              ("base_url = \"http://127.0.0.1:6001\"", "http://127.0.0.1:6001", true),
              ("base_url = \"https://api.example.com\"\nenabled = false", nil, true),
              ("base_url = \"http://api.example.com\"", nil, false),
              ("base_url = \"https://u:p@api.example.com\"", nil, false),
              ("base_url = \"https://api.example.com/?a=1\"", nil, false),
              ("base_url = \"https://api.example.com/x y\"", nil, false),
              ("base_url = \"https://api.example.com/\\\"\"", nil, false),
              ("base_url = \"ftp://api.example.com\"", nil, false),
              ("base_url = \"https://api.exämple.com\"", nil, false),
              ("base_url = \"https://api.example.com\"\nmailto = \"leave@example.com\"", "https://api.example.com", true),
              ("base_url = \"https://api.example.com\"\nmailto = \"leave@example.com?cc=x\"", nil, false),
              ("base_url = \"https://api.example.com\"\nmystery = 1", nil, false),
          ] as [(String, String?, Bool)])
    func settings(lines: String, active: String?, loads: Bool) {
        do {
            let config = try HostConfig.parse("[unsubscribe]\n\(lines)\n")
            #expect(loads, "\(lines) should be refused")
            #expect(config.unsubscribe.activeBaseURL == active)
        } catch {
            #expect(!loads, "\(lines): \(error)")
        }
    }
}
