import Testing

@testable import Sandbox

/// The HTTP corridor's request parsing and path rules, on their own (the corridor itself is
/// tested through the real sandbox in CorridorTests).
@Suite struct CorridorRequestTests {
    static let rules = HTTPRules(methods: ["GET", "POST"], paths: ["/api/tickets", "/api/tickets/*", "/files/**"])

    static func parse(_ head: String) -> Result<CorridorRequest, CorridorRequest.Refusal> {
        CorridorRequest.parse(Array(head.utf8), rules: rules)
    }

    @Test func anAllowedRequestIsRewrittenToCloseAfterIt() throws {
        let request = try Self.parse(
            "POST /api/tickets?x=1 HTTP/1.1\r\nHost: tickets.internal\r\nContent-Length: 8\r\nConnection: keep-alive\r\n\r\n"
        ).get()
        #expect(request.method == "POST" && request.path == "/api/tickets" && request.bodyLength == 8)
        #expect(
            String(decoding: request.forwardedHead, as: UTF8.self)
                == "POST /api/tickets?x=1 HTTP/1.1\r\nHost: tickets.internal\r\nContent-Length: 8\r\nConnection: close\r\n\r\n"
        )
    }

    @Test func everythingAmbiguousOrUndeclaredIsRefusedWithItsStatus() {
        func status(_ head: String) -> Int? {
            if case .failure(let refusal) = Self.parse(head) { return refusal.status }
            return nil
        }
        #expect(status("DELETE /api/tickets/1 HTTP/1.1\r\n\r\n") == 403)
        #expect(status("GET /admin HTTP/1.1\r\n\r\n") == 403)
        #expect(status("GET /api/tickets/1/2 HTTP/1.1\r\n\r\n") == 403)
        #expect(status("GET /api/tickets/%2e%2e/x HTTP/1.1\r\n\r\n") == 400)
        #expect(status("GET /api/tickets/../admin HTTP/1.1\r\n\r\n") == 400)
        #expect(status("GET http://elsewhere/api/tickets HTTP/1.1\r\n\r\n") == 400)
        #expect(status("GET /api/tickets HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n") == 411)
        #expect(status("GET /api/tickets HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n") == 400)
        #expect(status("GET /api/tickets HTTP/1.1\r\n folded\r\n\r\n") == 400)
        #expect(status("get /api/tickets HTTP/1.1\r\n\r\n") == 400)
        #expect(status("GET /files/a/b/c HTTP/1.1\r\n\r\n") == nil)
        #expect(status("GET /api/tickets/7 HTTP/1.0\r\n\r\n") == nil)
    }

    @Test func pathPatternsMatchSegmentBySegment() {
        #expect(
            HTTPRules.matches("/api/*", "/api/x") && !HTTPRules.matches("/api/*", "/api/")
                && !HTTPRules.matches("/api/*", "/api"))
        #expect(HTTPRules.matches("/files/**", "/files/a/b") && !HTTPRules.matches("/files/**", "/files"))
        #expect(HTTPRules.matches("/", "/") && !HTTPRules.matches("/", "/x"))
        #expect(HTTPRules.isPattern("/api/*/notes") && HTTPRules.isPattern("/files/**"))
        #expect(!HTTPRules.isPattern("api") && !HTTPRules.isPattern("/a/../b") && !HTTPRules.isPattern("/a/**/b"))
        #expect(!HTTPRules.isPattern("/a%2f") && !HTTPRules.isPattern("/a?b") && !HTTPRules.isPattern("/a*"))
    }

    @Test func theStatusOfAResponseIsReadFromItsFirstLine() {
        #expect(CorridorRequest.status(of: Array("HTTP/1.1 204 No Content\r\n".utf8)) == 204)
        #expect(CorridorRequest.status(of: Array("SSH-2.0-OpenSSH".utf8)) == nil)
    }
}
