import Analytics
import Domain
import Foundation
import HostCore
import Messaging
import Persistence
import ProviderInstances
import ProviderModel
import Templating
import Testing
@testable import SenderAPI

@Suite("The OpenAPI document")
struct OpenAPITests {
    @Test("it documents exactly the routes the router serves, each with its error responses in the error shape")
    func matchesRouter() async throws {
        let harness = try APIHarness()
        let document = try #require(JSONValue.parse(OpenAPIDocument.bytes ?? []))
        guard case .object(let paths)? = document["paths"] else { Issue.record("no paths"); return }
        var documented: Set<String> = []
        for (path, item) in paths {
            guard case .object(let operations) = item else { continue }
            for (method, operation) in operations {
                documented.insert("\(method.uppercased()) \(path)")
                guard case .object(let responses)? = operation["responses"] else { Issue.record("\(method) \(path): no responses"); continue }
                for (status, response) in responses where status.hasPrefix("4") {
                    #expect(response["$ref"] == .string("#/components/responses/E\(status)"), "\(method) \(path) \(status)")
                }
                // An operation with `security: []` (the metrics) needs no key; every other one under /api does.
                if path.hasPrefix("/api/"), operation["security"] != .array([]) {
                    #expect(responses["401"] != nil, "\(method) \(path) needs a key, so documents 401")
                    // Its rate limiter and connection pools can answer 503 (busy, or Redis down) on any of them.
                    #expect(responses["503"] == .object(["$ref": .string("#/components/responses/E503")]), "\(method) \(path) documents 503")
                }
            }
        }
        let served = Set(harness.server.router().routes.map { "\($0.method.rawValue) \($0.path.description)" }
            .filter { !$0.hasPrefix("HEAD ") })
        #expect(served.subtracting(documented).isEmpty, "served but undocumented: \(served.subtracting(documented).sorted())")
        #expect(documented.subtracting(served).isEmpty, "documented but not served: \(documented.subtracting(served).sorted())")
        #expect(served.count >= 20)
        try await harness.finish()
    }

    @Test("its enums are the one list of each vocabulary: batch and recipient statuses, analytics counts")
    func vocabularies() throws {
        let document = try #require(JSONValue.parse(OpenAPIDocument.bytes ?? []))
        let schemas = document["components"]?["schemas"]
        func strings(_ value: JSONValue?) -> [String] { (value?.arrayValue ?? []).compactMap(\.stringValue) }
        #expect(strings(schemas?["BatchStatus"]?["enum"]) == BatchStatus.allCases.map(\.rawValue))
        #expect(strings(schemas?["RecipientStatus"]?["enum"]) == RecipientStatus.allCases.map(\.rawValue))
        #expect(strings(schemas?["BatchEventType"]?["enum"]) == BatchEventType.allCases.map(\.rawValue))
        let counts = AnalyticsEventType.allCases.map(\.rawValue) + ["bouncedHard", "bouncedSoft"]
        #expect(strings(schemas?["AnalyticsCounts"]?["required"]) == counts)
        guard case .object(let properties)? = schemas?["AnalyticsCounts"]?["properties"] else { Issue.record("no AnalyticsCounts"); return }
        #expect(Set(properties.keys) == Set(counts))
    }

    @Test("it is served at /api/openapi.json to a key holder, byte for byte as the file")
    func served() async throws {
        let harness = try APIHarness()
        let key = try harness.key(for: "ann@example.com")
        try await harness.run { api in
            let answer = try await api.call(.get, "/api/openapi.json", key: key)
            #expect(answer.status == 200)
            #expect(answer["openapi"] == .string("3.1.0"))
            #expect(Array(answer.text.utf8) == OpenAPIDocument.bytes)
        }
    }

    @Test("a method a served path does not take is 405 with Allow naming those it does; an unknown path stays 404")
    func methodNotAllowed() async throws {
        let harness = try APIHarness()
        let key = try harness.key(for: "ann@example.com")
        try await harness.run { api in
            let wrong = try await api.call(.delete, "/api/batches", key: key)
            #expect(wrong.status == 405 && wrong.errorCode == "method_not_allowed", "\(wrong.text)")
            #expect(wrong.headers[.allow] == "GET, POST")
            let onID = try await api.call(.put, "/api/batches/\(UUID().uuidString)/send", key: key)
            #expect(onID.status == 405 && onID.headers[.allow] == "POST")
            #expect(try await api.call(.get, "/api/nothing-here", key: key).status == 404)
        }
    }
}
