import Analytics
import Domain
import Foundation
import HTTPTypes
import HostCore
import Hummingbird
import Logging
import Messaging
import NIOCore
import Persistence
import ProviderCrypto
import ProviderInstances
import ProviderModel
import Services
import SenderAPI
import Synchronization
import Templating
import Testing
@testable import WebDashboard

/// The dashboard's security promises, over HTTP as a browser speaks it: CSRF tokens, sessions kept per
/// user, the cookie's flags, and sign-in that neither tells who has an account nor lets a password be guessed.
@Suite("Web dashboard: sessions, CSRF and sign-in")
struct WebDashboardTests {
    static let password = "correct horse battery staple"

    @Test("a form posted without its CSRF token, or with another's, is refused 403 and changes nothing; with it, it works")
    func csrf() async throws {
        let harness = try APIHarness()
        try await Self.run(harness) { client in
            // A visitor who never loaded a form has no token cookie: nothing they post can match.
            let cold = Browser(client: client)
            #expect(try await cold.post("/register", ["email": "ann@example.com", "password": Self.password]).status == 403)
            let ann = try await Browser.registered(client, "ann@example.com")
            let token = try await ann.csrf("/batches")
            let config = try await ann.sendConfig()
            let form = ["name": "launch", "sendConfigId": config, "subject": "Hi", "text": "Hello", "from": "news@example.com"]
            #expect(try await ann.post("/batches", form).status == 403)
            #expect(try await ann.post("/batches", form.merging(["_csrf": String(repeating: "0", count: token.count)]) { $1 }).status == 403)
            // A visitor's token is not a session's.
            let visitorToken = try await cold.csrf("/login")
            #expect(try await ann.post("/batches", form.merging(["_csrf": visitorToken]) { $1 }).status == 403)
            #expect(try harness.connection().query("SELECT count(*) FROM batches")[0][0] == "0")
            // A script's request carries it in a header: the upload without it is refused too.
            #expect(try await ann.request(.post, "/api-keys", body: "name=x", contentType: "application/x-www-form-urlencoded").status == 403)
            let created = try await ann.post("/batches", form.merging(["_csrf": token]) { $1 })
            #expect(created.status == 303, "\(created.text)")
            #expect(try harness.connection().query("SELECT count(*) FROM batches")[0][0] == "1")
        }
    }

