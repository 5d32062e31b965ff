import Mustache
@testable import Domain
@testable import Templating
import ProviderModel
import ProviderModel
import Testing

/// Swift Testing has an `Attachment` of its own.
private typealias Attachment = ProviderModel.Attachment

@Suite("Chunk jobs and batch templates")
struct ChunkJobTests {
    @Test("a chunk job survives its JSON form: shared fields once, each recipient's own fields, hostile characters intact")
    func roundTrip() throws {
        let common = OutboundMessage(id: "-", channel: .email, from: "News <news@example.com>", replyTo: ["help@example.com"],
                                     subject: "Hello", html: "<p>\"quoted\" \\ back\u{1}</p>", headers: [KeyValue("X-Campaign", "launch")],
                                     tags: [KeyValue("kind", "news")])
        let job = ChunkJob(batchID: "b1", userID: "u1", sendConfigID: "c1", common: common, recipients: [
            ChunkJob.Recipient(position: 7, address: "a@example.org"),
            ChunkJob.Recipient(position: 9, address: "b@example.org", subject: "Hi Ünïcødé 🚀", html: "<b>B</b>"),
        ])
        let decoded = try ChunkJob(decoding: job.encoded())
        #expect(decoded == job)
        let second = decoded.message(for: decoded.recipients[1])
        #expect(second.to == ["b@example.org"] && second.subject == "Hi Ünïcødé 🚀" && second.html == "<b>B</b>")
        #expect(second.idempotencyKey == "b1-9" && second.from == common.from && second.headers == common.headers)
        #expect(decoded.message(for: decoded.recipients[0]).subject == "Hello")
        #expect(job.messageID == "b1:7", "the same page yields the same Nats-Msg-Id")
    }

