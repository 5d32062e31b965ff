/// A signed-in browser: its user, and the CSRF token every form and upload of its pages carries.
struct Session: Sendable {
    var userID: String
    var email: String
    var csrfToken: String
}
