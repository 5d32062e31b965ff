/// Resend's and SES's rule for tag names and values: ASCII letters, digits,
/// `_` and `-`, 1–256 characters.
enum TagText {
    static func isValid(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 256 && text.utf8.allSatisfy {
            ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 95 || $0 == 45
        }
    }
}
