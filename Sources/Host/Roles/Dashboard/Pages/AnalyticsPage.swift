import Domain
import Foundation
import Hummingbird
import ProviderModel

/// Delivery, bounce, complaint, open and click rates over a chosen period, for every send-config or one:
/// the period's totals, a chart per day (per hour for a day or two) and the same figures as a table.
struct AnalyticsPage {
    let renderer: PageRenderer
    let api: SignedInAPI
    static let periods = [1, 2, 7, 30, 90]
    static let rates = [("delivery", "Delivered"), ("bounce", "Bounced"), ("complaint", "Complained"), ("open", "Opened"), ("click", "Clicked")]

    func register(on router: Router<WebContext>) {
        router.get("analytics", use: show)
    }

    @Sendable func show(_ request: Request, context: WebContext) async throws -> Response {
        _ = try context.user()
        let query = request.uri.queryParameters
        let days = query.get("days").flatMap(Int.init).flatMap { Self.periods.contains($0) ? $0 : nil } ?? 7
        let config = PageValues.id(query.get("sendConfigId"))
        let hourly = days <= 2
        let now = Date()
        let to = ISO8601.extendedUTC(milliseconds: Int64(now.timeIntervalSince1970) * 1_000)
        let from = ISO8601.extendedUTC(milliseconds: (Int64(now.timeIntervalSince1970) - Int64(days) * 86_400 + (hourly ? 0 : 86_400)) * 1_000)
        var filter = "from=\(PageValues.query(from))&to=\(PageValues.query(to))"
        if let config { filter += "&sendConfigId=\(config)" }
        let overview = try await api.call(.get, "/api/analytics/overview?\(filter)", context: context)
        let series = try await api.call(.get, "/api/analytics/timeseries?interval=\(hourly ? "hour" : "day")&\(filter)", context: context)
        let configs = try await api.call(.get, "/api/send-configs", context: context)
        var page: [String: Any] = [
            "title": "Analytics", "section": "analytics",
            "periods": Self.periods.map { ["days": $0, "selected": $0 == days] },
            "configs": configs.data.map { ["id": $0["id"]?.display ?? "", "name": $0["name"]?.display ?? "", "selected": $0["id"]?.display == config] },
        ]
        guard overview.ok, series.ok else {
            page["error"] = overview.ok ? series.problem : overview.problem
            return renderer.page("analytics", page, context: context, status: .ok)
        }
        let counts = overview.json["counts"] ?? .null
        page["totals"] = [AnalyticsEventType.sent, .delivered, .bounced, .complained, .opened, .clicked].map(\.rawValue)
            .map { ["name": $0, "value": counts[$0]?.count ?? 0] }
        page["rates"] = Self.rates.map { ["name": $0.1, "value": PageValues.rate(overview.json["rates"]?[$0.0])] }
        let buckets = series.json["buckets"]?.arrayValue ?? []
        let labels = buckets.map { bucket -> String in
            let start = bucket["start"]?.display ?? ""
            return hourly ? String(start.dropFirst(11).prefix(5)) : String(start.dropFirst(5).prefix(5))
        }
        let chart = RateChart(labels: labels, series: Self.rates.map { rate in
            RateChart.Series(name: rate.1, values: buckets.map { $0["rates"]?[rate.0]?.number })
        })
        page["chart"] = chart.svg
        page["rows"] = zip(labels, buckets).map { label, bucket in
            ["label": label, AnalyticsEventType.sent.rawValue: bucket["counts"]?[AnalyticsEventType.sent.rawValue]?.count ?? 0,
             "cells": Self.rates.map { ["value": PageValues.rate(bucket["rates"]?[$0.0])] }]
        }
        page["rateNames"] = Self.rates.map { ["name": $0.1] }
        return renderer.page("analytics", page, context: context)
    }
}
