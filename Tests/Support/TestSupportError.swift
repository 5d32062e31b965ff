/// What a test's fixture could not do, and what to do about it: the message is for the person running the tests.
public struct TestSupportError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
