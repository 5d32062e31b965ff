import HostCore
import Testing
@testable import SenderAPI
import ProviderModel

@Suite("Stored templates")
struct TemplateTests {
    static let welcome = #"{"name":"welcome","channel":"email","payload":{"subject":"Hi {{name}}","html":"<p>Hello {{name}}, from {{team.name}}</p>"}}"#

    @Test("each update is a new version; old versions stay readable; the variables are listed; delete hides the template")
    func versions() async throws {
        let harness = try APIHarness()
        let key = try harness.key(for: "tina@example.com")
        try await harness.run { api in
            let created = try await api.call(.post, "/api/templates", key: key, json: Self.welcome)
            #expect(created.status == 201, "\(created.text)")
            let id = try #require(created["id"]?.stringValue)
            #expect(created["version"] == .number(1) && created["channel"] == .string("email"))
            #expect(created["variables"] == .array([.string("name"), .string("team")]), "\(created.text)")

            let updated = try await api.call(.put, "/api/templates/\(id)", key: key,
                                             json: #"{"name":"welcome v2","payload":{"subject":"Welcome, {{name}}","text":"Hello"}}"#)
            #expect(updated.status == 200 && updated["version"] == .number(2) && updated["name"] == .string("welcome v2"), "\(updated.text)")
            #expect(updated["variables"] == .array([.string("name")]))
            let latest = try await api.call(.get, "/api/templates/\(id)", key: key)
            #expect(latest["version"] == .number(2) && latest["latestVersion"] == .number(2))
            let first = try await api.call(.get, "/api/templates/\(id)/versions/1", key: key)
            #expect(first["payload"]?["subject"] == .string("Hi {{name}}"), "version 1 is as it was made: \(first.text)")
            #expect(try await api.call(.get, "/api/templates/\(id)/versions/3", key: key).status == 404)
            #expect(try await api.call(.get, "/api/templates/\(id)/versions/x", key: key).status == 404)

            let page = try await api.call(.get, "/api/templates", key: key)
            #expect(page["data"]?.array.map { $0["id"] } == [.string(id)])
            #expect(try await api.call(.delete, "/api/templates/\(id)", key: key).status == 204)
            #expect(try await api.call(.get, "/api/templates/\(id)", key: key).status == 404)
            #expect(try await api.call(.put, "/api/templates/\(id)", key: key, json: #"{"payload":{"subject":"s","text":"t"}}"#).status == 404)
            #expect(try await api.call(.delete, "/api/templates/\(id)", key: key).status == 404)
            #expect(try await api.call(.get, "/api/templates", key: key)["data"]?.array.isEmpty == true)
        }
    }

    @Test("a template that cannot be sent is refused when stored, naming the field")
    func refused() async throws {
        let harness = try APIHarness()
        let key = try harness.key(for: "tina@example.com")
        try await harness.run { api in
            for (body, field) in [
                (#"{"name":"x","channel":"fax","payload":{"text":"t"}}"#, "channel"),
                (#"{"name":"x","channel":"email","payload":{"text":"t"}}"#, "payload.subject"),
                (#"{"name":"x","channel":"sms","payload":{"subject":"s","text":"t"}}"#, "payload.subject"),
                (#"{"name":"x","channel":"email","payload":{"subject":"{{#open}}","text":"t"}}"#, "payload"),
                (#"{"name":"x","channel":"email"}"#, "payload"),
                (#"{"channel":"email","payload":{"subject":"s","text":"t"}}"#, "name"),
                (#"{"name":"x","channel":"email","payload":{"subject":"s","text":"t","bcc":"b@x.com"}}"#, "payload.bcc"),
            ] {
                let answer = try await api.call(.post, "/api/templates", key: key, json: body)
                #expect(answer.status == 422 && answer.errorField == field, "\(body): \(answer.text)")
            }
        }
    }

    @Test("a preview renders a version for given variables; a missing variable is named")
    func preview() async throws {
        let harness = try APIHarness()
        let key = try harness.key(for: "tina@example.com")
        try await harness.run { api in
            let id = try #require(try await api.call(.post, "/api/templates", key: key, json: Self.welcome)["id"]?.stringValue)
            _ = try await api.call(.put, "/api/templates/\(id)", key: key, json: #"{"payload":{"subject":"v2 {{name}}","text":"to {{address}}"}}"#)
            let rendered = try await api.call(.post, "/api/templates/\(id)/preview", key: key,
                                              json: #"{"version":1,"variables":{"name":"<Ann>","team":{"name":"Ops"}}}"#)
            #expect(rendered.status == 200, "\(rendered.text)")
            #expect(rendered["subject"] == .string("Hi <Ann>") && rendered["version"] == .number(1))
            #expect(rendered["html"] == .string("<p>Hello &lt;Ann&gt;, from Ops</p>"), "html escapes, subject does not: \(rendered.text)")
            let latest = try await api.call(.post, "/api/templates/\(id)/preview", key: key, json: #"{"to":"b@x.com","variables":{"name":"Bo"}}"#)
            #expect(latest["subject"] == .string("v2 Bo") && latest["text"] == .string("to b@x.com"), "\(latest.text)")
            let missing = try await api.call(.post, "/api/templates/\(id)/preview", key: key, json: #"{"version":1,"variables":{"name":"Ann"}}"#)
            #expect(missing.status == 422 && missing.errorField == "variables" && missing.text.contains("team"), "\(missing.text)")
        }
    }

    @Test("a batch or message names a template (the latest, or a version) and records the version it was made from")
    func batchesFromTemplates() async throws {
        let harness = try APIHarness()
        let key = try harness.key(for: "tina@example.com"), other = try harness.key(for: "omar@example.com")
        try await harness.run { api in
            let config = try await api.sendConfig(key)
            let id = try #require(try await api.call(.post, "/api/templates", key: key, json: Self.welcome)["id"]?.stringValue)
            _ = try await api.call(.put, "/api/templates/\(id)", key: key, json: #"{"payload":{"subject":"v2 {{name}}","text":"t"}}"#)
            func batch(_ content: String, as caller: String = key) async throws -> APIClient.Answer {
                try await api.call(.post, "/api/batches", key: caller, json: #"{"name":"b","sendConfigId":"\#(config)",\#(content),"recipients":["a@x.com"]}"#)
            }
            let latest = try await batch(#""templateId":"\#(id)""#)
            #expect(latest.status == 201 && latest["templateVersion"] == .number(2) && latest["templateId"] == .string(id), "\(latest.text)")
            #expect(latest["payload"]?["subject"] == .string("v2 {{name}}"))
            let pinned = try await batch(#""templateId":"\#(id)","templateVersion":1"#)
            #expect(pinned["templateVersion"] == .number(1) && pinned["payload"]?["subject"] == .string("Hi {{name}}"), "\(pinned.text)")
            #expect(try await batch(#""templateId":"\#(id)","templateVersion":9"#).errorField == "templateVersion")
            #expect(try await batch(#""templateId":"\#(id)","payload":{"subject":"s","text":"t"}"#).errorField == "payload")
            #expect(try await batch(#""templateVersion":1,"payload":{"subject":"s","text":"t"}"#).errorField == "templateVersion")
            #expect(try await batch(#""name2":1"#).status == 422)
            #expect(try await batch(#""templateId":"nope""#).errorField == "templateId")

            let sms = try #require(try await api.call(.post, "/api/templates", key: key,
                                                      json: #"{"name":"code","channel":"sms","payload":{"text":"Code {{code}}"}}"#)["id"]?.stringValue)
            let crossed = try await batch(#""templateId":"\#(sms)""#)
            #expect(crossed.errorField == "templateId" && crossed.text.contains("sms"), "an SMS template on an email send-config: \(crossed.text)")
            let otherConfig = try await api.sendConfig(other)
            let stolen = try await api.call(.post, "/api/batches", key: other,
                                            json: #"{"name":"b","sendConfigId":"\#(otherConfig)","templateId":"\#(id)"}"#)
            #expect(stolen.errorField == "templateId", "another user's template cannot be used: \(stolen.text)")

            let message = try await api.call(.post, "/api/messages", key: key,
                                             json: #"{"sendConfigId":"\#(config)","to":"a@x.com","templateId":"\#(id)","variables":{"name":"Ann"}}"#)
            #expect(message.status == 202 && message["templateVersion"] == .number(2), "\(message.text)")
            let lacking = try await api.call(.post, "/api/messages", key: key,
                                             json: #"{"sendConfigId":"\#(config)","to":"a@x.com","templateId":"\#(id)","templateVersion":1,"variables":{"name":"Ann"}}"#)
            #expect(lacking.errorField == "variables" && lacking.text.contains("team"), "\(lacking.text)")

            #expect(try await api.call(.delete, "/api/templates/\(id)", key: key).status == 204)
            #expect(try await batch(#""templateId":"\#(id)""#).errorField == "templateId", "a deleted template makes no new batch")
            let kept = try await api.call(.get, "/api/batches/\(try #require(pinned["id"]?.stringValue))", key: key)
            #expect(kept["templateVersion"] == .number(1) && kept["payload"]?["subject"] == .string("Hi {{name}}"), "a batch keeps what it was made from")
        }
    }
}
