/// The parts of a JSON document a reader keeps. A plugin that reads two members of a provider's answer need
/// not build every other member as strings and dictionaries: `JSONValue.parse(_:keeping:)` checks the whole
/// document as strictly as `parse` does, and builds only what the shape names.
public indirect enum JSONShape: Sendable, Equatable {
    /// The value as it is, whole.
    case all
    /// Of an object, only these members (each kept as its own shape); of an array, each element so shaped; a
    /// scalar is kept as it is.
    case members([String: JSONShape])

    /// `value` cut to this shape: what `JSONValue.parse(_:keeping:)` gives for the same document.
    public func apply(to value: JSONValue) -> JSONValue {
        guard case .members(let kept) = self else { return value }
        switch value {
        case .object(let members):
            return .object(members.reduce(into: [:]) { result, member in
                if let shape = kept[member.key] { result[member.key] = shape.apply(to: member.value) }
            })
        case .array(let elements):
            return .array(elements.map(apply))
        default:
            return value
        }
    }
}