    @Test("one user's session gets 404 on another's batch, recipient, live counters and send-config pages, and cannot send or cancel theirs")
    func isolation() async throws {
        let harness = try APIHarness()
        try await Self.run(harness) { client in
            let ann = try await Browser.registered(client, "ann@example.com")
            let bob = try await Browser.registered(client, "bob@example.com")
            let config = try await ann.sendConfig()
            let created = try await ann.post("/batches", ["name": "ann's", "sendConfigId": config, "subject": "Hi", "text": "Hello",
                                                         "from": "news@example.com", "_csrf": try await ann.csrf("/batches")])
            let batch = try #require(created.headers[.location]).replacingOccurrences(of: "/batches/", with: "")
            let upload = try await ann.request(.post, "/batches/\(batch)/recipients", body: "email,name\nx@example.com,X\n",
                                               contentType: "text/csv", headers: [HTTPField.Name("X-CSRF-Token")!: try await ann.csrf("/batches")])
            #expect(upload.status == 200, "\(upload.text)")
            #expect(try await ann.request(.get, "/batches/\(batch)").status == 200)
            #expect(try await ann.request(.get, "/batches/\(batch)/recipients/1").status == 200)
            for path in ["/batches/\(batch)", "/batches/\(batch)/live", "/batches/\(batch)/recipients/1", "/send-configs/\(config)"] {
                let answer = try await bob.request(.get, path)
                #expect(answer.status == 404, "\(path): \(answer.status)")
                #expect(!answer.text.contains("ann's") && !answer.text.contains("x@example.com"), "\(path) shows ann's data")
            }
            let token = try await bob.csrf("/batches")
            for path in ["/batches/\(batch)/send", "/batches/\(batch)/cancel", "/batches/\(batch)/pause", "/batches/\(batch)/resume",
                         "/batches/\(batch)/retry-failed", "/batches/\(batch)/delete"] {
                #expect(try await bob.post(path, ["_csrf": token]).status == 404, "\(path)")
            }
            #expect(try await bob.request(.post, "/batches/\(batch)/recipients", body: "email\ny@example.com\n", contentType: "text/csv",
                                          headers: [HTTPField.Name("X-CSRF-Token")!: token]).status == 404)
            #expect(try harness.connection().query("SELECT status, recipient_count FROM batches WHERE id = $1", [batch])[0] == ["draft", "1"])
            // Bob's lists show none of it.
            #expect(!(try await bob.request(.get, "/batches").text.contains("ann's")))
            // Without a session, pages send the visitor to sign in.
            let anonymous = try await Browser(client: client).request(.get, "/batches/\(batch)")
            #expect(anonymous.status == 303 && anonymous.headers[.location] == "/login")
            // Ann deletes her draft: back to the list, the batch gone.
            let deleted = try await ann.post("/batches/\(batch)/delete", ["_csrf": try await ann.csrf("/batches")])
            #expect(deleted.status == 303 && deleted.headers[.location] == "/batches", "\(deleted.status) \(deleted.text)")
            #expect(try harness.connection().query("SELECT count(*) FROM batches WHERE id = $1", [batch])[0] == ["0"])
        }
    }

    @Test("the queue page lists the user's batches on their way (a scheduled one), and only theirs")
    func queuePage() async throws {
        let harness = try APIHarness()
        try await Self.run(harness) { client in
            let ann = try await Browser.registered(client, "ann@example.com")
            let bob = try await Browser.registered(client, "bob@example.com")
            let empty = try await ann.request(.get, "/queue")
            #expect(empty.status == 200 && empty.text.contains("Nothing is on its way."), "\(empty.status) \(empty.text)")
            let config = try await ann.sendConfig()
            let created = try await ann.post("/batches", ["name": "ann's launch", "sendConfigId": config, "subject": "Hi", "text": "Hello",
                                                         "from": "news@example.com", "_csrf": try await ann.csrf("/batches")])
            let batch = try #require(created.headers[.location]).replacingOccurrences(of: "/batches/", with: "")
            _ = try await ann.request(.post, "/batches/\(batch)/recipients", body: "email\nx@example.com\n", contentType: "text/csv",
                                      headers: [HTTPField.Name("X-CSRF-Token")!: try await ann.csrf("/batches")])
            let sent = try await ann.post("/batches/\(batch)/send", ["scheduledAt": "2031-01-01T00:00", "_csrf": try await ann.csrf("/batches")])
            #expect(sent.status == 303, "\(sent.status) \(sent.text)")
            let listed = try await ann.request(.get, "/queue")
            #expect(listed.status == 200 && (listed.text.contains("ann&#39;s launch") || listed.text.contains("ann's launch")), "\(listed.text)")
            #expect(listed.text.contains("/batches/\(batch)"))
            #expect(!(try await bob.request(.get, "/queue")).text.contains("/batches/\(batch)"))
        }
    }

    @Test("templates: made, saved as a new version, previewed with variables (escaped), picked for a batch that shows its version, deleted")
    func templatePages() async throws {
        let harness = try APIHarness()
        try await Self.run(harness) { client in
            let ann = try await Browser.registered(client, "ann@example.com")
            let refused = try await ann.post("/templates", ["name": "bad", "channel": "email", "text": "no subject", "_csrf": try await ann.csrf("/templates")])
            #expect(refused.status == 422 && refused.text.contains("payload.subject"), "\(refused.status) \(refused.text.prefix(400))")
            #expect(refused.text.contains("no subject"), "the form keeps what was typed")
            let created = try await ann.post("/templates", ["name": "welcome", "channel": "email", "subject": "Hi {{name}}",
                                                            "html": "<p>Hello {{name}}</p>", "_csrf": try await ann.csrf("/templates")])
            let location = try #require(created.headers[.location], "\(created.status) \(created.text.prefix(400))")
            let id = location.replacingOccurrences(of: "/templates/", with: "")
            // Members the form does not edit, as the API may have set them: a save keeps them.
            _ = try harness.connection().query(#"UPDATE template_versions SET payload = payload || '{"tags":{"campaign":"spring-launch"}}' WHERE template_id = $1"#, [id])
            let saved = try await ann.post(location, ["name": "welcome", "base": "1", "subject": "Welcome {{name}}", "text": "Hello",
                                                      "_csrf": try await ann.csrf(location)])
            #expect(saved.status == 303, "\(saved.status) \(saved.text.prefix(400))")
            let page = try await ann.request(.get, location)
            #expect(page.text.contains("id=\"template-version\">2<"), "the latest version shows: \(page.text.prefix(1500))")
            #expect(page.text.contains("spring-launch"), "the tags the form does not edit are kept in version 2")
            #expect(!page.text.contains("&lt;p&gt;Hello"), "a field left blank is left out of the new version")
            #expect(try await ann.request(.get, location + "?version=1").text.contains("Hi {{name}}"), "version 1 stays readable")
            let preview = try await ann.post(location + "/preview", ["version": "1", "variables": #"{"name":"<b>Ann</b>"}"#, "_csrf": try await ann.csrf(location)])
            #expect(preview.status == 200 && preview.text.contains("Hi &lt;b&gt;Ann&lt;/b&gt;"), "\(preview.text.prefix(2000))")
            #expect(preview.text.contains("id=\"template-version\">1<"), "the page stays on the version previewed")
            let lacking = try await ann.post(location + "/preview", ["variables": "{}", "_csrf": try await ann.csrf(location)])
            #expect(lacking.status == 422 && lacking.text.contains("no variable &quot;name&quot;"), "\(lacking.status) \(lacking.text.prefix(3000))")

            let config = try await ann.sendConfig()
            let batch = try await ann.post("/batches", ["name": "from a template", "sendConfigId": config, "templateId": id, "_csrf": try await ann.csrf("/batches")])
            let batchPage = try #require(batch.headers[.location], "\(batch.status) \(batch.text.prefix(600))")
            let shown = try await ann.request(.get, batchPage).text
            #expect(shown.contains("/templates/\(id)?version=2"), "the batch shows the version it was made from: \(shown.prefix(3000))")
            #expect(!shown.contains("batch-attachments"), "a batch without files lists none")
            // Its files, as the API would name them (the dashboard lists them; uploads go through the API).
            let batchID = batchPage.replacingOccurrences(of: "/batches/", with: "")
            _ = try harness.connection().query("""
                WITH f AS (INSERT INTO attachments (user_id, filename, content_type, size, sha256, content)
                           SELECT user_id, '<q3> report.pdf', 'application/pdf', 1536, 'x', '\\x00' FROM batches WHERE id = $1 RETURNING id)
                INSERT INTO batch_attachments (batch_id, position, attachment_id) SELECT $1, 0, id FROM f
                """, [batchID])
            let withFiles = try await ann.request(.get, batchPage).text
            #expect(withFiles.contains("<li>&lt;q3&gt; report.pdf (application/pdf, 1.5 KB)</li>"), "\(withFiles.prefix(3000))")
            #expect(!withFiles.contains("batch-history"), "a batch that never failed over shows no switches")
            // A switch the sender recorded (`BatchEvents`): the page lists it, escaped.
            _ = try harness.connection().query("""
                INSERT INTO batch_events (batch_id, type, from_send_config, to_send_config, detail)
                SELECT id, 'failover', send_config_id, send_config_id, '<b>resend</b> is not answering' FROM batches WHERE id = $1
                """, [batchID])
            let switched = try await ann.request(.get, batchPage).text
            #expect(switched.contains("<strong>failover</strong>: &lt;b&gt;resend&lt;/b&gt; is not answering</li>"), "\(switched.prefix(3000))")
            #expect(try await ann.post(location + "/delete", ["_csrf": try await ann.csrf(location)]).status == 303)
            #expect(try await ann.request(.get, location).status == 404)
        }
    }

    @Test("the session cookie is HttpOnly, SameSite=Lax, scoped to / with a lifetime; behind a trusted TLS proxy both cookies are Secure and __Host-, and a bare-named one is not believed; signing out ends it")
    func cookieFlags() async throws {
        let harness = try APIHarness { $0.trustedProxies = [IPNetwork("127.0.0.0/8")!] }
        try await Self.run(harness) { client in
            let plain = try await Browser.registered(client, "ann@example.com")
            let cookie = try #require(plain.setCookies.first { $0.hasPrefix("bs_session=") })
            let flags = Set(cookie.split(separator: ";").dropFirst().map { $0.trimmingCharacters(in: .whitespaces) })
            #expect(flags.contains("HttpOnly") && flags.contains("SameSite=Lax") && flags.contains("Path=/"), "\(cookie)")
            #expect(flags.contains("Max-Age=43200") && !flags.contains("Secure"), "\(cookie)")
            let secure = Browser(client: client, extra: [HTTPField.Name("X-Forwarded-Proto")!: "https"])
            let token = try await secure.csrf("/login")
            // __Host-: Secure, Path=/ and no Domain, or a browser drops the cookie.
            let hostOnly = { (cookie: String) in
                let flags = Set(cookie.split(separator: ";").dropFirst().map { $0.trimmingCharacters(in: .whitespaces) })
                return flags.contains("Secure") && flags.contains("Path=/") && !flags.contains { $0.lowercased().hasPrefix("domain") }
            }
            #expect(secure.setCookies.contains { $0.hasPrefix("__Host-bs_csrf=") && hostOnly($0) }, "\(secure.setCookies)")
            let signedIn = try await secure.post("/login", ["email": "ann@example.com", "password": Self.password, "_csrf": token])
            #expect(signedIn.status == 303)
            #expect(secure.setCookies.contains { $0.hasPrefix("__Host-bs_session=") && hostOnly($0) }, "\(secure.setCookies)")
            #expect(try await secure.request(.get, "/batches").status == 200)
            // Over TLS a session only comes in the __Host- cookie, which no subdomain or plain-http answer can set.
            let planted = Browser(client: client, extra: [HTTPField.Name("X-Forwarded-Proto")!: "https"])
            let valid = try #require(plain.cookies.withLock { $0["bs_session"] })
            planted.cookies.withLock { $0["bs_session"] = valid }
            #expect(try await planted.request(.get, "/batches").headers[.location] == "/login")
            // Signing out deletes the session: the old cookie no longer opens a page.
            let stolen = try #require(plain.cookies.withLock { $0["bs_session"] })
            #expect(try await plain.post("/logout", ["_csrf": try await plain.csrf("/batches")]).status == 303)
            let replay = Browser(client: client)
            replay.cookies.withLock { $0["bs_session"] = stolen }
            #expect(try await replay.request(.get, "/batches").headers[.location] == "/login")
        }
    }

    @Test("a wrong password and an unknown address get the same answer; the sixth try for an address in 15 minutes is refused 429, even with the right password")
    func signInThrottle() async throws {
        let harness = try APIHarness()
        try await Self.run(harness) { client in
            _ = try await Browser.registered(client, "ann@example.com")
            let guesser = Browser(client: client)
            let token = try await guesser.csrf("/login")
            let unknown = try await guesser.post("/login", ["email": "nobody@example.com", "password": "whatever it is", "_csrf": token])
            var answers: [Browser.Answer] = []
            for guess in 1...5 {
                answers.append(try await guesser.post("/login", ["email": "ann@example.com", "password": "guess \(guess)", "_csrf": token]))
            }
            #expect(answers.allSatisfy { $0.status == 401 }, "\(answers.map(\.status))")
            #expect(Self.message(unknown.text) == Self.message(answers[0].text) && Self.message(unknown.text).contains("email or password is wrong"))
            let blocked = try await guesser.post("/login", ["email": "ann@example.com", "password": Self.password, "_csrf": token])
            #expect(blocked.status == 429 && blocked.text.contains("Too many sign-in attempts"), "\(blocked.status)")
            #expect(!blocked.setCookies.contains { $0.hasPrefix("bs_session=") })
            // Another address is its own count.
            _ = try await Browser.registered(client, "bob@example.com")
            let bob = try await guesser.post("/login", ["email": "bob@example.com", "password": Self.password, "_csrf": token])
            #expect(bob.status == 303)
        }
    }

    @Test("behind a trusted proxy each forwarded client has its own sign-in limit; an untrusted peer's X-Forwarded-For is ignored")
    func clientBehindProxy() async throws {
        let forwarded = HTTPField.Name("X-Forwarded-For")!
        let trusted = try APIHarness { $0.trustedProxies = [IPNetwork("127.0.0.0/8")!] }
        try await Self.run(trusted) { client in
            let first = Browser(client: client, extra: [forwarded: "203.0.113.1"])
            let second = Browser(client: client, extra: [forwarded: "203.0.113.2"])
            // Registrations with a bad email count against the client's limit without the cost of a password hash.
            let answers = try await Self.badRegistrations(first, LoginThrottle.perClient + 1)
            #expect(answers.dropLast().allSatisfy { $0 == 422 } && answers.last == 429, "\(answers)")
            #expect(try await Self.badRegistrations(second, 1) == [422], "another client behind the same proxy shares no limit")
        }
        let untrusted = try APIHarness { $0.trustedProxies = [IPNetwork("10.0.0.0/8")!] }
        try await Self.run(untrusted) { client in
            let browser = Browser(client: client)
            var answers: [Int] = []
            for attempt in 0...LoginThrottle.perClient {
                answers += try await Self.badRegistrations(browser, 1, headers: [forwarded: "198.51.100.\(attempt)"])
            }
            #expect(answers.dropLast().allSatisfy { $0 == 422 } && answers.last == 429, "a peer's own X-Forwarded-For is not believed: \(answers)")
        }
    }

    @Test("a guesser's failed tries for a victim's email lock out the guesser's client, not the victim's; later tries for that email are slowed")
    func noLockoutImposed() async throws {
        let forwarded = HTTPField.Name("X-Forwarded-For")!
        let harness = try APIHarness { $0.trustedProxies = [IPNetwork("127.0.0.0/8")!] }
        try await Self.run(harness) { client in
            _ = try await Browser.registered(client, "ann@example.com")
            let guesser = Browser(client: client, extra: [forwarded: "198.51.100.66"])
            let token = try await guesser.csrf("/login")
            var answers: [Int] = []
            for guess in 1...LoginThrottle.perAddressAndClient {
                answers.append(try await guesser.post("/login", ["email": "ann@example.com", "password": "guess \(guess)", "_csrf": token]).status)
            }
            #expect(answers.allSatisfy { $0 == 401 }, "\(answers)")
            let refused = try await guesser.post("/login", ["email": "ann@example.com", "password": Self.password, "_csrf": token])
            #expect(refused.status == 429, "the guesser's client is limited: \(refused.status)")
            let victim = Browser(client: client, extra: [forwarded: "203.0.113.10"])
            let victimToken = try await victim.csrf("/login")
            let started = ContinuousClock.now
            let signedIn = try await victim.post("/login", ["email": "ann@example.com", "password": Self.password, "_csrf": victimToken])
            #expect(signedIn.status == 303, "the victim signs in from another client: \(signedIn.status)")
            #expect(ContinuousClock.now - started >= .seconds(1), "after 5 failures from anywhere, each try for the email waits")
        }
        #expect(LoginThrottle.delay(failures: 4) == .zero && LoginThrottle.delay(failures: 5) == .seconds(1))
        #expect(LoginThrottle.delay(failures: 7) == .seconds(4) && LoginThrottle.delay(failures: 500) == .seconds(8))
    }

    @Test("tries for one email sent in parallel from one client are not checked in parallel: while one waits its delay the others get 429 with Retry-After; meanwhile the victim's right password from another client signs in")
    func parallelTriesSerialized() async throws {
        let forwarded = HTTPField.Name("X-Forwarded-For")!
        let harness = try APIHarness { $0.trustedProxies = [IPNetwork("127.0.0.0/8")!] }
        try await Self.run(harness) { client in
            _ = try await Browser.registered(client, "ann@example.com")
            // Enough failures from anywhere that every later try for the email waits 2 s (LoginThrottle.delay).
            for guess in 1...LoginThrottle.failuresBeforeDelay + 1 {
                let guesser = Browser(client: client, extra: [forwarded: "198.51.100.\(guess)"])
                let token = try await guesser.csrf("/login")
                let answer = try await guesser.post("/login", ["email": "ann@example.com", "password": "guess \(guess)", "_csrf": token])
                #expect(answer.status == 401)
            }
            // The test client speaks over one connection in turn; parallel tries need connections of their own.
            let port = client.port
            var forms: [(cookie: String, body: String, client: String)] = []
            // Four guesses from one place, and the victim's right password from another, all at once.
            for index in 1...5 {
                let address = index <= 4 ? "203.0.113.1" : "192.0.2.77"
                let browser = Browser(client: client, extra: [forwarded: address])
                let token = try await browser.csrf("/login")
                let cookie = browser.cookies.withLock { $0.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
                let password = index <= 4 ? "parallel+guess" : Self.password.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
                forms.append((cookie, "email=ann%40example.com&password=\(password)&_csrf=\(token)", address))
            }
            // A client each: one client keeps few connections per host, and would send the tries in turn.
            let clients = forms.map { _ in CurlHTTPClient() }
            defer { for http in clients { http.shutdown() } }
            let results = await withTaskGroup(of: HTTPResult.self) { group in
                for (form, http) in zip(forms, clients) {
                    group.addTask {
                        await http.execute(PreparedRequest(method: "POST", url: "http://127.0.0.1:\(port)/login",
                                                           headers: [KeyValue("cookie", form.cookie), KeyValue("x-forwarded-for", form.client),
                                                                     KeyValue("content-type", "application/x-www-form-urlencoded")],
                                                           body: Array(form.body.utf8), messageIndices: []), timeoutMs: 20_000)
                    }
                }
                var results: [HTTPResult] = []
                for await result in group { results.append(result) }
                return results
            }
            let statuses = results.map(\.status).sorted()
            // 303: the victim, whom the guesser's held gate does not touch; 401: the one guess checked.
            #expect(statuses == [303, 401, 429, 429, 429], "one guess checked, the others refused while it waits, the victim in: \(statuses)")
            #expect(results.filter { $0.status == 429 }.allSatisfy { Int($0.headers.first(named: "retry-after") ?? "") ?? 0 >= 1 },
                    "\(results.map { $0.headers.first(named: "retry-after") ?? "none" })")
            // And once the gate passes, from yet another client too.
            let victim = Browser(client: client, extra: [forwarded: "192.0.2.78"])
            let victimToken = try await victim.csrf("/login")
            let signedIn = try await victim.post("/login", ["email": "ann@example.com", "password": Self.password, "_csrf": victimToken])
            #expect(signedIn.status == 303, "the victim signs in once the gate passes: \(signedIn.status)")
        }
    }

    @Test("IPv6 clients behind a trusted proxy count by their /64: a new address in the same /64 is the same client, another /64 is another")
    func ipv6ClientsByPrefix() async throws {
        let forwarded = HTTPField.Name("X-Forwarded-For")!
        let harness = try APIHarness { $0.trustedProxies = [IPNetwork("127.0.0.0/8")!] }
        try await Self.run(harness) { client in
            let browser = Browser(client: client)
            var answers: [Int] = []
            for attempt in 0...LoginThrottle.perClient {
                // Spelled every way an address in 2001:db8:1:2::/64 can be, each try from another one of them.
                let address = attempt.isMultiple(of: 2) ? "2001:db8:1:2::\(String(attempt + 1, radix: 16))"
                    : "2001:0DB8:0001:0002:0000:0000:0000:\(String(attempt + 1, radix: 16))"
                answers += try await Self.badRegistrations(browser, 1, headers: [forwarded: address])
            }
            #expect(answers.dropLast().allSatisfy { $0 == 422 } && answers.last == 429, "one /64 is one client: \(answers)")
            #expect(try await Self.badRegistrations(browser, 1, headers: [forwarded: "2001:db8:1:3::1"]) == [422], "another /64 is another client")
        }
        #expect(ClientAddress.limitKey("2001:DB8:1:2:aaaa:bbbb:cccc:dddd") == "2001:db8:1:2::/64")
        #expect(ClientAddress.limitKey("2001:0db8:0000:0002::1") == "2001:db8:0:2::/64")
        #expect(ClientAddress.limitKey("::ffff:198.51.100.7") == "198.51.100.7" && ClientAddress.limitKey("198.51.100.7") == "198.51.100.7")
        #expect(ClientAddress.limitKey("local") == "local")
    }

    @Test("a trusted proxy that sends no X-Forwarded-For is warned of once: every client behind it shares its address")
    func proxyWithoutForwardedFor() {
        let records = LogRecords()
        let logger = Logger(label: "test") { _ in records }
        let clients = ClientAddress(trustedProxies: [IPNetwork("10.0.0.0/8")!], logger: logger)
        #expect(clients.client(peer: "10.1.1.1", headers: [:]) == "10.1.1.1")
        #expect(clients.client(peer: "10.1.1.2", headers: [:]) == "10.1.1.2")
        #expect(clients.client(peer: "10.1.1.1", headers: [HTTPField.Name("X-Forwarded-For")!: "203.0.113.9"]) == "203.0.113.9")
        #expect(clients.client(peer: "192.0.2.1", headers: [:]) == "192.0.2.1")
        let warnings = records.messages.withLock { $0 }
        #expect(warnings.count == 1 && warnings.first?.contains("X-Forwarded-For") == true, "\(warnings)")
    }

    @Test("a count of 1e19, -1e300 or an infinity on a page is held to ±2^53, NaN or no number is 0: never a trap")
    func hugeCountsOnPages() {
        #expect(JSONValue.number(1e19).count == 1 << 53)
        #expect(JSONValue.number(-1e300).count == -(1 << 53))
        #expect(JSONValue.number(.infinity).count == 1 << 53)
        #expect(JSONValue.number(.nan).count == 0 && JSONValue.string("7").count == 0)
        #expect(JSONValue.number(42.9).count == 42)
    }

    /// Posts `count` registrations whose email is not an address; their statuses.
    static func badRegistrations(_ browser: Browser, _ count: Int, headers: HTTPFields = [:]) async throws -> [Int] {
        let token = try await browser.csrf("/register")
        var statuses: [Int] = []
        for _ in 0..<count {
            let body = "email=not-an-address&password=whatever+it+is&_csrf=\(token)"
            statuses.append(try await browser.request(.post, "/register", body: body, contentType: "application/x-www-form-urlencoded",
                                                      headers: headers).status)
        }
        return statuses
    }

    @Test("every page, error page, redirect and asset carries the CSP (frame-ancestors 'none'), X-Frame-Options, nosniff and Referrer-Policy")
    func securityHeaders() async throws {
        let harness = try APIHarness()
        let dashboard = WebDashboard(server: harness.server, host: "127.0.0.1", port: 0)
        let router = try await dashboard.router()
        let routes = router.routes.map { ($0.method, $0.path.description) }
        #expect(routes.count >= 20, "\(routes)")
        do {
            try await ServedApplication.serve(Application(router: router)) { client in
                let ann = try await Browser.registered(client, "ann@example.com")
                let config = try await ann.sendConfig()
                let token = try await ann.csrf("/batches")
                let created = try await ann.post("/batches", ["name": "b", "sendConfigId": config, "subject": "Hi", "text": "Hello",
                                                             "from": "news@example.com", "_csrf": token])
                let batch = try #require(created.headers[.location]).replacingOccurrences(of: "/batches/", with: "")
                _ = try await ann.request(.post, "/batches/\(batch)/recipients", body: "email\nx@example.com\n", contentType: "text/csv",
                                          headers: [HTTPField.Name("X-CSRF-Token")!: token])
                let anonymous = Browser(client: client)
                var checked = 0
                for (method, template) in routes {
                    let path = template.replacingOccurrences(of: "{name}", with: "app.js").replacingOccurrences(of: "{position}", with: "1")
                        .replacingOccurrences(of: "{id}", with: template.hasPrefix("/send-configs") ? config : batch)
                    // Signed in and not; posts without their CSRF token (refused 403 with an error page).
                    for browser in [ann, anonymous] {
                        let answer = try await browser.request(method, path)
                        Self.expectSecurityHeaders(answer, "\(method) \(path) (\(answer.status))")
                        checked += 1
                    }
                }
                for path in ["/no-such-page", "/assets/app.css", "/batches/00000000-0000-0000-0000-000000000000"] {
                    Self.expectSecurityHeaders(try await ann.request(.get, path), path)
                }
                #expect(checked == routes.count * 2)
            }
        } catch {
            try await harness.finish()
            throw error
        }
        try await harness.finish()
    }

    static func expectSecurityHeaders(_ answer: Browser.Answer, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let policy = answer.headers[HTTPField.Name("Content-Security-Policy")!] ?? ""
        #expect(policy.contains("frame-ancestors 'none'") && policy.contains("script-src 'self'") && policy.contains("default-src 'none'"),
                "\(what): CSP \(policy)", sourceLocation: sourceLocation)
        #expect(answer.headers[HTTPField.Name("X-Frame-Options")!] == "DENY", "\(what)", sourceLocation: sourceLocation)
        #expect(answer.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff", "\(what)", sourceLocation: sourceLocation)
        #expect(answer.headers[HTTPField.Name("Referrer-Policy")!] == "same-origin", "\(what)", sourceLocation: sourceLocation)
    }

    @Test("custom-webhook headers are shown masked on the send-config page; saving it with the field blank keeps them")
    func headersMaskedOnPage() async throws {
        let harness = try APIHarness()
        try await Self.run(harness) { client in
            let ann = try await Browser.registered(client, "ann@example.com")
            let token = try await ann.csrf("/send-configs")
            let created = try await ann.post("/send-configs", [
                "_csrf": token, "provider": "custom-webhook", "name": "hook", "cred.url": "http://127.0.0.1:6200/hook",
                "cred.secret": "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3", "cred.headers": "Authorization=Bearer sk_live_0123456789abcdefWXYZ",
            ])
            #expect(created.status == 303, "\(created.text.prefix(600))")
            let list = try await ann.request(.get, "/send-configs")
            let start = try #require(list.text.range(of: "href=\"/send-configs/"))
            let id = String(list.text[start.upperBound...].prefix { $0 != "\"" })
            let page = try await ann.request(.get, "/send-configs/\(id)")
            #expect(page.status == 200 && page.text.contains("Authorization") && page.text.contains("••••WXYZ"), "\(page.text)")
            #expect(!page.text.contains("sk_live") && !list.text.contains("sk_live"))
            let saved = try await ann.post("/send-configs/\(id)", ["_csrf": token, "name": "renamed", "cred.headers": ""])
            #expect(saved.status == 303, "\(saved.text.prefix(600))")
            #expect(try SendConfigTests.storedHeaders(harness)?["Authorization"] == .string("Bearer sk_live_0123456789abcdefWXYZ"))
        }
    }

    @Test("a password set from the CLI's store signs in; the old sessions of that user end")
    func passwordFromStore() async throws {
        let harness = try APIHarness()
        _ = try harness.key(for: "cli@example.com")
        try await Self.run(harness) { client in
            let earlier = try await Browser.registered(client, "web@example.com")
            try AccountService.setPassword(try harness.connection(), email: "web@example.com", passwordHash: try #require(PasswordHash.hash("another password")))
            #expect(try await earlier.request(.get, "/batches").headers[.location] == "/login")
            let browser = Browser(client: client)
            let token = try await browser.csrf("/login")
            #expect(try await browser.post("/login", ["email": "cli@example.com", "password": Self.password, "_csrf": token]).status == 401)
            try AccountService.setPassword(try harness.connection(), email: "cli@example.com", passwordHash: try #require(PasswordHash.hash(Self.password)))
            #expect(try await browser.post("/login", ["email": "cli@example.com", "password": Self.password, "_csrf": token]).status == 303)
        }
    }

    static func message(_ html: String) -> String {
        guard let start = html.range(of: "role=\"alert\">"), let end = html[start.upperBound...].range(of: "<") else { return "" }
        return String(html[start.upperBound..<end.lowerBound])
    }

    static func run(_ harness: APIHarness, _ body: @Sendable (TestHTTPClient) async throws -> Void) async throws {
        do {
            let application = try await WebDashboard(server: harness.server, host: "127.0.0.1", port: 0).application()
            try await ServedApplication.serve(application) { client in try await body(client) }
        } catch {
            try await harness.finish()
            throw error
        }
        try await harness.finish()
    }
}


/// A browser as far as the server can tell: it keeps cookies and sends them, and reads the CSRF token a page carries.
final class Browser: Sendable {
    let client: TestHTTPClient
    let cookies = Mutex<[String: String]>([:])
    let lastSetCookies = Mutex<[String]>([])
    let extra: HTTPFields

    init(client: TestHTTPClient, extra: HTTPFields = [:]) {
        self.client = client
        self.extra = extra
    }

    struct Answer: Sendable {
        var status: Int
        var headers: HTTPFields
        var text: String
        var setCookies: [String]
    }

    var setCookies: [String] { lastSetCookies.withLock { $0 } }

    func request(_ method: HTTPRequest.Method, _ uri: String, body: String? = nil, contentType: String? = nil,
                 headers more: HTTPFields = [:]) async throws -> Answer {
        var headers = extra
        for field in more { headers.append(field) }
        let jar = cookies.withLock { $0 }
        if !jar.isEmpty { headers[.cookie] = jar.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
        if let contentType { headers[.contentType] = contentType }
        let answer = try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { response in
            Answer(status: Int(response.status.code), headers: response.headers, text: String(buffer: response.body),
                   setCookies: response.headers[values: .setCookie])
        }
        lastSetCookies.withLock { $0 = answer.setCookies }
        cookies.withLock { jar in
            for cookie in answer.setCookies {
                let pair = cookie.split(separator: ";")[0].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let name = String(pair[0]), value = pair.count > 1 ? String(pair[1]) : ""
                if value.isEmpty || cookie.contains("Max-Age=0") { jar[name] = nil } else { jar[name] = value }
            }
        }
        return answer
    }

    func post(_ uri: String, _ form: [String: String]) async throws -> Answer {
        let body = form.map { "\(Self.escape($0.key))=\(Self.escape($0.value))" }.joined(separator: "&")
        return try await request(.post, uri, body: body, contentType: "application/x-www-form-urlencoded")
    }

    /// The CSRF token of the page at `path`.
    func csrf(_ path: String) async throws -> String {
        let page = try await request(.get, path)
        guard let start = page.text.range(of: "<meta name=\"csrf-token\" content=\""),
              let end = page.text[start.upperBound...].firstIndex(of: "\"") else { throw HarnessError("no CSRF token on \(path): \(page.status)") }
        return String(page.text[start.upperBound..<end])
    }

    /// A new account, signed in.
    static func registered(_ client: TestHTTPClient, _ email: String) async throws -> Browser {
        let browser = Browser(client: client)
        let token = try await browser.csrf("/register")
        let answer = try await browser.post("/register", ["email": email, "password": WebDashboardTests.password, "_csrf": token])
        guard answer.status == 303, browser.cookies.withLock({ $0["bs_session"] }) != nil else {
            throw HarnessError("registering \(email): \(answer.status) \(answer.text.prefix(500))")
        }
        return browser
    }

    /// A Resend send-config made through the dashboard's form; its id.
    func sendConfig() async throws -> String {
        let token = try await csrf("/send-configs")
        let answer = try await post("/send-configs", ["_csrf": token, "provider": "resend", "name": "main",
                                                      "cred.api_key": "re_test_0123456789abcdef", "from": "news@example.com"])
        guard answer.status == 303 else { throw HarnessError("send-config: \(answer.status) \(answer.text.prefix(800))") }
        let list = try await request(.get, "/send-configs")
        guard let start = list.text.range(of: "href=\"/send-configs/"), let end = list.text[start.upperBound...].firstIndex(of: "\"") else {
            throw HarnessError("no send-config listed")
        }
        return String(list.text[start.upperBound..<end])
    }

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
    }
}

/// The messages a logger was given, for tests that expect a warning.
final class LogRecords: LogHandler, Sendable {
    let messages = Mutex<[String]>([])
    var metadata: Logger.Metadata { get { [:] } set {} }
    var logLevel: Logger.Level { get { .trace } set {} }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? { get { nil } set {} }

    func log(event: LogEvent) {
        messages.withLock { $0.append(event.message.description) }
    }
}
