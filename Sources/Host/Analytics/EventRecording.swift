import Domain

/// Where a role hands its analytics events: the process's event writer (buffered, never blocking the
/// caller), or a list in a unit test.
public protocol EventRecording: Sendable {
    func record(_ events: [AnalyticsEvent])
}

extension EventWriter: EventRecording {}
