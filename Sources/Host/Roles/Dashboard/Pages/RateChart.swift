import Foundation

/// A line chart of rates over time as SVG, drawn on the server: no script, no library. Each series has
/// its own dash pattern and marker shape as well as its colour, and its name at the line's end, so it
/// reads without colour; the page's table holds the same figures.
struct RateChart {
    struct Series {
        var name: String
        var values: [Double?]
    }

    static let styles: [(colour: String, dash: String, marker: String)] = [
        ("#1b6e3a", "", "circle"), ("#b3261e", "6 3", "square"), ("#7a4fa0", "2 3", "triangle"),
        ("#0b57d0", "10 4 2 4", "diamond"), ("#8a5a00", "1 2", "cross"),
    ]

    var labels: [String]
    var series: [Series]
    let width = 720.0, height = 300.0, left = 48.0, right = 110.0, top = 16.0, bottom = 40.0

    /// The chart; values are 0–1 and drawn as percentages on a 0–100 % axis.
    var svg: String {
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        func x(_ index: Int) -> Double { left + (labels.count <= 1 ? plotWidth / 2 : plotWidth * Double(index) / Double(labels.count - 1)) }
        func y(_ value: Double) -> Double { top + plotHeight * (1 - min(max(value, 0), 1)) }
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(Int(width)) \(Int(height))" role="img" aria-labelledby="chart-title" class="chart">
            <title id="chart-title">Rates per \(labels.count > 1 ? "period" : "day"): \(series.map(\.name).joined(separator: ", "))</title>
            """
        for tick in stride(from: 0.0, through: 1.0, by: 0.25) {
            out += "<line x1=\"\(f(left))\" x2=\"\(f(width - right))\" y1=\"\(f(y(tick)))\" y2=\"\(f(y(tick)))\" stroke=\"#ddd\"/>"
            out += "<text x=\"\(f(left - 6))\" y=\"\(f(y(tick) + 4))\" text-anchor=\"end\" font-size=\"11\">\(Int(tick * 100))%</text>"
        }
        let step = max(1, labels.count / 8)
        for (index, label) in labels.enumerated() where index % step == 0 {
            out += "<text x=\"\(f(x(index)))\" y=\"\(f(height - bottom + 16))\" text-anchor=\"middle\" font-size=\"11\">\(escape(label))</text>"
        }
        for (number, line) in series.enumerated() {
            let style = Self.styles[number % Self.styles.count]
            var path = "", last: (Double, Double)?
            for (index, value) in line.values.enumerated() {
                guard let value else { continue }
                let point = (x(index), y(value))
                path += (path.isEmpty ? "M" : " L") + "\(f(point.0)) \(f(point.1))"
                out += marker(style.marker, at: point, colour: style.colour, title: "\(line.name) \(labels[index]): \(String(format: "%.1f", value * 100))%")
                last = point
            }
            if !path.isEmpty {
                out += "<path d=\"\(path)\" fill=\"none\" stroke=\"\(style.colour)\" stroke-width=\"2\"" +
                    (style.dash.isEmpty ? "" : " stroke-dasharray=\"\(style.dash)\"") + "/>"
            }
            if let last {
                out += "<text x=\"\(f(last.0 + 8))\" y=\"\(f(last.1 + 4))\" font-size=\"11\" fill=\"\(style.colour)\">\(escape(line.name))</text>"
            }
        }
        out += "<line x1=\"\(f(left))\" x2=\"\(f(left))\" y1=\"\(f(top))\" y2=\"\(f(height - bottom))\" stroke=\"#555\"/>"
        return out + "</svg>"
    }

    private func marker(_ shape: String, at point: (Double, Double), colour: String, title: String) -> String {
        let (x, y) = point
        let body = switch shape {
        case "square": "<rect x=\"\(f(x - 3.5))\" y=\"\(f(y - 3.5))\" width=\"7\" height=\"7\" fill=\"\(colour)\">"
        case "triangle": "<polygon points=\"\(f(x)),\(f(y - 4.5)) \(f(x + 4.5)),\(f(y + 3.5)) \(f(x - 4.5)),\(f(y + 3.5))\" fill=\"\(colour)\">"
        case "diamond": "<polygon points=\"\(f(x)),\(f(y - 5)) \(f(x + 5)),\(f(y)) \(f(x)),\(f(y + 5)) \(f(x - 5)),\(f(y))\" fill=\"white\" stroke=\"\(colour)\" stroke-width=\"2\">"
        case "cross": "<path d=\"M\(f(x - 4)) \(f(y - 4)) L\(f(x + 4)) \(f(y + 4)) M\(f(x + 4)) \(f(y - 4)) L\(f(x - 4)) \(f(y + 4))\" stroke=\"\(colour)\" stroke-width=\"2\">"
        default: "<circle cx=\"\(f(x))\" cy=\"\(f(y))\" r=\"4\" fill=\"\(colour)\">"
        }
        let close = switch shape {
        case "square": "</rect>"
        case "triangle", "diamond": "</polygon>"
        case "cross": "</path>"
        default: "</circle>"
        }
        return body + "<title>\(escape(title))</title>" + close
    }

    private func f(_ value: Double) -> String { String(format: "%.1f", value) }

    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }
}
