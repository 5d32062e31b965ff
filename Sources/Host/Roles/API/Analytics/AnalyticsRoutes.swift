import Analytics
import Domain
import Foundation
import HostCore
import Hummingbird
import Services
import Messaging
import Persistence
import ProviderInstances
import ProviderModel

/// `GET /api/analytics/overview`, `GET /api/analytics/timeseries`, `GET /api/batches/{id}/stats`:
/// what the caller's events add up to, read from ClickHouse's summed views.
struct AnalyticsRoutes {
    let analytics: AnalyticsService

    /// The longest period each interval may cover, so that a series stays a page, not a flood.
    static let longestSeconds: [AnalyticsStore.Interval: Int64] = [.hour: 31 * 86_400, .day: 400 * 86_400]
    static let defaultPeriodSeconds: Int64 = 7 * 86_400
    /// Overviews may cover anything from the first hour of 1970 to the last of 2105 (ClickHouse's DateTime).
    static let latestSeconds: Int64 = Int64(UInt32.max) - 3_600

    func register(on group: RouterGroup<APIContext>) {
        group.get("analytics/overview", use: overview)
        group.get("analytics/timeseries", use: timeseries)
        group.get("batches/{id}/stats", use: batchStats)
    }

    @Sendable func overview(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        try analytics.requireConfigured()
        let period = try Period(request, interval: nil)
        let counts = try await analytics.overview(userID: caller.userID, fromSec: period.fromSec, toSec: period.toSec,
                                                  sendConfigID: period.sendConfigID)
        var object = period.members
        object["counts"] = Self.counts(counts)
        object["rates"] = Self.rates(counts)
        return JSONResponse.make(.ok, .object(object))
    }

    @Sendable func timeseries(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        try analytics.requireConfigured()
        let text = request.uri.queryParameters.get("interval") ?? "day"
        guard let interval = AnalyticsStore.Interval(rawValue: text) else {
            throw APIError.invalid("query.interval", "must be hour or day")
        }
        let period = try Period(request, interval: interval)
        let series = try await analytics.timeseries(userID: caller.userID, interval: interval, fromSec: period.fromSec, toSec: period.toSec,
                                                    sendConfigID: period.sendConfigID)
        let step: Int64 = interval == .hour ? 3_600 : 86_400
        var buckets: [JSONValue] = []
        for start in stride(from: period.fromSec, to: period.toSec, by: Int(step)) {
            let counts = series[start] ?? AnalyticsStore.Counts()
            buckets.append(.object(["start": .string(ISO8601.extendedUTC(milliseconds: start * 1_000)), "counts": Self.counts(counts),
                                    "rates": Self.rates(counts)]))
        }
        var object = period.members
        object["interval"] = .string(interval.rawValue)
        object["buckets"] = .array(buckets)
        return JSONResponse.make(.ok, .object(object))
    }

    @Sendable func batchStats(_ request: Request, context: APIContext) async throws -> Response {
        let caller = try context.caller()
        let id = try RequestInput.id(context, what: "batch")
        let counts = try await analytics.batch(userID: caller.userID, batchID: id)
        return JSONResponse.make(.ok, .object(["batchId": .string(id), "counts": Self.counts(counts), "rates": Self.rates(counts)]))
    }

    /// Every event type's count, in the vocabulary's order, with bounces also split by class.
    static func counts(_ counts: AnalyticsStore.Counts) -> JSONValue {
        var object: [String: JSONValue] = [:]
        for type in AnalyticsEventType.allCases { object[type.rawValue] = .number(Double(counts[type])) }
        object["bouncedHard"] = .number(Double(counts.hardBounces))
        object["bouncedSoft"] = .number(Double(counts.softBounces))
        return .object(object)
    }

    /// Bounces, complaints and deliveries per message sent; opens and clicks per message delivered; null without a denominator.
    static func rates(_ counts: AnalyticsStore.Counts) -> JSONValue {
        func rate(_ part: Int, _ whole: Int) -> JSONValue { whole == 0 ? .null : .number((Double(part) / Double(whole) * 10_000).rounded() / 10_000) }
        let sent = counts[.sent], delivered = counts[.delivered]
        return .object(["delivery": rate(delivered, sent), "bounce": rate(counts[.bounced], sent), "complaint": rate(counts[.complained], sent),
                        "open": rate(counts[.opened], delivered), "click": rate(counts[.clicked], delivered)])
    }

    /// `from`, `to` (ISO 8601, to the hour: `from` rounds down, `to` up; UTC days for the daily series) and `sendConfigId`.
    struct Period {
        var fromSec: Int64
        var toSec: Int64
        var sendConfigID: String?

        init(_ request: Request, interval: AnalyticsStore.Interval?) throws(APIError) {
            let query = request.uri.queryParameters
            let step: Int64 = interval == .day ? 86_400 : 3_600
            func seconds(_ name: String) throws(APIError) -> Int64? {
                guard let text = query.get(name) else { return nil }
                guard let ms = ISO8601.milliseconds(String(text)) else {
                    throw APIError.invalid("query.\(name)", "must be an ISO 8601 time such as 2026-12-01T09:00:00Z")
                }
                guard (0...AnalyticsRoutes.latestSeconds * 1_000).contains(ms) else {
                    throw APIError.invalid("query.\(name)", "must be between 1970-01-01T00:00:00Z and 2106-01-01T00:00:00Z")
                }
                return ms / 1_000
            }
            let now = Int64(Date().timeIntervalSince1970)
            let to = try seconds("to") ?? now
            let from = try seconds("from") ?? max(0, to - AnalyticsRoutes.defaultPeriodSeconds)
            toSec = (to + step - 1) / step * step
            fromSec = from / step * step
            guard fromSec < toSec else { throw APIError.invalid("query.from", "must be before to") }
            if let interval, let longest = AnalyticsRoutes.longestSeconds[interval], toSec - fromSec > longest {
                throw APIError.invalid("query.from", "a \(interval.rawValue) series covers at most \(longest / 86_400) days")
            }
            if let text = query.get("sendConfigId") {
                guard let id = UUID(uuidString: String(text))?.uuidString.lowercased() else {
                    throw APIError.invalid("query.sendConfigId", "must be the id of one of your send-configs")
                }
                sendConfigID = id
            }
        }

        var members: [String: JSONValue] {
            ["from": .string(ISO8601.extendedUTC(milliseconds: fromSec * 1_000)), "to": .string(ISO8601.extendedUTC(milliseconds: toSec * 1_000)),
             "sendConfigId": sendConfigID.map(JSONValue.string) ?? .null]
        }
    }
}
