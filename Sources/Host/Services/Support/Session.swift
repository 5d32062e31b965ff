/// A signed-in browser: its user, and the CSRF token every form and upload of its pages carries.
package struct Session: Sendable {
    package var userID: String
    package var email: String
    package var csrfToken: String
}
