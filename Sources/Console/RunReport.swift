import AirlockCore
import Foundation

/// `airlock trace report`: one run as a single self-contained HTML file, to carry out of the
/// enclave or attach to a ticket. Its style sheet is inline and allowed by its hash; it has no
/// script, no image, no link to anything: its own Content-Security-Policy forbids every fetch, so
/// opening it anywhere reaches nothing. Events open with `<details>`, without a script.
public enum RunReport {
    /// The report's Content-Security-Policy: nothing may load, but the inline style sheet whose
    /// SHA-256 it names.
    public static var contentSecurityPolicy: String {
        let digest = Data(SHA256.hash(Array(ConsoleAssets.css.utf8))).base64EncodedString()
        return "default-src 'none'; style-src 'sha256-\(digest)'; img-src 'none'; form-action 'none'; base-uri 'none'"
    }

    /// The whole document.
    /// - Parameters:
    ///   - view: the run.
    ///   - generatedAt: when the report was written (ns since 1970).
    ///   - generator: what wrote it (`airlock 0.x`), shown at the foot.
    public static func document(_ view: RunView, generatedAt: Int64, generator: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta http-equiv="Content-Security-Policy" content="\(contentSecurityPolicy)">
        <meta name="referrer" content="no-referrer">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Airlock run \(HTML.escape(view.summary.runID))</title>
        <style>\(ConsoleAssets.css)</style>
        </head>
        <body>
        <main>
        \(RunHTML.section(view))
        <p class="muted">Report written \(HTML.time(generatedAt)) by \(HTML.escape(generator)). The verification above was made when the report was written, from the trace database; the file itself is not signed: verify the run again with <code>airlock trace verify</code> (or an export with <code>airlock trace import</code>) where it matters.</p>
        </main>
        </body>
        </html>

        """
    }
}
