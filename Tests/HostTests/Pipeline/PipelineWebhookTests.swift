import Testing

/// The delivery pipeline's webhooks, dead letters, retries and provider outages end to end, beside
/// PipelineTests (the sends): the two suites run side by side, each a test at a time, since every test's
/// deployment is apart from the others' (PipelineHarness) and one batch per suite keeps two cores busy
/// without starving the tests that count seconds. The shared helpers are PipelineTests'.
@Suite("Delivery pipeline: webhooks, dead letters and outages", .serialized)
struct PipelineWebhookTests {}
