import Foundation
import TestSupport
import Testing

/// The suite as an outside plugin author meets it: every single-defect variant of the C
/// example in Tests/Fixtures/broken-plugin-corpus.json compiles cleanly against the header
/// and fails the suite, run on the group its class belongs to, on the check that names its
/// class; the passing variants conform to the whole suite. Serialized: a group's checks
/// already use every core.
@Suite("Broken-plugin corpus", .serialized)
struct BrokenPluginCorpusTests {
    struct Edit: Decodable, Sendable {
        var find: String
        var replace: String
    }

    struct Variant: Decodable, Sendable, CustomTestStringConvertible {
        var name: String
        var `class`: Int?
        var edits: [Edit]
        var expect: String?
        /// Text the failure's detail (its "expected:" and "got:" lines) must hold, telling the class apart
        /// from another failing the same check: a trap, a hang, a wrong ok.
        var expectDetail: String?
        var testDescription: String { "\(self.class.map { "class \($0): " } ?? "")\(name)" }
    }

    struct Corpus: Decodable {
        var broken: [Variant]
        var passing: [Variant]
    }

    static let corpus: Corpus = {
        let url = TestPaths.packageRoot.appendingPathComponent("Tests/Fixtures/broken-plugin-corpus.json")
        guard let data = try? Data(contentsOf: url), let corpus = try? JSONDecoder().decode(Corpus.self, from: data) else {
            return Corpus(broken: [], passing: [])
        }
        return corpus
    }()

    /// Classes 1 to 10 are issue 16's; 11 to 16 issue 30's hostile values (trap, hang, a wrong ok),
    /// careless borrowed content, line ends, and state shared by threads released together.
    static let classes = 1...16

    @Test("the corpus has at least 50 variants, at least two for each class, at least ten for issue 30's")
    func corpusCoversEveryClass() {
        #expect(Self.corpus.broken.count >= 50)
        for defectClass in Self.classes {
            #expect(Self.corpus.broken.filter { $0.class == defectClass }.count >= 2, "class \(defectClass)")
        }
        #expect(Self.corpus.broken.filter { ($0.class ?? 0) >= 11 }.count >= 10)
        #expect(!Self.corpus.passing.isEmpty)
    }

