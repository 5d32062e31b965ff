import Domain
/// PostgreSQL's text form of a one-dimensional array (`{"a","b",NULL}`), so
/// that thousands of rows travel as a few `$n::type[]` parameters of one
/// statement and `unnest` turns them back into rows.
public enum PostgresArray {
    public static func literal(_ values: [String?]) -> String {
        var text = "{"
        text.reserveCapacity(values.count * 16 + 2)
        for (index, value) in values.enumerated() {
            if index > 0 { text.append(",") }
            guard let value else { text.append("NULL"); continue }
            text.append("\"")
            for character in value.unicodeScalars {
                if character == "\"" || character == "\\" { text.append("\\") }
                text.unicodeScalars.append(character)
            }
            text.append("\"")
        }
        text.append("}")
        return text
    }

    public static func literal(_ values: [Int]) -> String {
        "{" + values.map(String.init).joined(separator: ",") + "}"
    }
}
