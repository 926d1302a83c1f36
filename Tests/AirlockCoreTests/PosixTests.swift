import AirlockCore
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Posix: errno in words, EINTR retried, in one place")
struct PosixTests {
    @Test("an errno is its text and its name; a code without a name says its number")
    func describe() {
        #expect(Posix.describe(EACCES) == "Permission denied (EACCES)")
        #expect(Posix.describe(ENOENT) == "No such file or directory (ENOENT)")
        #expect(Posix.describe(EDOM).hasSuffix("(errno \(EDOM))"))
        #expect(SystemError(EPERM).description == "Operation not permitted (EPERM)")
        #expect(SystemError(EACCES).isAccessDenied && !SystemError(EPERM).isAccessDenied)
    }

    @Test("a call interrupted by a signal is made again; any other failure is returned")
    func retrying() {
        var calls = 0
        let result = Posix.retrying { () -> Int32 in
            calls += 1
            if calls < 3 {
                errno = EINTR
                return -1
            }
            return 5
        }
        #expect(result == 5 && calls == 3)
        calls = 0
        let failed = Posix.retrying { () -> Int in
            calls += 1
            errno = EBADF
            return -1
        }
        #expect(failed == -1 && calls == 1 && errno == EBADF)
    }

    @Test("a real failing call keeps its errno as the cause")
    func realCall() {
        let fd = Posix.retrying { open("/nonexistent/airlock-posix-test", O_RDONLY) }
        #expect(fd == -1)
        #expect(SystemError().code == ENOENT)
    }
}
