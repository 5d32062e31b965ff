/// Sleeps, returning early (without throwing) when the task is cancelled.
public func pause(milliseconds: Int64) async {
    try? await Task.sleep(for: .milliseconds(milliseconds))
}