    @Test("a chunk job carries how many files its emails have, never their bytes; each message gets the batch's files, shared")
    func attachmentCount() throws {
        var job = ChunkJob(batchID: "b1", userID: "u1", sendConfigID: "c1", common: OutboundMessage(id: "-", channel: .email, subject: "s"),
                           recipients: [ChunkJob.Recipient(position: 1, address: "a@example.org")])
        job.attachmentCount = 2
        let encoded = job.encoded()
        #expect(try ChunkJob(decoding: encoded).attachmentCount == 2)
        #expect(encoded.count < 200, "the job names the files by count: \(encoded.count) bytes")
        let file = Attachment(filename: "a.pdf", content: AttachmentBytes(Array(repeating: 7, count: 1 << 20)))
        let message = job.message(for: job.recipients[0], attachments: [file, file])
        #expect(message.attachments.count == 2 && message.attachments[0].content === file.content, "the bytes are shared, not copied")
        // A job of a version before attachments says nothing of files: its sender must look.
        let older = try ChunkJob(decoding: Array(#"{"b":"x","u":"u","c":"c","m":{"channel":"email"},"r":[[1,"a"]]}"#.utf8))
        #expect(!older.attachmentCountKnown && older.mayCarryFiles)
        #expect(!String(decoding: older.encoded(), as: UTF8.self).contains("\"a\":"), "re-encoded (a redrive), it still says nothing")
        let sms = try ChunkJob(decoding: Array(#"{"b":"x","u":"u","c":"c","m":{"channel":"sms"},"r":[[1,"+1"]]}"#.utf8))
        #expect(!sms.mayCarryFiles)
        for bad in ["-1", "11", "1.5", "1e30", "\"2\""] {
            let text = #"{"b":"x","u":"u","c":"c","a":\#(bad),"m":{"channel":"email"},"r":[[1,"a"]]}"#
            #expect(throws: ChunkJobError.self, "a = \(bad)") { try ChunkJob(decoding: Array(text.utf8)) }
        }
    }

    @Test("a chunk job that is not one is refused with the reason, never a crash", arguments: [
        "", "null", "[]", #"{"b":"x"}"#, #"{"b":"x","u":"u","c":"c","m":{"channel":"pigeon"},"r":[[1,"a"]]}"#,
        #"{"b":"x","u":"u","c":"c","m":{"channel":"email"},"r":[]}"#, #"{"b":"x","u":"u","c":"c","m":{"channel":"email"},"r":[["1","a"]]}"#,
        #"{"b":"x","u":"u","c":"c","m":{"channel":"email"},"r":[[1.5,"a"]]}"#,
    ])
    func malformed(text: String) {
        #expect(throws: ChunkJobError.self) { try ChunkJob(decoding: Array(text.utf8)) }
    }

    @Test("templates: html escaped, subject and text as written, variables named, a missing one refused by name")
    func templates() throws {
        let template = try BatchTemplate(payloadJSON: #"{"subject":"Hi {{name}} & co","html":"<p>{{name}}</p>","text":"Code {{code}}"}"#,
                                         defaultsJSON: #"{"from":"news@example.com"}"#, channel: .email)
        #expect(template.common.from == "news@example.com")
        #expect(template.plainSlots == ["code", "name"], "every field plain: rendered from slots")
        let rendered = try template.render(position: 1, address: "a@example.org", variablesJSON: #"{"name":"<Ada>","code":42}"#).get()
        #expect(rendered.subject == "Hi <Ada> & co")
        #expect(rendered.html == "<p>&lt;Ada&gt;</p>")
        #expect(rendered.text == "Code 42")
        guard case .failure(let problem) = template.render(position: 2, address: "b@example.org", variablesJSON: #"{"name":"B"}"#) else {
            Issue.record("a recipient without code was rendered")
            return
        }
        #expect(problem.description.contains("\"code\""))
        // Every field plain: rendered from the names' slots. The address is the recipient's unless a variable
        // names another; null is nothing; a list leaves the plain way for mustache's, which reads it too.
        let plain = try BatchTemplate(payloadJSON: #"{"subject":"{{address}} {{n}}","text":"{{name}}|{{gone}}|{{address}}"}"#,
                                      defaultsJSON: "{}", channel: .email)
        let own = try plain.render(position: 3, address: "c@example.org", variablesJSON: #"{"name":"C","n":1.5,"gone":null}"#).get()
        #expect(own.subject == "c@example.org 1.5" && own.text == "C||c@example.org")
        let named = try plain.render(position: 4, address: "d@example.org", variablesJSON: #"{"name":"D","n":7,"gone":"","address":"x"}"#).get()
        #expect(named.subject == "x 7" && named.text == "D||x")
        #expect(plain.plainSlots == ["address", "gone", "n", "name"])
        let listed = try plain.render(position: 5, address: "e@example.org", variablesJSON: #"{"name":["a","b"],"n":1,"gone":""}"#).get()
        #expect(listed.subject == "e@example.org 1" && listed.text?.hasSuffix("||e@example.org") == true && listed.text != "||e@example.org")
        guard case .failure(let absent) = plain.render(position: 6, address: "f@example.org", variablesJSON: #"{"name":"F","gone":""}"#) else {
            Issue.record("a recipient without n was rendered")
            return
        }
        #expect(absent.description.contains("\"n\""))
        #expect(BatchTemplate.variables(in: "{{a}} {{{b}}} {{& c}} {{#d}}{{/d}} {{! note}} {{e.f}}") == ["a", "b", "c", "e"])
    }

    @Test("the plain renderer gives swift-mustache's text, escaping included; templates with sections are left to mustache",
          arguments: ["Hi {{name}}!", "<p>{{ name }} &amp; {{{name}}} / {{&name}}</p>", "{{a}}{{b}}", "no tags", "{{name}}",
                      "x {{ name }} y {{name}} z"])
    func plainMatchesMustache(source: String) throws {
        let plain = try #require(PlainTemplate(source))
        let values = ["name": "<Ada> & \"O'Hara\" ünï 🚀", "a": "&", "b": ""]
        for html in [true, false] {
            let mustache = try MustacheTemplate(string: html ? source : "{{% CONTENT_TYPE: TEXT}}" + source)
            #expect(plain.render(values, escapeHTML: html) == mustache.render(values))
        }
        #expect(PlainTemplate("{{#items}}x{{/items}}") == nil)
        #expect(PlainTemplate("{{person.name}}") == nil)
        #expect(PlainTemplate("{{! note}}") == nil)
    }

    @Test("webhook data: each string value rendered alone, so a variable cannot break the JSON")
    func webhookData() throws {
        let template = try BatchTemplate(payloadJSON: #"{"data":{"greeting":"Hi {{name}}","n":1}}"#, defaultsJSON: "{}", channel: .webhook)
        let rendered = try template.render(position: 1, address: "x", variablesJSON: #"{"name":"\"quote\" }"}"#).get()
        let payload = try #require(JSONValue.parse(Array((rendered.payload ?? "").utf8)))
        #expect(payload["greeting"] == .string("Hi \"quote\" }"))
        #expect(payload["n"] == .number(1))
    }
}
