import Testing
import ProviderModel

@Suite("Batches: drafts, pages, sending and cancelling")
struct BatchTests {
    @Test("a batch with inline recipients drops duplicates and counts them; its detail counts recipients per status")
    func inlineRecipients() async throws {
        let harness = try APIHarness()
        let key = try harness.key(for: "ann@example.com")
        try await harness.run { api in
            let config = try await api.sendConfig(key)
            let batch = try await api.draftBatch(key, config: config, recipients: """
                ["ann@example.com", {"address":"Bob@Example.com","variables":{"name":"Bob"}}, "ANN@example.com", " bob@example.com "]
                """)
            let detail = try await api.call(.get, "/api/batches/\(batch)", key: key)
            #expect(detail["status"] == .string("draft"))
            #expect(detail["counts"]?["recipients"]?.int == 2)
            #expect(detail["counts"]?["duplicates"]?.int == 2)
            #expect(detail["recipientStatus"] == .object(["pending": .number(2)]))
            #expect(try await api.addresses(key, batch: batch) == ["ann@example.com", "bob@example.com"])
        }
    }

    @Test("bad batches are refused naming the field, and nothing is stored", arguments: [
        (#"{"name":"b","sendConfigId":"CONFIG","payload":{"html":"<p>x</p>"}}"#, "payload.subject"),
        (#"{"name":"b","sendConfigId":"CONFIG","payload":{"subject":"s"}}"#, "payload.html"),
        (#"{"name":"b","sendConfigId":"CONFIG","payload":{"subject":"s","text":"t","from":"nobody"}}"#, "payload.from"),
        (#"{"name":"b","sendConfigId":"CONFIG","payload":{"subject":"s","text":"t","colour":"red"}}"#, "payload.colour"),
        (#"{"name":"b","sendConfigId":"CONFIG","payload":{"subject":"s","text":"t"},"recipients":["a@x.com","not-an-address"]}"#, "recipients[1].address"),
        (#"{"name":"b","sendConfigId":"CONFIG","payload":{"subject":"s","text":"t"},"recipients":[{"address":"a@x.com","variables":{"n":1}}]}"#, "recipients[0].variables.n"),
        (#"{"name":"b","sendConfigId":"CONFIG","payload":{"subject":"s","text":"t"},"scheduledAt":"tomorrow"}"#, "scheduledAt"),
        (#"{"name":"b","sendConfigId":"7c9e6679-7425-40de-944b-e07fc1f90ae7","payload":{"subject":"s","text":"t"}}"#, "sendConfigId"),
        (#"{"name":"b","sendConfigId":"CONFIG"}"#, "payload"),
    ])
    func badBatches(body: String, field: String) async throws {
        let harness = try APIHarness()
        let key = try harness.key(for: "ann@example.com")
        try await harness.run { api in
            let config = try await api.sendConfig(key)
            let answer = try await api.call(.post, "/api/batches", key: key, json: body.replacingOccurrences(of: "CONFIG", with: config))
            #expect(answer.status == 422, "\(answer.text)")
            #expect(answer.errorField == field, "\(answer.text)")
            #expect(try await api.call(.get, "/api/batches", key: key)["data"]?.array.isEmpty == true, "no batch was stored")
            #expect(try harness.connection().query("SELECT count(*) FROM recipients")[0][0] == "0")
        }
    }

    @Test("SMS batches check E.164 numbers and need text")
    func sms() async throws {
        let harness = try APIHarness()
        let key = try harness.key(for: "ann@example.com")
        try await harness.run { api in
            let config = try await api.sendConfig(key, body: """
                {"name":"sms","provider":"telnyx","credentials":{"api_key":"KEY0123","public_key":"AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="},"defaults":{"from":"+15550001111"}}
                """)
            let noText = try await api.call(.post, "/api/batches", key: key, json: #"{"name":"s","sendConfigId":"\#(config)","payload":{"subject":"x"}}"#)
            #expect(noText.errorField == "payload.text")
            let bad = try await api.call(.post, "/api/batches", key: key, json: """
                {"name":"s","sendConfigId":"\(config)","payload":{"text":"hi"},"recipients":["+447700900123","0044 7700"]}
                """)
            #expect(bad.errorField == "recipients[1].address")
            let good = try await api.call(.post, "/api/batches", key: key, json: """
                {"name":"s","sendConfigId":"\(config)","payload":{"text":"hi"},"recipients":["+44 7700 900123","+447700900123"]}
                """)
            #expect(good.status == 201)
            #expect(good["counts"]?["recipients"]?.int == 1)
        }
    }

    @Test("listing pages newest first with a cursor, and filters by status")
    func pages() async throws {
        let harness = try APIHarness()
        let key = try harness.key(for: "ann@example.com")
        try await harness.run { api in
            let config = try await api.sendConfig(key)
            var ids: [String] = []
            for _ in 0..<3 { ids.append(try await api.draftBatch(key, config: config, recipients: #"["a@x.com"]"#)) }
            let first = try await api.call(.get, "/api/batches?limit=2", key: key)
            #expect(first["data"]?.array.compactMap { $0["id"]?.stringValue } == [ids[2], ids[1]])
            let cursor = try #require(first["nextCursor"]?.stringValue)
            let second = try await api.call(.get, "/api/batches?limit=2&cursor=\(cursor)", key: key)
            #expect(second["data"]?.array.compactMap { $0["id"]?.stringValue } == [ids[0]])
            #expect(second["nextCursor"] == .null)
            _ = try await api.call(.post, "/api/batches/\(ids[1])/send", key: key)
            let queued = try await api.call(.get, "/api/batches?status=queued", key: key)
            #expect(queued["data"]?.array.compactMap { $0["id"]?.stringValue } == [ids[1]])
            #expect(try await api.call(.get, "/api/batches?status=sent", key: key).errorField == "query.status")
            #expect(try await api.call(.get, "/api/batches?limit=0", key: key).errorField == "query.limit")
            #expect(try await api.call(.get, "/api/batches?cursor=nope", key: key).errorField == "query.cursor")
        }
    }

    @Test("a draft is deleted with its recipients and the key that made it; a batch that was sent is not (409); another user's is 404")
    func deleteDraft() async throws {
        let harness = try APIHarness()
        let key = try harness.key(for: "ann@example.com"), other = try harness.key(for: "bob@example.com")
        try await harness.run { api in
            let config = try await api.sendConfig(key)
            let body = #"{"name":"x","sendConfigId":"\#(config)","payload":{"subject":"s","text":"t"},"recipients":["a@x.com","b@x.com"]}"#
            let made = try await api.call(.post, "/api/batches", key: key, json: body, headers: IdempotencyTests.keyed("draft-1"))
            let draft = try #require(made["id"]?.stringValue)
            #expect(try await api.call(.delete, "/api/batches/\(draft)", key: other).status == 404)
            #expect(try await api.call(.delete, "/api/batches/\(draft)", key: key).status == 204)
            #expect(try await api.call(.get, "/api/batches/\(draft)", key: key).status == 404)
            #expect(try harness.connection().query("SELECT count(*) FROM recipients WHERE batch_id = $1", [draft])[0] == ["0"])
            #expect(try await api.call(.delete, "/api/batches/\(draft)", key: key).status == 404)
            // The key made a batch that is gone: the same request again makes a new one.
            let again = try await api.call(.post, "/api/batches", key: key, json: body, headers: IdempotencyTests.keyed("draft-1"))
            #expect(again.status == 201 && again["id"]?.stringValue != draft, "\(again.text)")
            let sent = try await api.draftBatch(key, config: config, recipients: #"["a@x.com"]"#)
            #expect(try await api.call(.post, "/api/batches/\(sent)/send", key: key).status == 200)
            let refused = try await api.call(.delete, "/api/batches/\(sent)", key: key)
            #expect(refused.status == 409 && refused.errorField == "path.id", "\(refused.text)")
        }
    }

    @Test("send queues a draft (or schedules it), refuses twice and refuses an empty batch; cancel stops it and its recipients")
    func sendAndCancel() async throws {
        let harness = try APIHarness()
        let key = try harness.key(for: "ann@example.com")
        try await harness.run { api in
            let config = try await api.sendConfig(key)
            let empty = try await api.draftBatch(key, config: config)
            let refused = try await api.call(.post, "/api/batches/\(empty)/send", key: key)
            #expect(refused.status == 422)
            #expect(refused.errorField == "recipients")

            let batch = try await api.draftBatch(key, config: config, recipients: #"["a@x.com","b@x.com"]"#)
            // Times that crashed the server or were rolled over are refused naming the field; the server still answers.
            for bad in ["0000-01-01T00:00:00+00:01", "10000-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "2030-02-30T00:00:00Z",
                        "2030-01-01T23:59:60Z", "2030-01-01T00:00:00+99:99"] {
                let refusedTime = try await api.call(.post, "/api/batches/\(batch)/send", key: key, json: #"{"scheduledAt":"\#(bad)"}"#)
                #expect(refusedTime.status == 422 && refusedTime.errorField == "scheduledAt", "\(bad): \(refusedTime.status) \(refusedTime.text)")
            }
            let draftPause = try await api.call(.post, "/api/batches/\(batch)/pause", key: key)
            #expect(draftPause.status == 409 && draftPause.errorField == "path.id", "a draft is not on its way: \(draftPause.text)")
            let sent = try await api.call(.post, "/api/batches/\(batch)/send", key: key, json: #"{"scheduledAt":"2030-01-02T03:04:05Z"}"#)
            #expect(sent.status == 200, "\(sent.text)")
            #expect(sent["status"] == .string("queued"))
            #expect(sent["scheduledAt"]?.stringValue?.hasPrefix("2030-01-02T03:04:05") == true)
            let twice = try await api.call(.post, "/api/batches/\(batch)/send", key: key)
            #expect(twice.status == 409)
            let late = try await api.call(.post, "/api/batches/\(batch)/recipients", key: key, json: #"["c@x.com"]"#)
            #expect(late.status == 409, "a batch that is no longer a draft takes no recipients")
            let paused = try await api.call(.post, "/api/batches/\(batch)/pause", key: key)
            #expect(paused.status == 200 && paused["status"] == .string("queued") && paused["pausedAt"]?.stringValue != nil, "\(paused.text)")
            let resumed = try await api.call(.post, "/api/batches/\(batch)/resume", key: key)
            #expect(resumed.status == 200 && resumed["pausedAt"] == .null, "\(resumed.text)")

            let cancelled = try await api.call(.post, "/api/batches/\(batch)/cancel", key: key)
            #expect(cancelled["status"] == .string("cancelled"))
            #expect(cancelled["recipientStatus"] == .object(["cancelled": .number(2)]))
            #expect(try await api.call(.post, "/api/batches/\(batch)/cancel", key: key).status == 409)
            #expect(try await api.call(.post, "/api/batches/\(batch)/pause", key: key).status == 409, "a finished batch is not paused")
            #expect(try await api.call(.post, "/api/batches/\(batch)/send", key: key, json: #"{"when":1}"#).errorField == "when")
        }
    }

    @Test("a NUL character anywhere in a JSON body is a 422 naming its path, never a 500 or a truncated name; a member named twice is a 400; nothing is stored")
    func nulAndDuplicateMembers() async throws {
        let harness = try APIHarness()
        let key = try harness.key(for: "nul@example.com")
        try await harness.run { api in
            let named = try await api.call(.post, "/api/send-configs", key: key,
                                           json: APIClient.resendConfig.replacingOccurrences(of: #""newsletter""#, with: #""news\u0000letter""#))
            #expect(named.status == 422 && named.errorField == "name", "\(named.status) \(named.text)")
            let defaults = try await api.call(.post, "/api/send-configs", key: key,
                                              json: APIClient.resendConfig.replacingOccurrences(of: #""news@example.com""#, with: #""news@example.com\u0000""#))
            #expect(defaults.status == 422 && defaults.errorField == "defaults.from", "\(defaults.status) \(defaults.text)")
            let config = try await api.sendConfig(key)
            let subject = try await api.call(.post, "/api/batches", key: key, json: """
                {"name":"launch","sendConfigId":"\(config)","payload":{"subject":"Hi\\u0000","html":"<p>x</p>"}}
                """)
            #expect(subject.status == 422 && subject.errorField == "payload.subject", "\(subject.status) \(subject.text)")
            let batchName = try await api.call(.post, "/api/batches", key: key, json: """
                {"name":"la\\u0000unch","sendConfigId":"\(config)","payload":{"subject":"Hi","html":"<p>x</p>"}}
                """)
            #expect(batchName.status == 422 && batchName.errorField == "name")
            let batch = try await api.draftBatch(key, config: config)
            let variables = try await api.call(.post, "/api/batches/\(batch)/recipients", key: key,
                                               json: #"[{"address":"a@example.com"},{"address":"b@example.com","variables":{"name":"B\u0000"}}]"#)
            #expect(variables.status == 422 && variables.errorField == "recipients[1].variables.name", "\(variables.status) \(variables.text)")
            let twice = try await api.call(.post, "/api/batches", key: key, json: """
                {"name":"one","name":"two","sendConfigId":"\(config)","payload":{"subject":"Hi","html":"<p>x</p>"}}
                """)
            #expect(twice.status == 400 && twice.errorField == "body" && twice.text.contains("appears twice"), "\(twice.status) \(twice.text)")
            let batches = try await api.call(.get, "/api/batches", key: key)
            #expect(batches["data"]?.array.count == 1, "only the draft made on purpose: \(batches.text)")
            #expect(try await api.call(.get, "/api/batches/\(batch)/recipients", key: key)["data"]?.array.isEmpty == true)
        }
    }
}
