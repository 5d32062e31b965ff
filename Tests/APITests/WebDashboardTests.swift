import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import HostCore
import NIOCore
import ProviderCrypto
import ProviderModel
import SenderAPI
import Storage
import Synchronization
import Testing
import WebDashboard

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
            for path in ["/batches/\(batch)/send", "/batches/\(batch)/cancel"] {
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
        }
    }

    @Test("the session cookie is HttpOnly, SameSite=Lax, scoped to / with a lifetime, Secure behind a trusted TLS proxy; signing out ends it")
    func cookieFlags() async throws {
        let harness = try APIHarness { $0.trustedProxies = [IPNetwork("127.0.0.0/8")!] }
        try await Self.run(harness, live: true) { client in
            let plain = try await Browser.registered(client, "ann@example.com")
            let cookie = try #require(plain.setCookies.first { $0.hasPrefix("bs_session=") })
            let flags = Set(cookie.split(separator: ";").dropFirst().map { $0.trimmingCharacters(in: .whitespaces) })
            #expect(flags.contains("HttpOnly") && flags.contains("SameSite=Lax") && flags.contains("Path=/"), "\(cookie)")
            #expect(flags.contains("Max-Age=43200") && !flags.contains("Secure"), "\(cookie)")
            let secure = Browser(client: client, extra: [HTTPField.Name("X-Forwarded-Proto")!: "https"])
            let token = try await secure.csrf("/login")
            #expect(secure.setCookies.contains { $0.hasPrefix("bs_csrf=") && $0.contains("Secure") })
            let signedIn = try await secure.post("/login", ["email": "ann@example.com", "password": Self.password, "_csrf": token])
            #expect(signedIn.status == 303)
            #expect(secure.setCookies.contains { $0.hasPrefix("bs_session=") && $0.hasSuffix("; Secure") }, "\(secure.setCookies)")
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

    @Test("a password set from the CLI's store signs in; the old sessions of that user end")
    func passwordFromStore() async throws {
        let harness = try APIHarness()
        _ = try harness.key(for: "cli@example.com")
        try await Self.run(harness) { client in
            let earlier = try await Browser.registered(client, "web@example.com")
            try AccountStore.setPassword(try harness.connection(), email: "web@example.com", passwordHash: try #require(PasswordHash.hash("another password")))
            #expect(try await earlier.request(.get, "/batches").headers[.location] == "/login")
            let browser = Browser(client: client)
            let token = try await browser.csrf("/login")
            #expect(try await browser.post("/login", ["email": "cli@example.com", "password": Self.password, "_csrf": token]).status == 401)
            try AccountStore.setPassword(try harness.connection(), email: "cli@example.com", passwordHash: try #require(PasswordHash.hash(Self.password)))
            #expect(try await browser.post("/login", ["email": "cli@example.com", "password": Self.password, "_csrf": token]).status == 303)
        }
    }

    static func message(_ html: String) -> String {
        guard let start = html.range(of: "role=\"alert\">"), let end = html[start.upperBound...].range(of: "<") else { return "" }
        return String(html[start.upperBound..<end.lowerBound])
    }

    static func run(_ harness: APIHarness, live: Bool = false, _ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        do {
            let application = try await WebDashboard(server: harness.server, host: "127.0.0.1", port: 0).application()
            try await application.test(live ? .live : .router) { client in try await body(client) }
        } catch {
            try await harness.finish()
            throw error
        }
        try await harness.finish()
    }
}


/// A browser as far as the server can tell: it keeps cookies and sends them, and reads the CSRF token a page carries.
final class Browser: Sendable {
    let client: any TestClientProtocol
    let cookies = Mutex<[String: String]>([:])
    let lastSetCookies = Mutex<[String]>([])
    let extra: HTTPFields

    init(client: any TestClientProtocol, extra: HTTPFields = [:]) {
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
    static func registered(_ client: any TestClientProtocol, _ email: String) async throws -> Browser {
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