    @Test("a broken variant fails the suite, run on the group its class belongs to, on the check that names its class", arguments: corpus.broken)
    func brokenVariantFails(_ variant: Variant) async throws {
        let expected = try #require(variant.expect)
        let group = try #require(Self.group(of: expected), "\(variant.name): expect names no group: \(expected)")
        let result = try await Self.suite(try await Self.build(variant), only: group, hangSeconds: Self.hangSeconds)
        let failures = Self.failures(in: result.stdout)
        #expect(result.status == 1, "exit \(result.status): \(result.stderr.suffix(500))")
        // `"…".contains("")` is false: no expectDetail means any detail.
        let detail = variant.expectDetail ?? ""
        #expect(failures.contains { $0.line.hasPrefix(expected) && (detail.isEmpty || $0.detail.contains(detail)) },
                "no \"\(expected)\" with \"\(detail)\" among:\n\(failures.prefix(12).map { $0.line + "\n" + $0.detail }.joined(separator: "\n"))")
        #expect(result.stdout.contains("DOES NOT CONFORM"))
    }

    @Test("no broken variant is meant for the fuzz group, which the corpus runs on fewer inputs")
    func noVariantNeedsTheFullFuzz() {
        for variant in Self.corpus.broken { #expect(!(variant.expect ?? "").hasPrefix("FAIL  fuzz"), "\(variant.name)") }
    }

    @Test("every variant of issue 30's classes names what tells its class apart in the failure's detail")
    func newClassesNameTheirDetail() {
        for variant in Self.corpus.broken where (variant.class ?? 0) >= 11 {
            #expect(!(variant.expectDetail ?? "").isEmpty, "\(variant.name)")
        }
    }

    /// Each FAIL line of the summary with its detail: the indented lines after it (docs/conformance.md).
    static func failures(in stdout: String) -> [(line: String, detail: String)] {
        var failures: [(line: String, detail: String)] = []
        var inFailure = false
        for line in stdout.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("FAIL") {
                failures.append((String(line), ""))
                inFailure = true
            } else if inFailure, line.hasPrefix("      ") {
                failures[failures.count - 1].detail += line.trimmingCharacters(in: .whitespaces) + "\n"
            } else {
                inFailure = false
            }
        }
        return failures
    }

    @Test("a fixtures folder whose numbers would overflow the suite's own arithmetic is bad usage naming the field",
          arguments: [("\"now_ms\": 1700000000000", "\"now_ms\": 9223372036854775807", "now_ms"),
                      ("\"tolerance_seconds\": 300", "\"tolerance_seconds\": 9223372036854775807", "webhook.tolerance_seconds")])
    func hostileManifest(_ find: String, _ replace: String, _ field: String) async throws {
        let echo = TestPaths.packageRoot.appendingPathComponent("Sources/Providers/Echo/Fixtures")
        let folder = TestPaths.scratch.appendingPathComponent("hostile-manifest-\(field)")
        try? FileManager.default.removeItem(at: folder)
        try FileManager.default.copyItem(at: echo, to: folder)
        let manifest = folder.appendingPathComponent("fixtures.json")
        let text = try String(contentsOf: manifest, encoding: .utf8)
        try #require(text.contains(find), "the Echo fixtures no longer say \(find)")
        try text.replacingOccurrences(of: find, with: replace).write(to: manifest, atomically: true, encoding: .utf8)
        let result = try await TestEnvironment.run(TestEnvironment.conformance, [TestEnvironment.swiftEcho, "--fixtures", folder.path])
        #expect(result.status == 2, "exit \(result.status): \(result.stdout.split(separator: "\n").filter { $0.hasPrefix("FAIL") || $0.hasPrefix("      ") }.prefix(6))")
        #expect(result.stderr.contains("fixtures.json: \(field): must be"), "\(result.stderr)")
    }

    @Test("a correct variant conforms", arguments: corpus.passing)
    func passingVariantConforms(_ variant: Variant) async throws {
        let result = try await Self.suite(try await Self.build(variant))
        #expect(result.status == 0, "\(result.stdout.split(separator: "\n").filter { $0.hasPrefix("FAIL") || $0.hasPrefix("      ") }.prefix(12))")
        #expect(result.stdout.contains(": CONFORMS"))
    }

    /// The fuzz group on a tenth of its default inputs: no variant's class is the fuzz group's (a test
    /// above holds that), and the built-in plugins get the full default run in `scripts/test`.
    static let fuzzIterations = "200"

    /// A hung check is stopped after this many seconds instead of the default 20: the hang variants are
    /// still told apart by the stop, and the checks that do finish take milliseconds on the C example.
    static let hangSeconds = "5"

    /// The group a summary line names: "FAIL  webhooks: parsing: …" is the webhooks group's.
    static func group(of line: String) -> String? {
        guard line.hasPrefix("FAIL  "), let colon = line.firstIndex(of: ":") else { return nil }
        let group = line[line.index(line.startIndex, offsetBy: 6)..<colon]
        return group.isEmpty || group.contains(" ") ? nil : String(group)
    }

    /// The suite on `plugin`: every group with the default hang limit, or (for a broken variant, whose
    /// defect one group is there to catch) only `only`; groups are independent runs (docs/conformance.md),
    /// so the others add time and no verdict on the defect.
    static func suite(_ plugin: String, only: String? = nil, hangSeconds: String? = nil) async throws -> TestEnvironment.RunResult {
        let fixtures = TestPaths.packageRoot.appendingPathComponent("Sources/Providers/Echo/Fixtures").path
        return try await TestEnvironment.run(TestEnvironment.conformance, [plugin, "--fixtures", fixtures, "--fuzz-iterations", fuzzIterations]
            + (only.map { ["--only", $0] } ?? []) + (hangSeconds.map { ["--timeout", $0] } ?? []))
    }

    /// The C example with the variant's edits, compiled as scripts/build compiles it (warnings are errors).
    static func build(_ variant: Variant) async throws -> String {
        let root = TestPaths.packageRoot
        var source = try String(contentsOf: root.appendingPathComponent("examples/c-echo/echo_plugin.c"), encoding: .utf8)
        for edit in variant.edits {
            let occurrences = source.components(separatedBy: edit.find).count - 1
            guard occurrences == 1 else {
                throw TestSupportError("\(variant.name): the edit's find text occurs \(occurrences) times: \(edit.find.prefix(80))")
            }
            source = source.replacingOccurrences(of: edit.find, with: edit.replace)
        }
        let stem = "corpus-" + String(variant.name.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) ? Character($0) : "-" })
        let file = TestPaths.scratch.appendingPathComponent(stem + ".c")
        let library = TestPaths.scratch.appendingPathComponent("lib" + stem + ".so").path
        try source.write(to: file, atomically: true, encoding: .utf8)
        let result = try await TestEnvironment.run("/usr/bin/cc", [
            "-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-O2", "-shared", "-fPIC",
            "-I", root.appendingPathComponent("Sources/ProviderSDK/ABI/include").path,
            "-Wl,--version-script=" + root.appendingPathComponent("Sources/ProviderSDK/plugin-exports.map").path,
            file.path, "-lcrypto", "-o", library,
        ])
        guard result.status == 0 else { throw TestSupportError("cc failed for \(variant.name): \(result.stderr)") }
        return library
    }
}
