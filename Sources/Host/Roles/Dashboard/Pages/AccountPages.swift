import Domain
import HTTPTypes
import HostCore
import Hummingbird
import Messaging
import NIOPosix
import Persistence
import ProviderCrypto
import SenderAPI
import Services

/// Register, sign in and sign out. A wrong password and an unknown address get the same answer after the
/// same work (a hash is checked either way); `LoginThrottle` limits tries per client and per email and client,
/// and slows an email's tries after failures from anywhere, one try at a time per email.
struct AccountPages {
    let renderer: PageRenderer
    let accounts: AccountService
    let sessions: SessionService
    let threads: NIOThreadPool
    let throttle: LoginThrottle
    static let wrong = "The email or password is wrong."
    static let minimumPassword = 10
    /// Checked for addresses with no password, so that they take as long as a wrong password does.
    static let decoy = PasswordHash.hash("decoy password, never anyone's") ?? ""

    func register(on router: Router<WebContext>) {
        router.get("login") { _, context in try await self.form("login", context: context) }
        router.get("register") { _, context in try await self.form("register", context: context) }
        router.post("login", use: signIn)
        router.post("register", use: registerUser)
        router.post("logout", use: signOut)
    }

    private func form(_ template: String, context: WebContext) async throws -> Response {
        if context.session != nil { return PageRenderer.redirect("/batches") }
        return renderer.page(template, ["title": template == "login" ? "Sign in" : "Create an account"], context: context)
    }

    private func refuse(_ template: String, _ message: String, email: String, context: WebContext,
                        status: HTTPResponse.Status) -> Response {
        renderer.page(template, ["title": template == "login" ? "Sign in" : "Create an account", "error": message, "email": email],
                      context: context, status: status)
    }

    @Sendable func signIn(_ request: Request, context: WebContext) async throws -> Response {
        let email = (context.form.text("email") ?? "").lowercased(), password = context.form["password"] ?? ""
        if let wait = try await throttle.admit(email: email.isEmpty ? nil : email, client: context.clientAddress) {
            return refuse("login", "Too many sign-in attempts. Try again in \(Self.minutes(wait)).", email: email, context: context,
                          status: .tooManyRequests)
        }
        guard !email.isEmpty, !password.isEmpty else {
            return refuse("login", "Enter your email and password.", email: email, context: context, status: .unprocessableContent)
        }
        let delay = try await throttle.delay(email: email)
        let hold: LoginThrottle.Hold?
        switch try await throttle.turn(email: email, client: context.clientAddress, delay: delay) {
        case .go(let taken):
            hold = taken
        case .refuse(let seconds):
            // Another try for this email from this client is under way: this one is not checked, whatever its password.
            var refused = refuse("login", "Too many sign-in attempts. Try again in \(Self.minutes(seconds)).", email: email, context: context,
                                 status: .tooManyRequests)
            refused.headers[.retryAfter] = String(seconds)
            return refused
        }
        let matched: (userID: String, matches: Bool)?
        do {
            if delay > .zero { try await Task.sleep(for: delay) }
            let found = try await accounts.credentials(email: email)
            let hash = found?.hash ?? Self.decoy
            let matches = try await threads.runIfActive { PasswordHash.verify(password, encoded: hash) }
            matched = found.map { ($0.userID, matches && $0.hash != nil) }
            if matched?.matches != true { try await throttle.failed(email: email) }
        } catch {
            try? await throttle.done(hold)
            throw error
        }
        try await throttle.done(hold)
        guard let found = matched, found.matches else {
            return refuse("login", Self.wrong, email: email, context: context, status: .unauthorized)
        }
        return try await start(userID: found.userID, context: context)
    }

    @Sendable func registerUser(_ request: Request, context: WebContext) async throws -> Response {
        let email = (context.form.text("email") ?? "").lowercased(), password = context.form["password"] ?? ""
        if let wait = try await throttle.admit(email: nil, client: context.clientAddress) {
            return refuse("register", "Too many attempts from here. Try again in \(Self.minutes(wait)).", email: email, context: context,
                          status: .tooManyRequests)
        }
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard email.utf8.count <= 320, parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !email.contains(where: \.isWhitespace) else {
            return refuse("register", "email: enter an address such as you@example.com.", email: email, context: context,
                          status: .unprocessableContent)
        }
        guard password.count >= Self.minimumPassword, password.utf8.count <= 1_024 else {
            return refuse("register", "password: use at least \(Self.minimumPassword) characters (and at most 1024 bytes).", email: email,
                          context: context, status: .unprocessableContent)
        }
        guard let hash = try await threads.runIfActive({ PasswordHash.hash(password) }) else {
            return refuse("register", "The password could not be hashed just now; try again.", email: email, context: context,
                          status: .serviceUnavailable)
        }
        guard let userID = try await accounts.register(email: email, passwordHash: hash) else {
            return refuse("register", "An account with this email exists already: sign in instead.", email: email, context: context,
                          status: .conflict)
        }
        return try await start(userID: userID, context: context)
    }

    @Sendable func signOut(_ request: Request, context: WebContext) async throws -> Response {
        if let token = request.cookies[SessionMiddleware.sessionCookie(secure: context.secure)]?.value {
            try await sessions.delete(token: token)
        }
        var response = PageRenderer.redirect("/login")
        response.headers.append(HTTPField(name: .setCookie, value: SessionMiddleware.cookie(SessionMiddleware.sessionCookie(secure: context.secure), "", secure: context.secure, maxAge: 0)))
        return response
    }

    private func start(userID: String, context: WebContext) async throws -> Response {
        let token = try await sessions.create(userID: userID)
        var response = PageRenderer.redirect("/batches")
        response.headers.append(HTTPField(name: .setCookie, value: SessionMiddleware.cookie(
            SessionMiddleware.sessionCookie(secure: context.secure), token, secure: context.secure, maxAge: SessionService.lifetimeHours * 3_600)))
        return response
    }

    static func minutes(_ seconds: Int) -> String {
        seconds < 90 ? "\(seconds) seconds" : "\((seconds + 59) / 60) minutes"
    }
}
