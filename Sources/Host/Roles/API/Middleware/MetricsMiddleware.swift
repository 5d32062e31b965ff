import HostCore
import Hummingbird
import Prometheus

/// Counts requests and times them by route (the matched pattern, so that ids
/// do not explode the label set), method and status, for `GET /metrics`.
struct MetricsMiddleware: RouterMiddleware {
    typealias Context = APIContext
    let registry: PrometheusCollectorRegistry

    static let buckets: [Duration] = [.milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                                      .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5),
                                      .seconds(5), .seconds(10), .seconds(30)]

    // Immutable strings, only not declared Sendable by swift-prometheus.
    nonisolated(unsafe) static let requests = MetricNameDescriptor(namespace: "http", metricName: "requests", unitName: "total",
                                               helpText: "HTTP requests answered")
    nonisolated(unsafe) static let duration = MetricNameDescriptor(namespace: "http", metricName: "request_duration", unitName: "seconds",
                                               helpText: "Time to answer an HTTP request (until the response head)")

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let labels = [("route", context.endpointPath ?? "unmatched"), ("method", request.method.rawValue),
                      ("status", String(response.status.code))]
        registry.makeCounter(descriptor: Self.requests, labels: labels).increment()
        registry.makeDurationHistogram(descriptor: Self.duration, labels: labels, buckets: Self.buckets)
            .recordNanoseconds((ContinuousClock.now - start).nanoseconds)
        return response
    }
}
