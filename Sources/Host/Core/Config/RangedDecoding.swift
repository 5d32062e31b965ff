extension KeyedDecodingContainer {
    /// The key's number, or `fallback` when the key is absent; a number outside `range` is refused
    /// naming the key, so a config file's mistake is found at start-up, not at the first batch.
    func decode<T: BinaryInteger & Decodable>(_ key: Key, in range: ClosedRange<T>, default fallback: T) throws -> T {
        guard let given = try decodeIfPresent(T.self, forKey: key) else { return fallback }
        guard range.contains(given) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self,
                                                   debugDescription: "must be from \(range.lowerBound) to \(range.upperBound), not \(given)")
        }
        return given
    }
}
