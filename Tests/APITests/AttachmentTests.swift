import HostCore
import Testing
@testable import SenderAPI
import ProviderModel

@Suite("Stored attachments")
struct AttachmentTests {
    @Test("a file is uploaded once, described (never echoed), listed, named by batches and messages, and hidden by delete")
    func lifecycle() async throws {
        let harness = try APIHarness()
        let key = try harness.key(for: "ann@example.com")
        let other = try harness.key(for: "bob@example.com")
        try await harness.run { api in
            let uploaded = try await api.call(.post, "/api/attachments?filename=q3%20report.pdf", key: key, contentType: "application/pdf; x=y",
                                              body: "%PDF-1.7 not really")
            #expect(uploaded.status == 201, "\(uploaded.text)")
            let id = try #require(uploaded["id"]?.stringValue)
            #expect(uploaded["filename"] == .string("q3 report.pdf") && uploaded["contentType"] == .string("application/pdf")
                    && uploaded["size"] == .number(19), "\(uploaded.text)")
            #expect(uploaded["sha256"]?.stringValue?.utf8.count == 64)
            #expect(try await api.call(.get, "/api/attachments/\(id)", key: key)["filename"] == .string("q3 report.pdf"))
            #expect(try await api.call(.get, "/api/attachments/\(id)", key: other).status == 404, "another user's file is not found")
            #expect(try await api.call(.get, "/api/attachments", key: key)["data"]?.array.map { $0["id"] } == [.string(id)])

            let config = try await api.sendConfig(key)
            let batch = try await api.call(.post, "/api/batches", key: key, json: """
                {"name":"b","sendConfigId":"\(config)","payload":{"subject":"s","text":"t"},"attachments":["\(id)"],"recipients":["a@x.com"]}
                """)
            #expect(batch.status == 201 && batch["attachments"]?.array.first?["id"] == .string(id), "\(batch.text)")
            let message = try await api.call(.post, "/api/messages", key: key, json: """
                {"sendConfigId":"\(config)","to":"a@x.com","payload":{"subject":"s","text":"t"},"attachments":["\(id)"]}
                """)
            #expect(message.status == 202 && message["attachments"]?.array.first?["size"] == .number(19), "\(message.text)")

            // Another user cannot name it.
            let otherConfig = try await api.sendConfig(other)
            let stolen = try await api.call(.post, "/api/batches", key: other, json: """
                {"name":"b","sendConfigId":"\(otherConfig)","payload":{"subject":"s","text":"t"},"attachments":["\(id)"]}
                """)
            #expect(stolen.status == 422 && stolen.errorField == "attachments[0]", "\(stolen.text)")

            #expect(try await api.call(.delete, "/api/attachments/\(id)", key: key).status == 204)
            #expect(try await api.call(.get, "/api/attachments/\(id)", key: key).status == 404)
            #expect(try await api.call(.delete, "/api/attachments/\(id)", key: key).status == 404)
            // The batch made before the delete still names it.
            let kept = try await api.call(.get, "/api/batches/\(try #require(batch["id"]?.stringValue))", key: key)
            #expect(kept["attachments"]?.array.count == 1, "\(kept.text)")
        }
    }

    @Test("refusals name the field: a missing name, a bad name or type, an empty or too large file, too many files, another channel")
    func refused() async throws {
        let harness = try APIHarness()
        let key = try harness.key(for: "ann@example.com")
        try await harness.run { api in
            for (uri, type, field) in [
                ("/api/attachments", "text/plain", "query.filename"),
                ("/api/attachments?filename=", "text/plain", "query.filename"),
                ("/api/attachments?filename=a%2Fb.txt", "text/plain", "query.filename"),
                ("/api/attachments?filename=a%22b.txt", "text/plain", "query.filename"),
                ("/api/attachments?filename=a%0Ab.txt", "text/plain", "query.filename"),
                ("/api/attachments?filename=\(String(repeating: "x", count: 256))", "text/plain", "query.filename"),
                ("/api/attachments?filename=a.txt", "text", "header.content-type"),
                ("/api/attachments?filename=a.txt", "text/pl ain", "header.content-type"),
            ] {
                let answer = try await api.call(.post, uri, key: key, contentType: type, body: "x")
                #expect(answer.status == 422 && answer.errorField == field, "\(uri) \(type): \(answer.text)")
            }
            let empty = try await api.call(.post, "/api/attachments?filename=a.txt", key: key, contentType: "text/plain", body: "")
            #expect(empty.status == 422 && empty.errorField == "body", "\(empty.text)")
            let large = try await api.call(.post, "/api/attachments?filename=a.bin", key: key, contentType: "application/octet-stream",
                                           body: String(repeating: "x", count: Attachment.maxTotalBytes + 1))
            #expect(large.status == 413, "\(large.status) \(large.text.prefix(200))")

            // Six files of 2 MiB each: each is fine, together they pass 10 MiB.
            var ids: [String] = []
            for index in 0..<6 {
                let file = try await api.call(.post, "/api/attachments?filename=f\(index).bin", key: key, contentType: "application/octet-stream",
                                              body: String(repeating: "y", count: 2 << 20))
                ids.append(try #require(file["id"]?.stringValue, "\(file.text)"))
            }
            let config = try await api.sendConfig(key)
            func batch(_ attachments: String) async throws -> APIClient.Answer {
                try await api.call(.post, "/api/batches", key: key, json: """
                    {"name":"b","sendConfigId":"\(config)","payload":{"subject":"s","text":"t"},"attachments":\(attachments)}
                    """)
            }
            let list = ids.map { "\"\($0)\"" }
            for (attachments, field) in [
                ("[\(list.joined(separator: ","))]", "attachments"),
                ("[\(list[0]),\(list[0])]", "attachments[1]"),
                ("[\"nope\"]", "attachments[0]"),
                ("\"\(ids[0])\"", "attachments"),
                ("[\(Array(repeating: list[0], count: 11).joined(separator: ","))]", "attachments"),
            ] {
                let answer = try await batch(attachments)
                #expect(answer.status == 422 && answer.errorField == field, "\(attachments.prefix(80)): \(answer.text)")
            }
            #expect(try await batch("[\(list[0]),\(list[1])]").status == 201)
            let sms = try await api.sendConfig(key, body: APIClient.telnyxConfig)
            let answer = try await api.call(.post, "/api/batches", key: key, json: """
                {"name":"b","sendConfigId":"\(sms)","payload":{"text":"t"},"attachments":[\(list[0])]}
                """)
            #expect(answer.status == 422 && answer.errorField == "attachments", "\(answer.text)")
        }
    }

    @Test("four uploads at once, and a fifth is turned away rather than queued; a slot given back is taken again")
    func uploadSlots() {
        let slots = UploadSlots(limit: 4)
        #expect((0..<4).allSatisfy { _ in slots.take() })
        #expect(!slots.take())
        slots.give()
        #expect(slots.take())
        #expect(!slots.take())
    }
}
